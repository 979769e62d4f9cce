// The system the nemesis attacks: a three-node JetStream cluster (every asset at 3 replicas),
// three mailstores and a supervisor as real child processes. Every mailstore reaches
// nats-server only through TCP proxies of its own (one per nats node), so its replies and acks
// can be stalled or dropped, also after a reconnect; the servers do not advertise the cluster
// to clients, so a mailstore can never bypass its proxies.
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { localSystemConfig } from "../../../src/dev/local_system.js";
import { initKeys } from "../../../src/keys/index.js";
import { rpcCall } from "../../../src/jsonrpc/index.js";
import { MetadataStore } from "../../../src/store/index.js";
import type { Config } from "../../../src/config/index.js";
import { startNatsCluster, type NatsCluster, type NatsNode } from "../nats.js";
import { exited, tempDir, waitFor } from "../processes.js";
import { TcpProxy } from "../tcp_proxy.js";
import { configFileEnv, NodeChildren } from "../node_children.js";
import { errorCode } from "../workload.js";
import { FAST_TIMING } from "../system.js";

export const MAILSTORES = ["ms1.example.com", "ms2.example.com", "ms3.example.com"] as const;

/** Codes of an admin call that got no answer (no supervisor holds the lease yet, or it is down). */
const ADMIN_RETRY = new Set(["NO_RESPONDER", "TIMEOUT", "UNAVAILABLE", "NOT_SUPERVISOR"]);

export class NemesisSystem {
  /** the orchestrator's own connection (admin calls, stream info), straight to the cluster */
  nc!: NatsConnection;
  /** mailstore host -> its proxies, one per nats node, in node order */
  readonly proxies = new Map<string, TcpProxy[]>();
  private readonly children = new NodeChildren();
  readonly processes = this.children.processes;
  /** the supervisor's current name: each restart takes a new one (a name is never reused while its lease may live) */
  supervisorName = "";
  private supervisorCount = 0;
  readonly stopped = new Set<string>();
  /** start-up failures that were retried (for the report) */
  readonly restarts: string[] = [];

  private constructor(
    readonly cluster: NatsCluster,
    readonly root: string,
    readonly config: Config,
  ) {}

  static async start(): Promise<NemesisSystem> {
    const root = tempDir("mr-nemesis-");
    const cluster = await startNatsCluster(3, { extraArgs: ["--no_advertise=true"] });
    const config = localSystemConfig({ root, servers: cluster.urls, replicas: 3, ...FAST_TIMING, mailstores: MAILSTORES });
    // Snapshots and compaction run all the time, under the faults: replicas killed or cut off
    // come back to logs compacted below what they had applied and must seed from a snapshot.
    config.snapshots = { everyEntries: 20, everyMs: 2_000 };
    config.retention = { keepDays: 0, compactEveryMs: 2_000 };
    const sys = new NemesisSystem(cluster, root, config);
    sys.nc = await connect({ servers: cluster.urls, name: "nemesis orchestrator", maxReconnectAttempts: -1 });
    for (const h of MAILSTORES) {
      sys.proxies.set(h, await Promise.all(cluster.nodes.map((n) => TcpProxy.start(n.spec.port))));
    }
    return sys;
  }

  get natsNodes(): NatsNode[] {
    return this.cluster.nodes;
  }

  dataDir(host: string): string {
    return join(this.root, "data", host);
  }

  private childEnv(): NodeJS.ProcessEnv {
    return configFileEnv(this.root, this.config);
  }

  /**
   * Starts (or restarts) a mailstore child connected only through its proxies. A mailstore
   * exits at start when JetStream answers 503 (no meta leader: the cluster is electing one
   * after a node was killed); it is started again once JetStream answers, up to 5 times.
   */
  async spawnMailstore(host: string): Promise<void> {
    const servers = this.proxies
      .get(host)!
      .map((p) => p.url)
      .join(",");
    await this.spawnRetried(host, ["mailstore", "--host", host, "--data", this.dataDir(host), "--servers", servers], `mailstore ${host} started`);
  }

