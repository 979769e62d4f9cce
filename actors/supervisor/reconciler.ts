// The directory follows the log, also when nobody is promoting (docs/architecture.md, Promotion): while this
// supervisor holds the lease it checks, every reconcileEveryMs, that no mailstore has applied
// a newer epoch of an account than the directory records. That is one bulk accountStatus
// request per alive mailstore; only an account some copy reports ahead of the directory gets
// its log head read (by a mailstore: they hold the log key). When the log names another
// primary at a newer epoch, the directory is moved there by compare-and-set (epoch only
// forward, host only the one the log names), the Global Admin is told (directory.repaired)
// and it is logged. This ends what a promotion whose reply was lost leaves behind. Each round
// also recounts the quota ledger when a crash left it counting too much (quota_ledger.ts).
import { PeriodicTask } from "../../src/runtime/periodic.js";
import { localStatuses } from "./account_status.js";
import { askLogHead } from "./ask_log_head.js";
import { recordPromotion } from "./promotion_record.js";
import { aliveMailstores } from "./services.js";
import { registerAliveMailstores, type KnownMailstoresContext } from "./known_mailstores.js";
import type { SupervisorCore } from "./context.js";
import type { LicenceQuota } from "./licence.js";
import type { Notifier } from "../shared/notifier.js";

/** What the reconciler uses of the supervisor. */
export interface ReconcilerContext extends KnownMailstoresContext, Pick<SupervisorCore, "isActive" | "nc"> {
  /** its quota ledger is recounted each round */
  readonly licence: LicenceQuota;
  readonly notifier: Notifier;
}

export interface DirectoryRepair {
  account: string;
  accountId: string;
  from: { host: string; epoch: number };
  to: { host: string; epoch: number };
}

export class DirectoryReconciler {
  private readonly rounds: PeriodicTask;
  private round: Promise<DirectoryRepair[]> | undefined;

  constructor(
    private readonly node: ReconcilerContext,
    private readonly everyMs: number,
  ) {
    this.rounds = new PeriodicTask(
      node.clock,
      everyMs,
      () => this.check(),
      (e) => node.log.warn({ error: e.message, retryMs: everyMs }, "directory reconciliation failed; retrying"),
    );
  }

  /** Called when this supervisor becomes active (nothing when reconcileEveryMs is 0). */
  start(): void {
    if (this.everyMs > 0) this.rounds.start();
  }

  stop(): void {
    this.rounds.stop();
  }

  /** One round (rounds never overlap); returns the accounts it repaired. */
  check(): Promise<DirectoryRepair[]> {
    this.round ??= this.reconcile().finally(() => (this.round = undefined));
    return this.round;
  }

  private async reconcile(): Promise<DirectoryRepair[]> {
    if (!this.node.isActive) return [];
    await this.repairQuotaLedger();
    await registerAliveMailstores(this.node).catch((e: Error) =>
      this.node.log.warn({ error: e.message }, "registering running mailstores failed; retried next round"),
    );
    const accounts = (await this.node.directory.listAccounts()).filter((r) => r.type === "account");
    const alive = await aliveMailstores(this.node.assets.nodes);
    const byHost = new Map<string, string[]>();
    for (const a of accounts) {
      for (const host of new Set([a.mailHost, ...a.replicas.map((r) => r.destination)])) {
        if (alive.has(host)) (byHost.get(host) ?? byHost.set(host, []).get(host)!).push(a.id);
      }
    }
    const statuses = await localStatuses(this.node.nc, byHost);
    const repaired: DirectoryRepair[] = [];
    for (const a of accounts) {
      // Hosts whose copy has applied an epoch newer than the directory's.
      const ahead = [...byHost.keys()].filter((h) => (statuses.get(h)?.get(a.id)?.epoch ?? 0) > a.epoch);
      if (ahead.length === 0) continue;
      const head = await askLogHead(this.node.nc, a.id, ahead);
      if (!head?.host || head.epoch <= a.epoch) continue;
      if (!this.node.isActive) break;
      const r = await recordPromotion(this.node.directory, a.id, { host: head.host, epoch: head.epoch }, this.node.clock.now());
      if (!r.changed) continue;
      const repair: DirectoryRepair = { account: a.name, accountId: a.id, from: r.before, to: { host: head.host, epoch: head.epoch } };
      repaired.push(repair);
      this.node.log.warn(
        { account: a.name, accountId: a.id, from: r.before.host, fromEpoch: r.before.epoch, host: head.host, epoch: head.epoch },
        "directory repaired: it named another primary than the account's log",
      );
      await this.node.notifier
        .publish("directory.repaired", { ...repair, summary: `${a.name}: primary ${r.before.host} -> ${head.host} (epoch ${head.epoch}), as its log says` })
        .catch((e: Error) => this.node.log.warn({ kind: "directory.repaired", error: e.message }, "notification not published"));
    }
    return repaired;
  }

  /** Recounts the quota ledger from the records when a crash left it off (quota_ledger.ts). */
  private async repairQuotaLedger(): Promise<void> {
    // Its own failure must not stop the directory's reconciliation: logged, retried next round.
    const r = await this.node.licence.ledger
      .recount()
      .catch((e: Error) => void this.node.log.warn({ error: e.message }, "quota ledger recount failed; retried next round"));
    if (r && (r.from !== r.to || r.staleHolds > 0)) {
      this.node.log.warn({ from: r.from, to: r.to, staleHolds: r.staleHolds }, "quota ledger repaired: accounts with replicas counted again from the records");
    }
  }
}
