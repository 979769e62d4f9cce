// The primary's snapshots (docs/architecture.md, Snapshots and compaction): one account's whole
// state at its applied seq, read in one SQLite read transaction, sealed and signed as one
// envelope, stored in MR_SNAP. Taken after `everyEntries` entries written here, after
// `everyMs` with entries not yet in a snapshot, and on demand (snapshotAccounts).
//
// The read (a read-only SQLite connection, one read transaction), msgpack, compression,
// secretbox and the signature run on a worker thread (SnapshotSealer), so writes go on while a
// large account is snapshotted (docs/benchmarks.md, section 9a).
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import { SnapshotSealer } from "../../src/snapshot/snapshot_sealer.js";
import type { SnapshotLog } from "../../src/snapshot/snapshot_log.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { Logger } from "../../src/log/index.js";
import { FencedError } from "../../src/runtime/errors.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { NodeError } from "./errors.js";
import type { TakenSnapshot } from "../../src/protocol/node_api.js";

export interface SnapshotPolicy {
  /** entries written here since the account's last snapshot; 0 = not by count */
  everyEntries: number;
  /** ms with entries not in a snapshot; 0 = not by time */
  everyMs: number;
}

export interface SnapshotTakerDeps {
  host: string;
  store: MetadataStore;
  keyring: EnvelopeKeyring;
  snapshots: SnapshotLog;
  clock: Clock;
  log?: Logger;
}

/** How often the policy is checked, ms. */
export const SNAPSHOT_SWEEP_MS = 5_000;

interface Pending {
  /** entries applied here since the last snapshot */
  entries: number;
  /** when the first of them was applied (clock.now) */
  since: number;
}

export class SnapshotTaker {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Map<string, Promise<TakenSnapshot>>();
  private timer: ReturnType<Clock["setTimer"]> | undefined;
  private stopped = false;
  private readonly sealer: SnapshotSealer;
  readonly stats = { taken: 0, failed: 0 };

  constructor(
    private readonly d: SnapshotTakerDeps,
    private readonly policy: SnapshotPolicy,
  ) {
    this.sealer = new SnapshotSealer(d.store.path);
  }

  /** An entry of a primary account was applied here (the account actor tells). */
  noteApplied(accountId: string): void {
    const p = this.pending.get(accountId);
    if (p) p.entries++;
    else this.pending.set(accountId, { entries: 1, since: this.d.clock.now() });
  }

  /** Snapshot at the next sweep (this mailstore just became the account's primary). */
  noteDue(accountId: string): void {
    this.pending.set(accountId, { entries: Math.max(this.policy.everyEntries, 1), since: Number.NEGATIVE_INFINITY });
  }

  /** Accounts written before this process started count from now (their last snapshot is unknown until taken). */
  noteStarted(accountId: string): void {
    if (!this.pending.has(accountId)) this.pending.set(accountId, { entries: 0, since: this.d.clock.now() });
  }

  start(): void {
    if (this.policy.everyEntries === 0 && this.policy.everyMs === 0) return;
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      void this.sweep().finally(() => {
        if (!this.stopped) this.timer = this.d.clock.setTimer(tick, SNAPSHOT_SWEEP_MS);
      });
    };
    this.timer = this.d.clock.setTimer(tick, SNAPSHOT_SWEEP_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimer(this.timer);
    await Promise.allSettled([...this.running.values()]);
    await this.sealer.close();
  }

  /** Takes the snapshots the policy asks for now, two at a time. */
  async sweep(): Promise<void> {
    const now = this.d.clock.now();
    const due = [...this.pending.entries()]
      .filter(
        ([, p]) => (this.policy.everyEntries > 0 && p.entries >= this.policy.everyEntries) || (this.policy.everyMs > 0 && now - p.since >= this.policy.everyMs),
      )
      .map(([id]) => id);
    await runBounded(due, 2, async (id) => {
      const rs = this.d.store.replicaState(id);
      if (rs?.role !== "primary" || rs.status !== "available") {
        this.pending.delete(id); // not written here any more
        return;
      }
      await this.take(id).catch((e: unknown) => {
        this.d.log?.warn({ accountId: id, error: (e as Error).message, code: (e as { code?: unknown }).code }, "snapshot not taken; trying again later");
      });
    });
  }