  private async spawnRetried(key: string, args: string[], ready: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.jetStreamReady();
      try {
        await this.spawn(key, args, ready);
        return;
      } catch (e) {
        if (attempt >= 5) throw e;
        this.restarts.push(`${key} exited at start (attempt ${attempt}): ${(e as Error).message.split("\n").slice(1, 2).join("")}`);
      }
    }
  }

  /** Waits until JetStream answers API requests (a meta leader exists). */
  async jetStreamReady(): Promise<void> {
    await waitFor(
      "JetStream to answer",
      async () => {
        const jsm = await jetstreamManager(this.nc);
        return !!(await jsm.getAccountInfo());
      },
      60_000,
      100,
    );
  }

  /** Starts a supervisor under a new name (straight to the cluster). */
  async spawnSupervisor(): Promise<void> {
    const name = `sup${++this.supervisorCount}`;
    // Each name signs grants with its own key, trusted in the shared list before it starts.
    initKeys({ dir: this.config.keys.dir, host: name, role: "supervisor" });
    await this.spawnRetried(name, ["supervisor", "--host", name], `supervisor ${name} started`);
    this.supervisorName = name;
  }

  private async spawn(key: string, args: string[], ready: string): Promise<void> {
    await this.children.start(key, args, this.childEnv(), ready, 60_000);
  }

  log(key: string): string {
    return this.children.log(key);
  }

  async kill9(key: string): Promise<void> {
    if (this.stopped.has(key)) this.cont(key);
    await this.children.kill9(key);
  }

  /** SIGSTOP: the process stays, its sockets stay open, it answers nothing. */
  stop(key: string): void {
    this.processes.get(key)?.kill("SIGSTOP");
    this.stopped.add(key);
  }

  cont(key: string): void {
    this.processes.get(key)?.kill("SIGCONT");
    this.stopped.delete(key);
  }

  /** An admin call, retried while no supervisor answers (one is restarting or taking the lease). */
  async admin<T = any>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await rpcCall<T>(this.nc, "mr.rpc.admin", method, params, { timeoutMs: 10_000 });
      } catch (e) {
        if (!ADMIN_RETRY.has(errorCode(e)) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** The nats node leading MR_TX now (undefined while there is no leader). */
  async txLeader(): Promise<NatsNode | undefined> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.streams.info(this.config.jetstream.streams.tx);
    const leader = info.cluster?.leader;
    return this.cluster.nodes.find((n) => n.spec.name === leader);
  }

  /** Snapshots stored in MR_SNAP, and entries compaction removed from MR_TX (its only deleter). */
  async lifecycle(): Promise<{ snapshots: number; entriesRemoved: number }> {
    const jsm = await jetstreamManager(this.nc);
    const snap = await jsm.streams.info(this.config.jetstream.streams.snapshots, { subjects_filter: "mr.snap.>" });
    const tx = (await jsm.streams.info(this.config.jetstream.streams.tx)).state;
    return { snapshots: Object.keys(snap.state.subjects ?? {}).length, entriesRemoved: tx.first_seq - 1 + (tx.num_deleted ?? 0) };
  }

  /** A mailstore's SQLite file, opened for one read and closed (WAL: also while it runs). */
  withStore<T>(host: string, read: (s: MetadataStore) => T): T {
    const s = MetadataStore.open(join(this.dataDir(host), "metadata.sqlite"));
    try {
      return read(s);
    } finally {
      s.close();
    }
  }

  /** Kills everything it started (children, proxies, nats nodes). */
  async shutdown(): Promise<void> {
    for (const key of [...this.processes.keys()]) {
      if (this.stopped.has(key)) this.cont(key);
      const c = this.processes.get(key)!;
      c.kill("SIGKILL");
      await exited(c);
    }
    this.processes.clear();
    await this.nc?.close().catch(() => {});
    for (const ps of this.proxies.values()) for (const p of ps) await p.stop().catch(() => {});
    await this.cluster.stop();
  }
}
