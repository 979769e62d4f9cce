// A supervisor's Prometheus metrics (docs/metrics.md): whether it holds the lease, the
// promotions it ran, and — while active — replication lag and replica health, measured the
// way getAccountStatus measures them, on a timer (never on a scrape, so a slow fan-out cannot
// time a scrape out). Loaded only when metrics.listen is set.
import type { Logger } from "../../src/log/index.js";
import { Counter, Gauge, Histogram } from "prom-client";
import { followingCounter, type BoundMetrics, type MetricsServer, type ProcessMetrics } from "../../src/metrics/index.js";
import type { AccountStatusView } from "./account_status.js";

/** Default interval of the lag refresh, ms. */
export const LAG_REFRESH_MS = 15_000;
/** Accounts whose own lag series are kept per refresh (the most lagging), bounding the labels. */
export const TOP_LAGGING_ACCOUNTS = 10;

/** What the metrics read from the running supervisor. */
export interface SupervisorMetricsSource {
  isActive(): boolean;
  /** every account with replicas, with its replicas' status and lag (getAccountStatus' views) */
  accountStatuses(): Promise<AccountStatusView[]>;
  /** what compaction removed since this supervisor started (log_compactor.ts) */
  compaction: { entriesRemoved: number; snapshotsRemoved: number };
  log: Logger;
}

