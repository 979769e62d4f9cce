// Consumers nats-server 2.10 brings back on a restarted node after they were deleted. A node
// that was down while a replicated (R3) consumer was deleted replays its own meta log on
// restart; when the meta leader's catch-up snapshot arrives before that replay ends, the
// consumer's assignment from the old log survives it (nats-server 2.10.27; fixed in 2.12.12 and
// 2.14.3: "Meta recovery snapshot leaves phantom streams and consumers"). Only that node has it: the
// other peers of its raft group deleted it, so the group never has a quorum, the node logs
// "consumer ... has NO quorum, stalled" and its /healthz says the consumer "is not current:
// group node unhealthy" forever, restarts included. Nothing reads such a consumer. Seen here
// after a mailstore's steady durable was deleted while a node was down (test
// cluster_promotion_node_down, about one run in ten on a loaded machine).
// Readiness checks set those aside, and only those: a consumer /healthz names that this
// node's /jsz places in a raft group of several peers, none of which (all answering) hosts it.
import type { MonitoredNode } from "./meta_group.js";

/** One entry of `/healthz?details=true`'s `errors`. */
export interface HealthzError {
  type: string;
  account?: string;
  stream?: string;
  consumer?: string;
  error: string;
}

/** What a node's /healthz says, with the phantom consumers told apart from what else is wrong. */
export interface HealthReading {
  /** what keeps the node from being ready ([] when it is) */
  problems: HealthzError[];
  /** `account > stream > consumer` of each phantom set aside */
  phantoms: string[];
}

const MONITOR_TIMEOUT_MS = 2_000;

interface ConsumerDetail {
  name: string;
  cluster?: { raft_group?: string; replicas?: Array<{ name: string }> };
}
interface Jsz {
  account_details?: Array<{ name: string; stream_detail?: Array<{ name: string; consumer_detail?: ConsumerDetail[] | null }> | null }>;
}

async function fetchJson<T>(url: string): Promise<{ status: number; body: T } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(MONITOR_TIMEOUT_MS) });
    return { status: r.status, body: (await r.json()) as T };
  } catch {
    return undefined;
  }
}

const consumerKey = (account: string, stream: string, consumer: string): string => `${account} > ${stream} > ${consumer}`;

/** The consumers a node hosts, by `account > stream > consumer`: their raft group and its peers. */
async function hostedConsumers(node: MonitoredNode): Promise<Map<string, { group?: string; peers: string[] }> | undefined> {
  const r = await fetchJson<Jsz>(`${node.monitorUrl}/jsz?accounts=true&streams=true&consumers=true&raft=true`);
  if (!r || r.status !== 200) return undefined;
  const out = new Map<string, { group?: string; peers: string[] }>();
  for (const a of r.body.account_details ?? [])
    for (const s of a.stream_detail ?? [])
      for (const c of s.consumer_detail ?? []) {
        const group = c.cluster?.raft_group;
        out.set(consumerKey(a.name, s.name, c.name), { ...(group !== undefined ? { group } : {}), peers: (c.cluster?.replicas ?? []).map((p) => p.name) });
      }
  return out;
}

/**
 * Reads `node`'s /healthz and sets its phantom consumers aside (see the top of this file);
 * `others` are the other nodes of its cluster. Undefined while the node does not answer. A
 * consumer is a phantom only when every other peer of its group answers and none hosts that
 * group; anything else /healthz names stays a problem.
 */
export async function readHealth(node: MonitoredNode, others: readonly MonitoredNode[]): Promise<HealthReading | undefined> {
  const r = await fetchJson<{ status?: string; errors?: HealthzError[]; error?: string }>(`${node.monitorUrl}/healthz?details=true`);
  if (!r) return undefined;
  if (r.status === 200) return { problems: [], phantoms: [] };
  const errors = r.body.errors ?? [{ type: "UNKNOWN", error: r.body.error ?? `healthz answers ${r.status}` }];
  const suspects = errors.filter((e) => e.type === "CONSUMER" && e.account && e.stream && e.consumer);
  if (suspects.length === 0) return { problems: errors, phantoms: [] };
  const here = await hostedConsumers(node);
  if (!here) return { problems: errors, phantoms: [] };
  const byName = new Map(others.map((o) => [o.serverName, o]));
  const elsewhere = new Map<string, Promise<Awaited<ReturnType<typeof hostedConsumers>>>>();
  const hostsOf = (o: MonitoredNode) => {
    let p = elsewhere.get(o.serverName);
    if (!p) elsewhere.set(o.serverName, (p = hostedConsumers(o)));
    return p;
  };
  const phantoms: string[] = [];
  const problems: HealthzError[] = [];
  for (const e of errors) {
    if (!suspects.includes(e)) {
      problems.push(e);
      continue;
    }
    const key = consumerKey(e.account!, e.stream!, e.consumer!);
    const mine = here.get(key);
    const peers = (mine?.peers ?? []).filter((p) => p !== node.serverName);
    let phantom = mine?.group !== undefined && peers.length > 0 && peers.every((p) => byName.has(p));
    for (const p of phantom ? peers : []) {
      const hosted = await hostsOf(byName.get(p)!);
      if (!hosted || hosted.get(key)?.group === mine!.group) phantom = false;
    }
    if (phantom) phantoms.push(key);
    else problems.push(e);
  }
  return { problems, phantoms };
}