  /** Takes a snapshot of a primary account now (one at a time per account). */
  take(accountId: string): Promise<TakenSnapshot> {
    const running = this.running.get(accountId);
    if (running) return running;
    const p = this.takeNow(accountId).finally(() => this.running.delete(accountId));
    this.running.set(accountId, p);
    return p;
  }

  private async takeNow(accountId: string): Promise<TakenSnapshot> {
    const rs = this.d.store.replicaState(accountId);
    if (rs?.role !== "primary" || rs.status !== "available") {
      throw new NodeError("NOT_PRIMARY", `account ${accountId} is not written by ${this.d.host}: only its primary snapshots it`, { account: accountId });
    }
    // Nothing new since the stored one (an idle account after a restart): no export, no seal.
    const applied = rs.appliedSeq;
    const stored = applied > 0 ? await this.d.snapshots.complete(accountId, applied) : undefined;
    if (stored === true) {
      if (this.d.store.replicaState(accountId)?.appliedSeq === applied) this.pending.delete(accountId);
      return { account: accountId, seq: applied, items: null, bytes: null, existing: true };
    }
    if (stored === false) {
      // Not retried every sweep: the account's next write makes a new seq to snapshot at.
      if (this.d.store.replicaState(accountId)?.appliedSeq === applied) this.pending.delete(accountId);
      throw halfWritten(accountId, applied, "its chunks do not match its manifest");
    }
    const pendingBefore = this.pending.get(accountId);
    const taken = await this.sealer.seal(this.d.keyring, accountId, this.d.host, this.d.clock.now());
    if (!taken) {
      throw new NodeError("UNAVAILABLE", `account ${accountId} has nothing applied on ${this.d.host} yet; snapshot it after its first write`, {
        account: accountId,
      });
    }
    const { sealed, position, items } = taken;
    if (position.epoch > 1 && position.grant === null) {
      // A copy older than the stored grants (schema 5): its snapshot could not prove the primary.
      throw new NodeError(
        "UNAVAILABLE",
        `account ${accountId} on ${this.d.host} does not know the grant of its promotion to epoch ${position.epoch} (applied before this release); it is snapshotted after its next promotion`,
        { account: accountId },
      );
    }
    let existing = false;
    try {
      await this.d.snapshots.write(accountId, position.seq, sealed);
    } catch (e) {
      // Someone (this mailstore before a restart) already stored the snapshot at this seq.
      if (!(e instanceof FencedError)) {
        this.stats.failed++;
        throw e;
      }
      // One whose writer died half-way is never read: it cannot be completed, so say so.
      await this.d.snapshots.read(accountId, position.seq).catch((err: unknown) => {
        this.stats.failed++;
        throw halfWritten(accountId, position.seq, (err as Error).message);
      });
      existing = true;
    }
    // Entries applied while it was written stay pending for the next one.
    const after = this.pending.get(accountId);
    if (after && after === pendingBefore) {
      const rsNow = this.d.store.replicaState(accountId);
      if (rsNow?.appliedSeq === position.seq) this.pending.delete(accountId);
    }
    if (!existing) {
      this.stats.taken++;
      this.d.log?.info({ accountId, seq: position.seq, items, bytes: sealed.length }, "snapshot taken");
    }
    return { account: accountId, seq: position.seq, items, bytes: sealed.length, existing };
  }
}

/** A snapshot subject written once and left incomplete: it cannot be completed nor replaced at that seq. */
function halfWritten(accountId: string, seq: number, why: string): NodeError {
  return new NodeError(
    "UNAVAILABLE",
    `account ${accountId}: a snapshot at seq ${seq} was left half-written (${why}); the next one is taken after the account's next write`,
    { account: accountId },
  );
}
