// A mailstore's Prometheus metrics (docs/metrics.md): its write path (appends, group commits,
// fencing), its replica agent (entries applied and skipped), its actors (restarts, mailbox
// depth) and what every process shows (ProcessMetrics). Loaded only when metrics.listen is set.
import { Counter, Gauge, Histogram } from "prom-client";
import { followingCounter, type BoundMetrics, type MetricsServer, type ProcessMetrics } from "../../src/metrics/index.js";
import type { AppendReport } from "../../src/runtime/log_backed.js";
import type { ActorSystem } from "../../src/runtime/system.js";
import type { ReplicaAgentStats } from "./replica_agent.js";

/** What the metrics read from the running mailstore when scraped. */
export interface MailstoreMetricsSource {
  system: ActorSystem;
  agentStats: ReplicaAgentStats;
  /** the primary's snapshots (snapshot_taker.ts) */
  snapshotStats: { taken: number; failed: number };
  primaryAccounts(): number;
  replicatedAccounts(): number;
}

/** Seconds: a healthy append is acknowledged in milliseconds; the attempts of a lost one add up to seconds. */
const APPEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Commands per group commit: 1 when idle, up to writes.maxBatch (512 by default) under load. */
const GROUP_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class MailstoreMetrics {
  readonly process: ProcessMetrics;
  private readonly appendSeconds: Histogram<"outcome">;
  private readonly groupSize: Histogram;
  private readonly fenced: Counter;
  private readonly restarts: Counter;
  private readonly escalations: Counter;
  private readonly unsubscribe: () => void;
  private readonly server: MetricsServer;

  /** Counts for `src` in `bound`'s registry (see bindMetrics). */
  constructor(bound: BoundMetrics, src: MailstoreMetricsSource) {
    this.process = bound.process;
    this.server = bound.server;
    const proc = bound.process;
    const registers = [proc.registry];
    followingCounter(
      proc,
      "mailreplica_entries_applied_total",
      "Account-log entries this mailstore applied to its replicas (steady consumer and catch-ups)",
      () => src.agentStats.applied,
    );
    followingCounter(
      proc,
      "mailreplica_entries_skipped_total",
      "Account-log entries this mailstore's replica agent read and did not apply: entries of accounts not replicated here (or paused), and duplicates",
      () => src.agentStats.skipped,
    );
    followingCounter(
      proc,
      "mailreplica_snapshots_taken_total",
      "Account snapshots this mailstore stored as the accounts' primary (by count, by time, or snapshotAccounts)",
      () => src.snapshotStats.taken,
    );
    followingCounter(
      proc,
      "mailreplica_snapshot_failures_total",
      "Account snapshots this mailstore could not store (retried at the next sweep; the log keeps its entries meanwhile)",
      () => src.snapshotStats.failed,
    );
    followingCounter(
      proc,
      "mailreplica_replicas_seeded_total",
      "Replica copies this mailstore loaded from a snapshot (new replicas, restartReplicas, a log compacted past the copy)",
      () => src.agentStats.seeded,
    );
    followingCounter(
      proc,
      "mailreplica_replica_sweeps_total",
      "Catch-ups of every replicated account from the log after a steady consumer's deliveries may have been lost (a reconnect, missed heartbeats)",
      () => src.agentStats.sweeps,
    );
    this.appendSeconds = new Histogram({
      name: "mailreplica_append_duration_seconds",
      help: "Time of one account-log append of a group commit, retries included, by outcome (stored, fenced, refused, unknown)",
      labelNames: ["outcome"],
      buckets: APPEND_BUCKETS,
      registers,
    });
    this.groupSize = new Histogram({
      name: "mailreplica_group_commit_size",
      help: "Commands in one group commit (one account-log append), stored or not",
      buckets: GROUP_BUCKETS,
      registers,
    });
    this.fenced = new Counter({
      name: "mailreplica_fenced_writes_total",
      help: "Appends refused because another writer moved the account log (wrong last sequence): this mailstore was fenced",
      registers,
    });
    this.restarts = new Counter({
      name: "mailreplica_actor_restarts_total",
      help: "Actors restarted by their supervisor after a failure (account actors replay their log)",
      registers,
    });
    this.escalations = new Counter({
      name: "mailreplica_actor_escalations_total",
      help: "Actor failures escalated past their restart budget (the actor stopped)",
      registers,
    });
    new Gauge({
      name: "mailreplica_mailbox_depth",
      help: "Messages waiting in the mailboxes of this mailstore's actors",
      registers,
      collect() {
        this.set(src.system.queuedMessages());
      },
    });
    new Gauge({
      name: "mailreplica_primary_accounts",
      help: "Accounts with a running account actor here (primary, in use)",
      registers,
      collect() {
        this.set(src.primaryAccounts());
      },
    });
    new Gauge({
      name: "mailreplica_replicated_accounts",
      help: "Accounts this mailstore keeps a replica of",
      registers,
      collect() {
        this.set(src.replicatedAccounts());
      },
    });
    this.unsubscribe = src.system.onEvent((e) => {
      if (e.kind === "restarted") this.restarts.inc();
      else if (e.kind === "escalated") this.escalations.inc();
    });
  }

  /** The endpoint's URL (`http://host:port/metrics`). */
  get url(): string {
    return this.server.url;
  }

  /** The account actors' onAppend hook. */
  readonly onAppend = (r: AppendReport): void => {
    this.appendSeconds.observe({ outcome: r.outcome }, r.ms / 1000);
    this.groupSize.observe(r.commands);
    if (r.outcome === "fenced") this.fenced.inc();
  };

  async stop(): Promise<void> {
    this.unsubscribe();
    await this.server.close();
  }
}
