// Waits until a JetStream cluster really takes replicated assets, before dev starts anything
// that creates or uses them. Running nodes are not enough: a forming cluster answers 503 (no
// meta leader yet) or "no suitable peers for placement" for a while, and after a restart its
// existing streams (MR_TX, the KV buckets) need a leader again. So: every node's /healthz
// (meta leader known, this node current, its streams current), then a throw-away stream at
// the cluster's replica count created, led, with every replica current, and deleted, then a
// leader for every stream that already exists.
import { jetstreamManager, StorageType, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { LeftOutWatch, MonitoredNode } from "../natsserver/meta_group.js";
import { readHealth } from "../natsserver/phantom_consumers.js";
import { isNoResponders, isRequestTimeout, jsApiFailure } from "../runtime/nats_failure.js";
import { DevError } from "./errors.js";
import { natsAuthFailure, natsConnectionOptions, type NatsAuth } from "../natsauth/connect_options.js";

export interface ClusterReadyOptions {
  /** Client URLs of the nodes. */
  urls: readonly string[];
  /**
   * The nodes dev started, for their /healthz: `name` as dev calls it, `serverName` its `-n`
   * (how peers are listed), `url` its monitoring base URL. None for nodes it found running.
   */
  healthUrls: ReadonlyArray<{ name: string; serverName: string; url: string }>;
  /** Replicas an asset must be able to have (the number of nodes). */
  replicas: number;
  timeoutMs: number;
  /** Called with what is awaited, each time that changes. */
  waiting(reason: string): void;
  /** For nodes dev started: one the meta group left out for a while is restarted (meta_group.ts). */
  leftOut?: { watch: LeftOutWatch; restart(serverName: string): Promise<void> };
  signal?: AbortSignal;
  /** Credentials of the probe connection (it creates and deletes a stream: the operator identity). */
  auth?: NatsAuth;
}

/** The probe stream: fixed, so a run that died before deleting it is picked up again. */
const PROBE = { name: "MR_DEV_READY_PROBE", subject: "mr.dev.ready_probe" } as const;
const API_TIMEOUT_MS = 3_000;

type HealthNode = ClusterReadyOptions["healthUrls"][number];
const monitoredOf = (n: HealthNode): MonitoredNode => ({ serverName: n.serverName, monitorUrl: n.url });

/**
 * Why `/healthz` of one node is not ok, or undefined when it is. A consumer nats-server 2.10
 * brought back on a restarted node after it was deleted meanwhile never becomes current and
 * nothing reads it: it is set aside (src/natsserver/phantom_consumers.ts), and said once.
 */
async function healthProblem(node: HealthNode, all: readonly HealthNode[], said: Set<string>, waiting: (reason: string) => void): Promise<string | undefined> {
  const h = await readHealth(monitoredOf(node), all.filter((o) => o !== node).map(monitoredOf));
  if (!h) return `${node.name}: its monitoring port does not answer`;
  for (const k of h.phantoms)
    if (!said.has(`${node.name} ${k}`)) {
      said.add(`${node.name} ${k}`);
      waiting(`${node.name}: consumer ${k} exists only there (deleted while it was down, brought back by nats-server 2.10's meta recovery); set aside`);
    }
  return h.problems.length > 0 ? `${node.name}: ${h.problems.map((p) => p.error).join("; ")}` : undefined;
}

/** What a JetStream API error means while the cluster forms. */
function describeApiError(e: unknown): string {
  const api = jsApiFailure(e);
  if (api?.errCode === 10005) return `not every node is a JetStream peer yet (${api.description || "no suitable peers for placement"})`;
  if (api?.status === 503 || isNoResponders(e)) return "no meta leader yet (JetStream answers 503)";
  // Without a meta leader the API requests a node forwards get no answer at all.
  if (isRequestTimeout(e)) return `no meta leader yet (the JetStream API does not answer within ${API_TIMEOUT_MS / 1000} s)`;
  return api?.description || (e as Error)?.message || String(e);
}

/** Why a stream cannot take writes at its replica count yet, or undefined. */
function notLed(info: StreamInfo): string | undefined {
  const c = info.cluster;
  if (!c?.leader) return `stream ${info.config.name} has no leader`;
  const peers = c.replicas ?? [];
  const want = info.config.num_replicas || 1;
  if (peers.length < want - 1) return `stream ${info.config.name} has ${peers.length + 1} of ${want} replicas placed`;
  const behind = peers.filter((p) => !p.current || p.offline);
  if (behind.length) return `stream ${info.config.name}: replica ${behind.map((p) => p.name).join(", ")} not current`;
  return undefined;
}

/** One check of the JetStream side; undefined when it takes replicated assets now. */
async function jetStreamProblem(nc: NatsConnection, replicas: number): Promise<string | undefined> {
  try {
    // jetstreamManager() asks for the account info: a 503 here means no meta leader yet.
    const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
    await jsm.streams.add({ name: PROBE.name, subjects: [PROBE.subject], storage: StorageType.Memory, num_replicas: replicas, max_msgs: 1 });
    const probe = notLed(await jsm.streams.info(PROBE.name));
    if (probe) return probe;
    await jsm.streams.delete(PROBE.name);
    for await (const info of jsm.streams.list()) {
      const problem = notLed(info);
      if (problem) return problem;
    }
    return undefined;
  } catch (e) {
    return describeApiError(e);
  }
}

/**
 * Resolves once the cluster takes assets at `replicas` replicas (or quietly when `signal`
 * aborts). Throws DevError DEV_CLUSTER_NOT_READY naming the last thing awaited after `timeoutMs`.
 */
export async function waitJetStreamClusterReady(o: ClusterReadyOptions): Promise<void> {
  const { connect } = await import("@nats-io/transport-node");
  const deadline = Date.now() + o.timeoutMs;
  let nc: NatsConnection | undefined;
  let last = "";
  let pause = 100;
  const phantomsSaid = new Set<string>();
  try {
    for (;;) {
      if (o.signal?.aborted) return;
      let problem: string | undefined;
      const unhealthy = (await Promise.all(o.healthUrls.map((n) => healthProblem(n, o.healthUrls, phantomsSaid, o.waiting)))).filter(
        (p): p is string => p !== undefined,
      );
      if (unhealthy.length) {
        problem = unhealthy.join("; ");
      } else {
        nc ??= await connect({
          ...natsConnectionOptions(o.urls, o.auth),
          name: "mailreplica dev readiness",
          timeout: API_TIMEOUT_MS,
          maxReconnectAttempts: -1,
        }).catch((e: Error) => {
          // Refused credentials do not clear up by waiting.
          const refused = natsAuthFailure(e, o.urls, o.auth);
          if (refused) throw refused;
          problem = `no node accepts a client connection (${e.message})`;
          return undefined;
        });
        if (nc) problem = await jetStreamProblem(nc, o.replicas);
      }
      if (problem === undefined) return;
      if (problem !== last) o.waiting(problem);
      last = problem;
      for (const name of (await o.leftOut?.watch.due()) ?? []) {
        o.waiting(`${name} follows the meta leader but was left out of its peer set (a nats-server 2.10 formation fault); restarting ${name}`);
        await o.leftOut!.restart(name);
      }
      if (Date.now() > deadline) {
        throw new DevError(
          "DEV_CLUSTER_NOT_READY",
          `the ${o.replicas}-node JetStream cluster at ${o.urls.join(",")} did not take ${o.replicas}-replica assets within ${Math.round(o.timeoutMs / 1000)} s (last: ${problem}); see the nodes' logs, or wait longer with node.startupTimeoutMs (MR_STARTUP_TIMEOUT_MS)`,
        );
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 1_000);
    }
  } finally {
    await nc?.close().catch(() => {});
  }
}
