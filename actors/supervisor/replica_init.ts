// setAccountDestination as an operation: the replica is added to each account's directory
// record (compare-and-set), the destination's agent sees it through its directory watch and
// seeds from the log; the operation ends when every new replica has caught up with the log
// head it had when added (a lagged replica: with every entry older than its delay), and the
// Global Admin is notified.
import { replicaDelay, type AccountRecord } from "../../src/directory/types.js";
import { AppError } from "../../src/jsonrpc/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { localStatuses } from "./account_status.js";
import { emptyLogReason } from "../shared/empty_log.js";
import type { OperationRecord, OperationResult } from "./operations.js";
import type { OperationEndNotifier, SupervisorCore } from "./context.js";
import type { LicenceQuota } from "./licence.js";
import type { Operations } from "./operations.js";
import { isEnabled, type Hold } from "./quota_ledger.js";

/** Thrown inside a record change: the account would get its first replica and the hold has no room left. */
class NeedsQuota extends Error {}

/** What setAccountDestination's operation uses of the supervisor. */
export interface ReplicaInitContext extends Pick<SupervisorCore, "directory" | "clock" | "log" | "assets" | "isActive">, OperationEndNotifier {
  readonly licence: LicenceQuota;
  readonly operations: Operations;
}

export interface ReplicaInitOptions {
  /** how long a replica may take to catch up before the operation reports it failed */
  timeoutMs: number;
  pollMs: number;
}

export class ReplicaInitializer {
  constructor(
    private readonly node: ReplicaInitContext,
    private readonly opts: ReplicaInitOptions,
  ) {}

  /**
   * Adds the replica to each record. `hold` is the quota held for it (licence.ts): an account
   * that gets its first replica must fit in the hold (grown, or refused, when an account lost
   * its replica since the hold was taken), and is marked on it. `delay` (seconds) makes it a
   * lagged replica; undefined leaves an existing replica's delay as it is (a new one gets 0).
   */
  async start(
    recs: AccountRecord[],
    destination: string,
    priority: number,
    hold: Hold,
    delay?: number,
  ): Promise<{ operationId: string; accounts: Array<Record<string, unknown>> }> {
    const accounts: Array<Record<string, unknown>> = [];
    /** each replica's delay as stored */
    const delays = new Map<string, number>();
    for (const r of recs) {
      for (;;) {
        if (!hold.alive)
          throw new AppError(
            "DIRECTORY_CONFLICT",
            `the quota hold of this change was dropped as stale before ${r.name} was changed; accounts before it got the replica; retry`,
            { account: r.name },
          );
        // Whether the last attempt gives the account its first replica: counted even when the
        // write's outcome is unknown, since counting one too many is the safe side.
        let enables = false;
        try {
          await this.node.directory.updateAccount(r.id, (rec) => {
            enables = false;
            let cur = rec.replicas.find((x) => x.destination === destination);
            if (cur) cur.priority = priority;
            else {
              if (!isEnabled(rec)) {
                if (!hold.hasRoom) throw new NeedsQuota();
                enables = true;
              }
              cur = { destination, priority, state: "active", generation: 0, addedAt: this.node.clock.now() };
              rec.replicas.push(cur);
            }
            // Stored only when lagged: records of replicas that are not stay as they were.
            if (delay === 0) delete cur.delay;
            else if (delay !== undefined) cur.delay = delay;
            delays.set(r.id, replicaDelay(cur));
            return rec;
          });
        } catch (e) {
          if (e instanceof NeedsQuota) {
            await hold.grow(1, this.node.licence.refusal);
            continue;
          }
          if (enables) hold.mark(r.id);
          throw e;
        }
        if (enables) hold.mark(r.id);
        break;
      }
      accounts.push({ account: r.name, accountId: r.id, destination, priority, delay: delays.get(r.id) ?? 0, status: "initializing" });
    }
    const op = await this.node.operations.create("setAccountDestination", recs.length, {
      destination,
      priority,
      ...(delay !== undefined ? { delay } : {}),
      accounts: recs.map((r) => r.name),
    });
    void this.follow(op, recs, destination, delays).catch((e) =>
      this.node.log.error({ operationId: op.operationId, destination, error: (e as Error).message }, "operation failed"),
    );
    return { operationId: op.operationId, accounts };
  }

