// A mailstore's service methods on its own admin endpoint (mr.node.<host>.admin), asked by the
// supervisor for `test` and the do*Service commands:
//   probeNats { servers }          connect to each NATS URL from this mailstore and report;
//   serviceStatus                  the replication module's state;
//   serviceStop / serviceStart / serviceRestart { service_name: "module" }.
//
// "module" is the replication module (Carbonio's `doStopService module`): the replica agent.
// Stopped, the mailstore applies nothing to its replicas (their status stays as it was, their
// lag grows); the account logs keep everything, so a start catches every replica up. The
// mailstore's own primary accounts and mailbox methods are not affected.
import { connect } from "@nats-io/transport-node";
import { AppError, defineMethod, oneOf, type NatsRpcContext, type RpcMethod } from "../src/jsonrpc/index.js";
import { ExpensiveGate } from "./expensive_gate.js";
import type { MailstoreNode } from "./mailstore.js";
import { defaultConfig } from "../config/defaults.js";
import { natsConnectionOptions, type NatsAuth } from "../src/natsauth/connect_options.js";

// The service names and the servers param are part of the admin wire contract.
export { SERVICE_NAMES, natsServersParam, type ServiceName } from "../src/protocol/admin_params.js";
import { SERVICE_NAMES, natsServersParam, type ServiceName } from "../src/protocol/admin_params.js";

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

export interface NatsProbe {
  server: string;
  ok: boolean;
  /** connect + one round trip, ms */
  ms: number;
  serverName?: string;
  version?: string;
  jetstream?: boolean;
  error?: string;
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
        const nc = await connect({ ...natsConnectionOptions(server, auth), timeout: timeoutMs, reconnect: false, maxReconnectAttempts: 0, name: "mailreplica probe" });
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

interface ModuleState {
  running: boolean;
  /** start/stop calls run one after the other */
  queue: Promise<unknown>;
}

const modules = new WeakMap<MailstoreNode, ModuleState>();
const probeGates = new WeakMap<MailstoreNode, ExpensiveGate>();

/** The mailstore's bound on probes running at once (limits.maxConcurrentExpensive). */
export function probeGate(node: MailstoreNode): ExpensiveGate {
  let g = probeGates.get(node);
  if (!g) probeGates.set(node, (g = new ExpensiveGate(node.opts.limits?.maxConcurrentExpensive ?? defaultConfig().limits.maxConcurrentExpensive)));
  return g;
}

function moduleState(node: MailstoreNode): ModuleState {
  let s = modules.get(node);
  if (!s) modules.set(node, (s = { running: true, queue: Promise.resolve() }));
  return s;
}

/** Whether the mailstore's replication module runs (for its heartbeat and getServices). */
export function moduleRunning(node: MailstoreNode): boolean {
  return moduleState(node).running;
}

export interface ServiceOutcome {
  host: string;
  service: ServiceName;
  running: boolean;
  /** false when the service already was in the asked state */
  changed: boolean;
  message: string;
}

function serialized<T>(node: MailstoreNode, fn: (s: ModuleState) => Promise<T>): Promise<T> {
  const s = moduleState(node);
  const next = s.queue.then(() => fn(s));
  s.queue = next.catch(() => {});
  return next;
}

export function stopModule(node: MailstoreNode): Promise<ServiceOutcome> {
  return serialized(node, async (s) => {
    if (!s.running) return { host: node.host, service: "module", running: false, changed: false, message: "service already stopped" };
    await node.agent.stop();
    s.running = false;
    node.log.info("replication module stopped: replicas are not applied until it starts again");
    return { host: node.host, service: "module", running: false, changed: true, message: "service stopped" };
  });
}

export function startModule(node: MailstoreNode): Promise<ServiceOutcome> {
  return serialized(node, async (s) => {
    if (s.running) return { host: node.host, service: "module", running: true, changed: false, message: "service already running" };
    await node.agent.start();
    s.running = true;
    node.log.info("replication module started: replicas catch up from their applied sequence");
    // Catching up can take long; the caller learns the module runs, getAccountStatus shows the lag.
    void node.agent.catchUpAll().catch((e: Error) => node.log.warn({ error: e.message }, "catch-up after module start failed"));
    return { host: node.host, service: "module", running: true, changed: true, message: "service started" };
  });
}

function describeModule(node: MailstoreNode) {
  const running = moduleRunning(node);
  return { host: node.host, services: { module: { running, could_start: !running, could_stop: running } } };
}

export function nodeServiceMethods(node: MailstoreNode): RpcMethod<NatsRpcContext>[] {
  const serviceName = () => oneOf(SERVICE_NAMES, { required: true });
  return [
    defineMethod({
      name: "probeNats",
      params: { servers: natsServersParam() },
      handler: async (p) => {
        if (p.servers) refuseUnconfiguredServers(p.servers, node.opts.servers, `mailstore ${node.host}`);
        // Each probe opens connections: a few at once per process (limits.maxConcurrentExpensive).
        const probes = await probeGate(node).run("probeNats", () => probeNatsServers(p.servers ?? [...node.opts.servers], PROBE_TIMEOUT_MS, node.opts.natsAuth));
        return { host: node.host, at: node.clock.now(), probes };
      },
    }),
    defineMethod({
      name: "serviceStatus",
      params: {},
      handler: () => describeModule(node),
    }),
    defineMethod({
      name: "serviceStop",
      params: { service_name: serviceName() },
      handler: () => stopModule(node),
    }),
    defineMethod({
      name: "serviceStart",
      params: { service_name: serviceName() },
      handler: () => startModule(node),
    }),
    defineMethod({
      name: "serviceRestart",
      params: { service_name: serviceName() },
      handler: async () => {
        await stopModule(node);
        const started = await startModule(node);
        return { ...started, changed: true, message: "service restarted" };
      },
    }),
  ];
}
