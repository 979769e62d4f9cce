// Compaction of the account logs (docs/architecture.md, Snapshots and compaction). While this
// supervisor holds the lease, every compactEveryMs, for each account: the newest snapshot
// stored at least `keepDays` ago, and at least as long ago as the longest delay of the
// account's lagged replicas (or the newest at all with keepDays 0 and no lagged replica) that is complete and
// signed by the account's primary is the compaction point C; the log entries of the account
// below C and the snapshots older than C are removed. So every moment of the last keepDays
// has a snapshot at or before it with the log after it (point-in-time restore), the entry at
// C itself stays (the log's last entry is never removed: appends name it), and the stream's
// size follows the accounts' state, not their history.
//
// The supervisor holds no cluster key: it checks a snapshot's completeness (hash) and its
// envelope signature (a trusted mailstore key of the directory's primary), not its content;
// readers check the content and authorship before loading it (snapshot_seed.ts).
import { PeriodicTask } from "../../src/runtime/periodic.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { verifyEnvelopeSigner } from "../../src/envelope/index.js";
import type { TrustList } from "../../src/envelope/index.js";
import type { AccountRecord } from "../../src/directory/types.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import type { SupervisorCore } from "./context.js";

export type CompactorContext = Pick<SupervisorCore, "assets" | "directory" | "clock" | "log" | "isActive">;

export interface CompactionPolicy {
  keepDays: number;
  everyMs: number;
}

export interface AccountCompaction {
  accountId: string;
  /** the compaction point: entries and snapshots below it were removed */
  seq: number;
  /** log entries removed */
  entries: number;
  snapshotsRemoved: number;
}

export class LogCompactor {
  private readonly rounds: PeriodicTask;
  private round: Promise<AccountCompaction[]> | undefined;
  /** per account, the compaction point already reached: nothing to do until a newer snapshot */
  private readonly reached = new Map<string, number>();
  /** totals since start (metrics) */
  readonly stats = { accounts: 0, entriesRemoved: 0, snapshotsRemoved: 0 };

  constructor(
    private readonly node: CompactorContext,
    private readonly policy: CompactionPolicy,
    /** trusted-signers.json as it is now (read again on each round by the caller's function) */
    private readonly trust: () => TrustList,
  ) {
    this.rounds = new PeriodicTask(
      node.clock,
      policy.everyMs,
      () => this.compactAll(),
      (e) => node.log.warn({ error: e.message, retryMs: policy.everyMs }, "compaction failed; retrying"),
    );
  }

  start(): void {
    if (this.policy.everyMs > 0) this.rounds.start();
  }

  stop(): void {
    this.rounds.stop();
  }

  /** One round over every account (rounds never overlap). */
  compactAll(): Promise<AccountCompaction[]> {
    this.round ??= this.runRound().finally(() => (this.round = undefined));
    return this.round;
  }

  private async runRound(): Promise<AccountCompaction[]> {
    if (!this.node.isActive) return [];
    const accounts = (await this.node.directory.listAccounts()).filter((r) => r.type === "account");
    const trust = this.trust();
    const done: AccountCompaction[] = [];
    await runBounded(accounts, 4, async (rec) => {
      try {
        const c = await this.compactAccount(rec, trust);
        if (c) done.push(c);
      } catch (e) {
        this.node.log.warn({ account: rec.name, accountId: rec.id, error: (e as Error).message }, "account not compacted; tried again next round");
      }
    });
    return done;
  }

  /** Compacts one account's log below its compaction point, if it moved. */
  async compactAccount(rec: AccountRecord, trust: TrustList = this.trust()): Promise<AccountCompaction | undefined> {
    const { jsm, snapshots, opts } = this.node.assets;
    const stored = await snapshots.list(rec.id);
    if (stored.length === 0) return undefined;
    // A lagged replica reads entries as old as its delay: they stay too, whatever keepDays says.
    const maxDelayMs = Math.max(0, ...rec.replicas.map((r) => (r.delay ?? 0) * 1_000));
    const boundary = this.node.clock.now() - Math.max(this.policy.keepDays * 86_400_000, maxDelayMs);
    let point: number | undefined;
    for (const s of [...stored].reverse()) {
      if (s.seq <= (this.reached.get(rec.id) ?? 0)) break;
      // The time the snapshot was stored: its first message's, as the server recorded it.
      const storedAt = await snapshots.storedAt(rec.id, s.seq).catch(() => undefined);
      if (storedAt === undefined || storedAt > boundary) continue;
      if (!(await this.usable(rec, s.seq, trust))) continue;
      point = s.seq;
      break;
    }
    if (point === undefined) return undefined;
    // nats-server reads a purge `seq` of 0 or 1 as "no seq": the subject's every entry would go.
    // Below seq 1 there is nothing to remove anyway.
    const purged = point > 1 ? await jsm.streams.purge(opts.txStream, { filter: txSubject(rec.id), seq: point }) : { purged: 0 };
    let snapshotsRemoved = 0;
    for (const s of stored) {
      if (s.seq >= point) break;
      await snapshots.remove(rec.id, s.seq);
      snapshotsRemoved++;
    }
    this.reached.set(rec.id, point);
    this.stats.accounts++;
    this.stats.entriesRemoved += purged.purged;
    this.stats.snapshotsRemoved += snapshotsRemoved;
    this.node.log.info({ account: rec.name, accountId: rec.id, seq: point, entries: purged.purged, snapshotsRemoved }, "account log compacted");
    return { accountId: rec.id, seq: point, entries: purged.purged, snapshotsRemoved };
  }

  /** Complete, and signed by a trusted key of the account's primary (the directory's). */
  private async usable(rec: AccountRecord, seq: number, trust: TrustList): Promise<boolean> {
    try {
      const sealed = await this.node.assets.snapshots.read(rec.id, seq);
      const { signer } = verifyEnvelopeSigner(trust, sealed);
      if (signer === rec.mailHost) return true;
      this.node.log.warn({ account: rec.name, seq, signer, primary: rec.mailHost }, "snapshot not signed by the account's primary; not compacting below it");
    } catch (e) {
      this.node.log.warn({ account: rec.name, seq, error: (e as Error).message }, "snapshot not usable for compaction");
    }
    return false;
  }
}
