// Automatic failover (off by default: supervisor.autoFailover). While this supervisor holds
// the lease, a mailstore whose heartbeat has been missing for failoverAfterMs gets all its
// accounts promoted, once per outage — the same operation as promoteAccounts
// source_mail_host, so monitor and the notifications report it. Without the lease it does
// nothing: two supervisors never fail the same mailstore over.
import { PeriodicTask } from "../../src/runtime/periodic.js";
import { readHeartbeats } from "../shared/heartbeat.js";
import { startPromotion, type StartPromotionContext } from "./promotion_methods.js";
import type { SupervisorCore } from "./context.js";

/** What the failover watcher uses of the supervisor. */
export interface FailoverContext extends Pick<SupervisorCore, "clock" | "log" | "isActive" | "assets" | "directory">, StartPromotionContext {}

export interface FailoverOptions {
  failoverAfterMs: number;
  /** how often heartbeats are read */
  checkEveryMs: number;
  threads: number;
}

export class FailoverWatcher {
  private readonly lastSeen = new Map<string, number>();
  /** hosts failed over in their current outage */
  private readonly handled = new Set<string>();
  private readonly rounds: PeriodicTask;
  private activeSince = 0;

  constructor(
    private readonly node: FailoverContext,
    private readonly opts: FailoverOptions,
  ) {
    this.rounds = new PeriodicTask(
      node.clock,
      opts.checkEveryMs,
      () => this.check(),
      (e) => node.log.warn({ error: e.message }, "failover check failed"),
    );
  }

  /** Called when this supervisor becomes active: outages are timed from now at the earliest. */
  start(): void {
    if (!this.rounds.isRunning) this.activeSince = this.node.clock.now();
    this.rounds.start();
  }

  stop(): void {
    this.rounds.stop();
  }

  async check(): Promise<void> {
    if (!this.node.isActive) return;
    const now = this.node.clock.now();
    const alive = new Set((await readHeartbeats(this.node.assets.nodes)).filter((h) => h.role === "mailstore").map((h) => h.host));
    for (const host of alive) {
      this.lastSeen.set(host, now);
      this.handled.delete(host);
    }
    for (const m of await this.node.directory.listMailstores()) {
      if (alive.has(m.host) || this.handled.has(m.host)) continue;
      const missingSince = Math.max(this.lastSeen.get(m.host) ?? 0, this.activeSince);
      if (now - missingSince < this.opts.failoverAfterMs) continue;
      const recs = (await this.node.directory.listAccounts()).filter((r) => r.type === "account" && r.mailHost === m.host);
      this.handled.add(m.host);
      if (recs.length === 0) continue;
      this.node.log.warn(
        { source: m.host, silentMs: now - missingSince, accounts: recs.length },
        "a mailstore sent no heartbeat for too long: promoting its accounts",
      );
      await startPromotion(this.node, recs, { threads: this.opts.threads, source_mail_host: m.host, automatic: true });
    }
  }
}