  /** Takes over an operation a previous supervisor left running. */
  async resume(op: OperationRecord): Promise<void> {
    const p = op.params as { destination: string; accounts: string[] };
    const recorded = new Set(op.results.map((r) => r.account));
    const recs: AccountRecord[] = [];
    for (const name of p.accounts) {
      if (recorded.has(name)) continue;
      const rec = await this.node.directory.find(name);
      if (rec) recs.push(rec.value);
      else await this.record(op, { account: name, ok: false, code: "ACCOUNT_UNKNOWN", message: `${name} no longer exists` });
    }
    const delays = new Map(recs.map((r) => [r.id, replicaDelay(r.replicas.find((x) => x.destination === p.destination) ?? {})]));
    await this.follow(op, recs, p.destination, delays);
  }

  /** Records an outcome; saved (coalesced) only while this supervisor is still the active one. */
  private record(op: OperationRecord, result: OperationResult): Promise<void> {
    return this.node.operations.record(op, result, () => this.node.isActive);
  }

  /**
   * A lagged replica is as caught up as it can be once the first entry it has not applied
   * (if any) is younger than its delay: it holds that one back on purpose.
   */
  private async heldBackOnly(id: string, appliedSeq: number, delaySeconds: number): Promise<boolean> {
    const a = this.node.assets;
    // A read that fails (an election) says nothing: asked again at the next poll.
    const next = await a.jsm.direct.getMessage(a.opts.txStream, { seq: appliedSeq + 1, next_by_subj: txSubject(id) }).catch(() => undefined);
    if (next === undefined) return false;
    return next === null || this.node.clock.now() - next.time.getTime() < delaySeconds * 1000;
  }

  private async follow(op: OperationRecord, recs: AccountRecord[], destination: string, delays: ReadonlyMap<string, number>): Promise<void> {
    const a = this.node.assets;
    const logOf = (id: string): SubjectLog => new SubjectLog(a.js, a.jsm, a.opts.txStream, txSubject(id));
    // The log head when the replica was added. 0 means the log is empty although the account
    // exists: either its account.created is still being appended (the directory record is
    // written just before it), or its start was removed. Such a replica is never ready at 0.
    const target = new Map<string, number>();
    for (const r of recs) target.set(r.id, await logOf(r.id).lastSeq());
    const pending = new Map(recs.map((r) => [r.id, r]));
    const deadline = this.node.clock.now() + this.opts.timeoutMs;
    while (pending.size > 0) {
      // A supervisor that stopped or lost the lease leaves the operation "running" for the
      // next active one to resume; nothing is half-recorded.
      if (!this.node.isActive) return;
      for (const id of pending.keys()) if (target.get(id) === 0) target.set(id, await logOf(id).lastSeq());
      const local = (await localStatuses(a.nc, new Map([[destination, [...pending.keys()]]]))).get(destination);
      for (const [id, rec] of [...pending]) {
        const st = local?.get(id);
        const head = target.get(id) ?? 0;
        if (st?.status === "unavailable") {
          pending.delete(id);
          await this.record(op, {
            account: rec.name,
            accountId: id,
            ok: false,
            code: "REPLICA_UNAVAILABLE",
            message: st.error ?? "replica unavailable",
          });
        } else if (
          st &&
          head > 0 &&
          (st.appliedSeq >= head || (st.status === "available" && (delays.get(id) ?? 0) > 0 && (await this.heldBackOnly(id, st.appliedSeq, delays.get(id)!))))
        ) {
          pending.delete(id);
          await this.record(op, { account: rec.name, accountId: id, ok: true, destination, sequence: st.appliedSeq });
        }
      }
      if (pending.size === 0) break;
      if (this.node.clock.now() > deadline) {
        for (const [id, rec] of pending) {
          if ((target.get(id) ?? 0) === 0) {
            await this.record(op, {
              account: rec.name,
              accountId: id,
              ok: false,
              code: "REPLICA_UNAVAILABLE",
              message: emptyLogReason(id, destination),
            });
          } else {
            await this.record(op, {
              account: rec.name,
              accountId: id,
              ok: false,
              code: "TIMEOUT",
              message: `${destination} did not catch up within ${this.opts.timeoutMs} ms; check it with getAccountStatus`,
            });
          }
        }
        break;
      }
      await new Promise((r) => setTimeout(r, this.opts.pollMs));
    }
    const done = await this.node.operations.finish(op);
    await this.node.notifyOperationEnd(done, `replica initialization on ${destination}`);
  }
}
