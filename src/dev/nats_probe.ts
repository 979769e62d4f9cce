// What listens on a TCP port: nothing, a nats-server (with or without JetStream), or
// something else. A nats-server greets every client with `INFO {json}`, whose `jetstream`
// field says whether JetStream is on, so one read tells all, without a NATS client.
import { createConnection } from "node:net";

export type ProbeResult =
  | { kind: "free" }
  | { kind: "nats"; jetstream: boolean; version: string; serverName: string }
  | { kind: "other"; detail: string }
  | { kind: "unreachable"; detail: string };

/** Probes `host:port` within `timeoutMs` (default 2000). Never throws. */
export function probeNats(host: string, port: number, timeoutMs = 2_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let buf = "";
    const sock = createConnection({ host, port });
    const done = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done(
          sock.readyState === "open"
            ? { kind: "other", detail: `it accepts connections but sends no NATS greeting within ${timeoutMs} ms` }
            : { kind: "unreachable", detail: `no TCP connection within ${timeoutMs} ms` },
        ),
      timeoutMs,
    );
    sock.on("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? { kind: "free" } : { kind: "unreachable", detail: e.code ?? e.message }));
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const nl = buf.indexOf("\n");
      if (nl < 0 && buf.length < 64 * 1024) return;
      const line = (nl < 0 ? buf : buf.slice(0, nl)).trim();
      if (!line.startsWith("INFO ")) {
        done({ kind: "other", detail: `it answered ${JSON.stringify(line.slice(0, 60))}` });
        return;
      }
      try {
        const info = JSON.parse(line.slice(5)) as { jetstream?: unknown; version?: unknown; server_name?: unknown };
        done({ kind: "nats", jetstream: info.jetstream === true, version: String(info.version ?? "?"), serverName: String(info.server_name ?? "?") });
      } catch {
        done({ kind: "other", detail: "its greeting looks like NATS but is not valid JSON" });
      }
    });
    sock.on("end", () => done({ kind: "other", detail: "it closed the connection without a NATS greeting" }));
  });
}