const PROMOTION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class SupervisorMetrics {
  readonly process: ProcessMetrics;
  private readonly server: MetricsServer;
  private readonly promotions: Counter<"outcome">;
  private readonly promotionSeconds: Histogram<"outcome">;
  private readonly lagEvents: Gauge<"destination">;
  private readonly lagSeconds: Gauge<"destination">;
  private readonly accountLagEvents: Gauge<"destination" | "account">;
  private readonly accountLagSeconds: Gauge<"destination" | "account">;
  private readonly replicas: Gauge<"destination" | "status">;
  private readonly unavailable: Gauge<"destination">;
  private readonly refreshed: Gauge;
  private readonly refreshSeconds: Gauge;
  private readonly refreshErrors: Counter;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** resolves when the refresh under way (if any) ended */
  private running: Promise<void> = Promise.resolve();

  constructor(
    bound: BoundMetrics,
    private readonly src: SupervisorMetricsSource,
    private readonly refreshMs = LAG_REFRESH_MS,
  ) {
    this.process = bound.process;
    this.server = bound.server;
    const registers = [bound.process.registry];
    new Gauge({
      name: "mailreplica_supervisor_active",
      help: "1 while this supervisor holds the lease (serves mr.rpc.admin, runs operations, measures lag), else 0",
      registers,
      collect() {
        this.set(src.isActive() ? 1 : 0);
      },
    });
    followingCounter(
      bound.process,
      "mailreplica_log_entries_compacted_total",
      "Account-log entries this supervisor's compaction removed from MR_TX (below each account's snapshot)",
      () => src.compaction.entriesRemoved,
    );
    followingCounter(
      bound.process,
      "mailreplica_snapshots_removed_total",
      "Snapshots this supervisor's compaction removed from MR_SNAP (older than each account's compaction point)",
      () => src.compaction.snapshotsRemoved,
    );
    this.promotions = new Counter({
      name: "mailreplica_promotions_total",
      help: "Account promotions this supervisor ran, by outcome (promoted, failed)",
      labelNames: ["outcome"],
      registers,
    });
    this.promotionSeconds = new Histogram({
      name: "mailreplica_promotion_duration_seconds",
      help: "Time to promote one account (choose the target, stop the old primary, drain, append Promoted, record), by outcome",
      labelNames: ["outcome"],
      buckets: PROMOTION_BUCKETS,
      registers,
    });
    this.lagEvents = new Gauge({
      name: "mailreplica_replica_lag_events",
      help: "Account-log entries not yet applied, summed over the accounts replicated to a destination (active supervisor only)",
      labelNames: ["destination"],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: "mailreplica_replica_lag_seconds",
      help: "Age of the oldest entry not yet applied among the accounts replicated to a destination (active supervisor only)",
      labelNames: ["destination"],
      registers,
    });
    this.accountLagEvents = new Gauge({
      name: "mailreplica_replica_account_lag_events",
      help: `Entries not yet applied by one replica, for the ${TOP_LAGGING_ACCOUNTS} most lagging replicas only (others are dropped at each refresh)`,
      labelNames: ["destination", "account"],
      registers,
    });
    this.accountLagSeconds = new Gauge({
      name: "mailreplica_replica_account_lag_seconds",
      help: `Age of the oldest entry not yet applied by one replica, for the ${TOP_LAGGING_ACCOUNTS} most lagging replicas only`,
      labelNames: ["destination", "account"],
      registers,
    });
    this.replicas = new Gauge({
      name: "mailreplica_replicas",
      help: "Replicas by destination and status (available, unavailable, paused, initializing, unreachable)",
      labelNames: ["destination", "status"],
      registers,
    });
    this.unavailable = new Gauge({
      name: "mailreplica_replica_unavailable",
      help: "Replicas at a destination that cannot be promoted to: status unavailable or unreachable",
      labelNames: ["destination"],
      registers,
    });
    this.refreshed = new Gauge({
      name: "mailreplica_lag_refresh_timestamp_seconds",
      help: "When the lag and replica series were last measured (Unix time); 0 before the first measurement",
      registers,
    });
    this.refreshSeconds = new Gauge({ name: "mailreplica_lag_refresh_duration_seconds", help: "How long the last lag measurement took", registers });
    this.refreshErrors = new Counter({
      name: "mailreplica_lag_refresh_errors_total",
      help: "Lag measurements that failed (the series keep their last values)",
      registers,
    });
  }

  /** The endpoint's URL (`http://host:port/metrics`). */
  get url(): string {
    return this.server.url;
  }

  /** Counts one promoted or failed account. */
  promotion(ok: boolean, ms: number): void {
    const outcome = ok ? "promoted" : "failed";
    this.promotions.inc({ outcome });
    this.promotionSeconds.observe({ outcome }, ms / 1000);
  }

  /** Measures now and then every refreshMs, one measurement at a time. */
  start(): void {
    const tick = (): void => {
      this.running = this.refresh().finally(() => {
        if (!this.stopped) {
          this.timer = setTimeout(tick, this.refreshMs);
          this.timer.unref();
        }
      });
    };
    tick();
  }

  /** One measurement; a standby clears the series (only the active supervisor reports them). */
  async refresh(): Promise<void> {
    if (!this.src.isActive()) {
      this.clearLag();
      return;
    }
    const started = performance.now();
    let views: AccountStatusView[];
    try {
      views = await this.src.accountStatuses();
    } catch (e) {
      this.refreshErrors.inc();
      this.src.log.warn({ error: (e as Error).message }, "metrics: measuring replica lag failed; the lag series keep their last values");
      return;
    }
    if (this.stopped) return;
    this.clearLag();
    const sum = new Map<string, number>();
    const oldest = new Map<string, number>();
    const counts = new Map<string, number>();
    const unavailable = new Map<string, number>();
    const each: Array<{ destination: string; account: string; events: number; ms: number }> = [];
    for (const a of views) {
      for (const r of a.replicas) {
        const d = r.destination;
        sum.set(d, (sum.get(d) ?? 0) + r.lagEvents);
        oldest.set(d, Math.max(oldest.get(d) ?? 0, r.lagMs));
        const key = `${d}\u0000${r.status}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        unavailable.set(d, (unavailable.get(d) ?? 0) + (r.status === "unavailable" || r.status === "unreachable" ? 1 : 0));
        if (r.lagEvents > 0 || r.lagMs > 0) each.push({ destination: d, account: a.accountName, events: r.lagEvents, ms: r.lagMs });
      }
    }
    for (const [d, n] of sum) this.lagEvents.set({ destination: d }, n);
    for (const [d, ms] of oldest) this.lagSeconds.set({ destination: d }, ms / 1000);
    for (const [key, n] of counts) {
      const [destination, status] = key.split("\u0000") as [string, string];
      this.replicas.set({ destination, status }, n);
    }
    for (const [d, n] of unavailable) this.unavailable.set({ destination: d }, n);
    each.sort((x, y) => y.events - x.events || y.ms - x.ms);
    for (const e of each.slice(0, TOP_LAGGING_ACCOUNTS)) {
      this.accountLagEvents.set({ destination: e.destination, account: e.account }, e.events);
      this.accountLagSeconds.set({ destination: e.destination, account: e.account }, e.ms / 1000);
    }
    this.refreshed.set(Date.now() / 1000);
    this.refreshSeconds.set((performance.now() - started) / 1000);
  }

  private clearLag(): void {
    for (const g of [this.lagEvents, this.lagSeconds, this.accountLagEvents, this.accountLagSeconds, this.replicas, this.unavailable]) g.reset();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => {});
    await this.server.close();
  }
}
