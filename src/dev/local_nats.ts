// The NATS server of the dev cluster: the JetStream nats-server already listening at the
// configured address, or one started here on 127.0.0.1 with its store under var/.
import { mkdirSync } from "node:fs";
import { DevError } from "./errors.js";
import { ManagedProcess } from "./managed_process.js";
import { probeNats } from "./nats_probe.js";

export interface NatsEndpoint {
  /** What the dev processes connect to. */
  url: string;
  host: string;
  port: number;
  /** The server dev started, or undefined when an existing one is used (and left running). */
  process?: ManagedProcess;
  /** How it was found or started, for the summary. */
  description: string;
}

export interface LocalNatsOptions {
  /** The first configured server URL (config nats.servers[0]). */
  url: string;
  storeDir: string;
  logFile: string;
  /** Resolves the nats-server binary (natsServerPath); only called when one must be started. */
  binary: () => string;
  /** How long the server may take to be ready, ms. */
  readyTimeoutMs: number;
  signal?: AbortSignal;
  /** nats-server configuration (the authorization include) a server started here loads. */
  serverConfig?: string;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0"]);

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port: u.port === "" ? 4222 : Number(u.port) };
}

function otherPortHint(port: number): string {
  return `MR_SERVERS=nats://127.0.0.1:${port === 4222 ? 4223 : port + 1} npm start (or --servers on mailreplica dev)`;
}

/**
 * Uses the JetStream nats-server at `url` if one answers; else, for a local address, starts
 * one on 127.0.0.1 at that port. Throws DevError when the port is taken by something else,
 * by a nats-server without JetStream, or when a non-local URL has nothing behind it.
 */
export async function ensureLocalNats(o: LocalNatsOptions): Promise<NatsEndpoint> {
  const { host, port } = hostPort(o.url);
  const found = await probeNats(host === "0.0.0.0" ? "127.0.0.1" : host, port);
  if (found.kind === "nats") {
    if (!found.jetstream) {
      throw new DevError(
        "DEV_NATS_NO_JETSTREAM",
        `a nats-server without JetStream listens on ${host}:${port}; restart it with -js, or run dev on another port: ${otherPortHint(port)}`,
      );
    }
    return {
      url: o.url,
      host,
      port,
      description: `the nats-server ${found.version} (${found.serverName}) already listening there; dev did not start it and leaves it running`,
    };
  }
  if (found.kind === "other") {
    throw new DevError(
      "DEV_PORT_TAKEN",
      `port ${port} on ${host} is taken by something that is not a nats-server (${found.detail}); stop it, or run dev on another port: ${otherPortHint(port)}`,
    );
  }
  if (!LOCAL_HOSTS.has(host)) {
    throw new DevError(
      "DEV_NATS_UNREACHABLE",
      `nothing answers at ${o.url} (${found.kind === "unreachable" ? found.detail : "connection refused"}), and dev starts a nats-server only on this machine; start that server, or use a local one: MR_SERVERS=nats://127.0.0.1:${port} npm start`,
    );
  }
  if (found.kind === "unreachable") {
    throw new DevError(
      "DEV_PORT_TAKEN",
      `port ${port} on ${host} does not answer properly (${found.detail}); free it, or run dev on another port: ${otherPortHint(port)}`,
    );
  }

  mkdirSync(o.storeDir, { recursive: true });
  const proc = ManagedProcess.start({
    name: "nats-server",
    command: o.binary(),
    args: [...(o.serverConfig ? ["-c", o.serverConfig] : []), "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", o.storeDir, "-n", "mailreplica-dev"],
    logFile: o.logFile,
  });
  try {
    await proc.waitReady(/Server is ready/, o.readyTimeoutMs, o.signal);
    // "ready" is logged once the client port listens; make sure JetStream is on there.
    const check = await probeNats("127.0.0.1", port);
    if (!o.signal?.aborted && (check.kind !== "nats" || !check.jetstream)) {
      throw new DevError("DEV_START_FAILED", `the nats-server started on port ${port} does not offer JetStream; see ${o.logFile}`);
    }
  } catch (e) {
    await proc.stop();
    throw e;
  }
  const url = `nats://127.0.0.1:${port}`;
  return { url, host: "127.0.0.1", port, process: proc, description: `started here (pid ${proc.pid}, JetStream store ${o.storeDir})` };
}
