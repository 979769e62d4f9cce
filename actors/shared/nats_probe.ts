// Probing NATS servers from this process (for `test` and probeNats): both the supervisor and
// each mailstore probe, each only the servers it is configured with.
import { connect } from "@nats-io/transport-node";
import { AppError } from "../../src/jsonrpc/index.js";
import { natsConnectionOptions, type NatsAuth } from "../../src/natsauth/connect_options.js";
import type { NatsProbe } from "../../src/protocol/node_api.js";

export type { NatsProbe };

export function normalizeNatsUrl(url: string): string {
  return /^(nats|tls):\/\//.test(url) ? url : `nats://${url}`;
}

/** host:port of a NATS URL, host lowercased: one server whatever the scheme or spelling of the URL. */
function endpoint(url: string): string {
  try {
    const u = new URL(normalizeNatsUrl(url));
    return `${u.hostname.toLowerCase()}:${u.port || "4222"}`;
  } catch {
    return url.toLowerCase();
  }
}

/**
 * Probes reach only the NATS servers this process is configured with (nats.servers): `test`
 * naming any other host or port would let a caller use mailreplica to scan the network.
 * Refused (PROBE_NOT_CONFIGURED) naming the servers that are not configured and those that are.
 */
export function refuseUnconfiguredServers(asked: readonly string[], configured: readonly string[], who: string): void {
  const allowed = new Set(configured.map(endpoint));
  const other = asked.filter((s) => !allowed.has(endpoint(s)));
  if (other.length === 0) return;
  throw new AppError(
    "PROBE_NOT_CONFIGURED",
    `${who} only probes its configured NATS servers (nats.servers: ${configured.join(", ")}); not configured: ${other.slice(0, 5).join(", ")}${other.length > 5 ? ` and ${other.length - 5} more` : ""}; name configured servers only, or none; nothing was probed`,
    { servers: other.slice(0, 32), configured: [...configured] },
  );
}

export const PROBE_TIMEOUT_MS = 2_000;

/**
 * Connects to each URL on its own (no reconnect, no other server tried) with the process's
 * own credentials (a secured server refuses anonymous probes) and reports. Never throws.
 */
export function probeNatsServers(servers: readonly string[], timeoutMs = PROBE_TIMEOUT_MS, auth?: NatsAuth): Promise<NatsProbe[]> {
  return Promise.all(
    servers.map(async (raw): Promise<NatsProbe> => {
      const server = normalizeNatsUrl(raw);
      const started = Date.now();
      try {
        const nc = await connect({
          ...natsConnectionOptions(server, auth),
          timeout: timeoutMs,
          reconnect: false,
          maxReconnectAttempts: 0,
          name: "mailreplica probe",
        });
        try {
          await nc.flush();
          const info = nc.info;
          return {
            server,
            ok: true,
            ms: Date.now() - started,
            ...(info?.server_name ? { serverName: info.server_name } : {}),
            ...(info?.version ? { version: info.version } : {}),
            jetstream: info?.jetstream === true,
          };
        } finally {
          await nc.close().catch(() => {});
        }
      } catch (e) {
        const err = e as { code?: unknown; message?: string; name?: string };
        // The client's error class names the failure (ConnectionError, TimeoutError, ...).
        const code = typeof err.code === "string" && err.code !== "" ? err.code : err.name && err.name !== "Error" ? err.name : undefined;
        return { server, ok: false, ms: Date.now() - started, error: `${code ?? "ERROR"}${err.message && err.message !== code ? `: ${err.message}` : ""}` };
      }
    }),
  );
}
