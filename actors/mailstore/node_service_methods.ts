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
import { defineMethod, oneOf, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { ExpensiveGate } from "../shared/expensive_gate.js";
import { defaultConfig } from "../../config/defaults.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { Logger } from "../../src/log/index.js";
import type { ReplicaAgent } from "./replica_agent.js";
import type { MailstoreOptions } from "./options.js";

// The service names and the servers param are part of the admin wire contract.
export { SERVICE_NAMES, natsServersParam, type ServiceName } from "../../src/protocol/admin_params.js";
import { SERVICE_NAMES, natsServersParam } from "../../src/protocol/admin_params.js";
import type { ServiceOutcome } from "../../src/protocol/node_api.js";
import { PROBE_TIMEOUT_MS, probeNatsServers, refuseUnconfiguredServers } from "../shared/nats_probe.js";

/** What the service methods use of the mailstore (MailstoreNode passes itself). */
export interface NodeServiceContext {
  host: string;
  clock: Pick<Clock, "now">;
  log: Logger;
  opts: Pick<MailstoreOptions, "servers" | "natsAuth" | "limits">;
  agent: Pick<ReplicaAgent, "start" | "stop" | "catchUpAll">;
}

interface ModuleState {
  running: boolean;
  /** start/stop calls run one after the other */
  queue: Promise<unknown>;
}

// Kept per context object: MailstoreNode passes itself to every caller, so the heartbeat, the
// digest methods and these methods see one module state and one probe gate per mailstore.
const modules = new WeakMap<object, ModuleState>();
const probeGates = new WeakMap<object, ExpensiveGate>();

/** The mailstore's bound on probes running at once (limits.maxConcurrentExpensive). */
export function probeGate(node: Pick<NodeServiceContext, "opts">): ExpensiveGate {
  let g = probeGates.get(node);
  if (!g) probeGates.set(node, (g = new ExpensiveGate(node.opts.limits?.maxConcurrentExpensive ?? defaultConfig().limits.maxConcurrentExpensive)));
  return g;
}

// Only the context's identity is used: any caller holding the mailstore's context may ask.
function moduleState(node: object): ModuleState {
  let s = modules.get(node);
  if (!s) modules.set(node, (s = { running: true, queue: Promise.resolve() }));
  return s;
}

/**
 * Whether the mailstore's replication module runs (for its heartbeat and getServices).
 * `node`: the object the mailstore passes to nodeServiceMethods (the node itself).
 */
export function moduleRunning(node: object): boolean {
  return moduleState(node).running;
}

function serialized<T>(node: object, fn: (s: ModuleState) => Promise<T>): Promise<T> {
  const s = moduleState(node);
  const next = s.queue.then(() => fn(s));
  s.queue = next.catch(() => {});
  return next;
}

export function stopModule(node: NodeServiceContext): Promise<ServiceOutcome> {
  return serialized(node, async (s) => {
    if (!s.running) return { host: node.host, service: "module", running: false, changed: false, message: "service already stopped" };
    await node.agent.stop();
    s.running = false;
    node.log.info("replication module stopped: replicas are not applied until it starts again");
    return { host: node.host, service: "module", running: false, changed: true, message: "service stopped" };
  });
}

export function startModule(node: NodeServiceContext): Promise<ServiceOutcome> {
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

function describeModule(node: NodeServiceContext) {
  const running = moduleRunning(node);
  return { host: node.host, services: { module: { running, could_start: !running, could_stop: running } } };
}

export function nodeServiceMethods(node: NodeServiceContext): RpcMethod<NatsRpcContext>[] {
  const serviceName = () => oneOf(SERVICE_NAMES, { required: true });
  return [
    defineMethod({
      name: "probeNats",
      params: { servers: natsServersParam() },
      handler: async (p) => {
        if (p.servers) refuseUnconfiguredServers(p.servers, node.opts.servers, `mailstore ${node.host}`);
        // Each probe opens connections: a few at once per process (limits.maxConcurrentExpensive).
        const probes = await probeGate(node).run("probeNats", () =>
          probeNatsServers(p.servers ?? [...node.opts.servers], PROBE_TIMEOUT_MS, node.opts.natsAuth),
        );
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
