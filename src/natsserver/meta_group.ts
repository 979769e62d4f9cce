// Which nodes of a forming JetStream cluster its meta group left out. nats-server 2.10.27,
// started as three nodes at once on a busy machine, at times elects a meta leader that
// tracks only one of the two other nodes: the third follows that leader but is never added
// to its peer set (the leader's /jsz shows cluster_size 2 and one replica), so no 3-replica
// asset can ever be placed ("no suitable peers for placement") until that node restarts,
// after which it is added within a second (seen here 3 times in about 250 formations on a
// loaded machine; none in 120 on 2.15.1). Read from each node's monitoring port (/jsz).

/** A node whose monitoring port can be read. */
export interface MonitoredNode {
  /** Its `server_name` (`-n`): the name the meta group lists peers by. */
  serverName: string;
  /** `http://host:port` of its monitoring listener. */
  monitorUrl: string;
}

/** The `meta_cluster` part of a node's /jsz. */
export interface MetaCluster {
  leader?: string;
  cluster_size?: number;
  replicas?: Array<{ name: string; current?: boolean; offline?: boolean }>;
}

const JSZ_TIMEOUT_MS = 2_000;

/** What this node's /jsz says about the meta group (undefined while it does not answer). */
export async function readMetaCluster(node: MonitoredNode): Promise<MetaCluster | undefined> {
  try {
    const r = await fetch(`${node.monitorUrl}/jsz`, { signal: AbortSignal.timeout(JSZ_TIMEOUT_MS) });
    if (!r.ok) return undefined;
    return ((await r.json()) as { meta_cluster?: MetaCluster }).meta_cluster;
  } catch {
    return undefined;
  }
}

/**
 * The server names of nodes that follow the meta leader every node agrees on but are not in
 * that leader's peer set. Empty while that cannot be judged (a node does not answer, no
 * leader yet, or nodes disagree on it): only a settled leader's view is read.
 */
export async function nodesOutsideMetaGroup(nodes: readonly MonitoredNode[]): Promise<string[]> {
  const metas = await Promise.all(nodes.map(readMetaCluster));
  const leader = metas[0]?.leader;
  if (!leader || metas.some((m) => m?.leader !== leader)) return [];
  const fromLeader = metas[nodes.findIndex((n) => n.serverName === leader)];
  if (!fromLeader) return [];
  const known = new Set([leader, ...(fromLeader.replicas ?? []).map((r) => r.name)]);
  return nodes.filter((n) => !known.has(n.serverName)).map((n) => n.serverName);
}

/**
 * Tells, on each call, which nodes have been outside the meta group for at least `graceMs`
 * without a break (a node joining normally is outside for a moment only), so the caller can
 * restart them; a node once reported starts its grace again.
 */
export class LeftOutWatch {
  private readonly since = new Map<string, number>();

  /** `outside` is usually `() => nodesOutsideMetaGroup(nodes)`. */
  constructor(
    private readonly outside: () => Promise<string[]>,
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async due(): Promise<string[]> {
    const outside = new Set(await this.outside());
    const t = this.now();
    for (const name of [...this.since.keys()]) if (!outside.has(name)) this.since.delete(name);
    const due: string[] = [];
    for (const name of outside) {
      const first = this.since.get(name);
      if (first === undefined) this.since.set(name, t);
      else if (t - first >= this.graceMs) {
        due.push(name);
        this.since.delete(name);
      }
    }
    return due;
  }
}
