// promoteAccounts (docs/architecture.md, Promotion): move accounts' write role to their best replica, with the old
// primary alive (planned switchover) or dead (failover). Accounts go in batches: each one's
// target chosen and its grant signed, then one promoteMany call per target for the batch, then
// each account's directory record; an account the batch gives no answer for (no reply, a
// transient refusal) is asked again alone (promote), as below. Per account:
//   1. target: the destination given, else the replicas by ascending priority, first alive
//      (fresh heartbeat) and available; lagged replicas (a delay) are skipped then: they hold
//      back recent entries on purpose, and the operator promotes one only by naming it;
//   2. if the old primary is alive, ask it to stop writing (bounded; the fence makes it
//      optional for correctness);
//   3. the target drains the log (a lagged one too, its delay ignored) and appends
//      Promoted{epoch+1, grant} at the head (promoteHere);
//      the grant is this supervisor's signature over (account, epoch+1, target), without
//      which no reader accepts the promotion (log_authorship.ts);
//   4. the directory follows by compare-and-set: primary = target, epoch + 1, the old primary
//      kept as a replica that must catch up.
// Every step can be repeated: a supervisor that dies anywhere leaves an account whose log and
// directory the next run reconciles (the log wins), never a half-promoted one.
import { AppError, RpcClientError, RpcError, rpcCall, toErrorObject } from "../../src/jsonrpc/index.js";
import { signPromotionGrant } from "../../src/envelope/index.js";
import { retryTransient, transientReason } from "../../src/jetstream/transient.js";
import { replicaDelay, type AccountRecord, type ReplicaRecord, type Versioned } from "../../src/directory/types.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";
import type { PromoteHereResult, PromoteManyOutcome, PromoteManyResult } from "../../src/protocol/node_api.js";
import { askLogHead } from "./ask_log_head.js";
import { recordPromotion } from "./promotion_record.js";
import type { OperationRecord, OperationResult, Operations } from "./operations.js";
import type { SupervisorCore } from "./context.js";
import type { GrantKey } from "./grant_key.js";
import type { SupervisorMetrics } from "./metrics.js";
import type { SupervisorOptions } from "./supervisor_options.js";
import { AliveMailstores } from "./promotion_liveness.js";
import { ReplicaStatusBatcher } from "./promotion_replica_status.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { Slots } from "../../src/runtime/slots.js";

export interface PromotedAccount {
  account: string;
  accountId: string;
  from: string;
  to: string;
  epoch: number;
  ms: number;
}

export interface PromotionRequest {
  /** account ids */
  accountIds: string[];
  /**
   * Each account's epoch when the operation started: an account found at a higher epoch was
   * already promoted by this operation (a resumed run must not move it again).
   */
  startEpochs: Record<string, number>;
  /** force this replica instead of the priority order */
  destination?: string;
  /** batches promoted at once (each one promoteMany call per target, of up to PROMOTE_BATCH accounts) */
  threads: number;
}

const TARGET_TIMEOUT_MS = 60_000;

/**
 * Longest wait for one promote call's answer. Core NATS request/reply is at most once: a
 * request or reply passing through a nats-server node that dies is lost without an error,
 * so waiting longer only delays asking again (which is safe: promoteHere is idempotent per
 * epoch, and a promote asked again while it runs gets that run's answer).
 */
const PROMOTE_ATTEMPT_MS = 10_000;

/**
 * Most accounts in one batch: one promoteMany call to their target (fewer when the accounts
 * are fewer than threads × this, so every thread has a batch). Large enough that a batch's
 * appends, SQLite transaction and directory writes are pipelined, small enough that its answer
 * comes in a few seconds on a loaded machine.
 */
export const PROMOTE_BATCH = 200;

/**
 * promoteMany calls under way at once per target, over every operation of this supervisor: a
 * target works through a batch mostly on its one thread (signatures, its SQLite transaction),
 * so more calls at once only queue there, each waiting out its timeout (seen: 10 operations of
 * 1,000 accounts, 40 batches sent at once, most timed out after 14 s and were asked again one
 * account at a time). Two keep it busy: one's appends are on their way while it works on the other.
 */
export const PROMOTE_MANY_PER_TARGET = 2;

/** A promoteMany call waits PROMOTE_ATTEMPT_MS and this much longer per account it names. */
const PROMOTE_MANY_MS_PER_ACCOUNT = 20;

/** An account ready for its promote call: target chosen, grant signed, the old primary asked to stop. */
interface PreparedPromotion {
  read: Versioned<AccountRecord>;
  rec: AccountRecord;
  target: ReplicaRecord;
  epoch: number;
  grant: string;
  /** the mailstores with a fresh heartbeat when it was prepared */
  alive: Set<string>;
  oldAlive: boolean;
  started: number;
}

function failure(rec: Pick<AccountRecord, "id" | "name">, e: unknown): OperationResult {
  const err = e as { appCode?: string; code?: unknown; message?: string; data?: { code?: string } };
  if (err instanceof RpcError)
    return { account: rec.name, accountId: rec.id, ok: false, code: err.data?.code ?? err.appCode ?? String(err.code), message: err.message };
  // Our coded errors keep their code; a NATS client failure gets the code a caller would see.
  const mapped = toErrorObject(e);
  const code = (mapped.error.data as { code?: unknown } | undefined)?.code;
  const transient = transientReason(e);
  return {
    account: rec.name,
    accountId: rec.id,
    ok: false,
    code: typeof code === "string" ? code : "APP_ERROR",
    message: transient ? `${transient}: ${err.message ?? String(e)}; run promoteAccounts again for this account` : (err.message ?? String(e)),
  };
}

/**
 * A promote worth asking again: the target's refusal that says JetStream was not reachable
 * for it and nothing was done (UNAVAILABLE: reading the log failed, or the append was refused
 * as unavailable, promotion_target.ts); or no answer at all: none in time, nobody subscribed
 * (the target's connection moving to another nats-server), or our own connection lost.
 */
function targetTransient(e: unknown): boolean {
  if (e instanceof RpcError) return e.appCode === "UNAVAILABLE";
  if (e instanceof RpcClientError) return e.code === "TIMEOUT" || e.code === "NO_RESPONDER";
  return transientReason(e) !== undefined;
}

/** No replica is usable, and an alive one did not answer: asking again may find it. */
class ReplicaStateUnknown extends Error {
  constructor(readonly refusal: AppError) {
    super(refusal.message);
  }
}

/** What a promotion uses of the supervisor. */
export interface PromoterContext extends Pick<SupervisorCore, "isActive" | "clock" | "directory" | "assets" | "nc" | "log"> {
  /** how many times this supervisor became active: a run records only in its own activation */
  readonly activations: number;
  /** read at each promotion: set after the node is built, when metrics.listen is configured */
  readonly metrics: Pick<SupervisorMetrics, "promotion"> | undefined;
  readonly operations: Operations;
  /** signs the grant that lets the target append Promoted */
  readonly grantKey: GrantKey;
  readonly opts: Pick<SupervisorOptions, "promoteTimeoutMs" | "promoteBatchSize">;
}

export class Promoter {
  /** the heartbeats, read once for the accounts promoted within a second, not once per account */
  private readonly alive: AliveMailstores;
  /** replicas' copy states: one accountStatus per mailstore for the accounts asking together */
  private readonly statuses: ReplicaStatusBatcher;
  /** per target mailstore: its promoteMany calls under way (PROMOTE_MANY_PER_TARGET) */
  private readonly targetSlots = new Map<string, Slots>();

  constructor(private readonly node: PromoterContext) {
    this.alive = new AliveMailstores(node.assets.nodes);
    this.statuses = new ReplicaStatusBatcher(node.nc);
  }

  /** Runs (or resumes) a promotion operation to its end; every account gets one result. */
  async run(op: OperationRecord, req: PromotionRequest): Promise<OperationRecord> {
    // This run's activation only: after the lease was lost, even for a moment, the next
    // activation resumes the operation, and this run must not record beside it (a promotion
    // it gave up while inactive would be reported failed, though the resumed run promotes it).
    const activation = this.node.activations;
    const owns = (): boolean => this.node.isActive && this.node.activations === activation;
    const done = new Set(op.results.map((r) => r.accountId));
    const pending = req.accountIds.filter((id) => !done.has(id));
    const size = Math.max(1, Math.min(this.node.opts.promoteBatchSize ?? PROMOTE_BATCH, Math.ceil(pending.length / req.threads)));
    const batches: string[][] = [];
    for (let i = 0; i < pending.length; i += size) batches.push(pending.slice(i, i + size));
    const report = async (result: OperationResult, startedAt: number): Promise<void> => {
      this.node.metrics?.promotion(result.ok, this.node.clock.now() - startedAt);
      if (!owns()) return;
      await this.node.operations.record(op, result, owns);
    };
    // Stops when the lease is lost: the next activation (here or elsewhere) resumes.
    await runBounded(batches, req.threads, (ids) => this.promoteBatch(ids, req, report), { stop: () => !owns() });
    if (!owns()) return op;
    return this.node.operations.finish(op);
  }

  /**
   * Promotes a batch of accounts: each prepared (target chosen, grant signed), then one
   * promoteMany call per target, then each account recorded; every account is reported once.
   */
  private async promoteBatch(ids: readonly string[], req: PromotionRequest, report: (r: OperationResult, startedAt: number) => Promise<void>): Promise<void> {
    const byTarget = new Map<string, PreparedPromotion[]>();
    await Promise.all(
      ids.map(async (id) => {
        const startedAt = this.node.clock.now();
        let p: PreparedPromotion | PromotedAccount;
        try {
          p = await this.prepare(id, req.destination, req.startEpochs?.[id]);
        } catch (e) {
          return report(await this.failed(id, e), startedAt);
        }
        if (!("grant" in p)) return report({ ...p, ok: true }, startedAt);
        const group = byTarget.get(p.target.destination) ?? [];
        group.push(p);
        byTarget.set(p.target.destination, group);
      }),
    );
    await Promise.all(
      [...byTarget].map(async ([host, group]) => {
        const outcomes = await this.askTargetMany(host, group);
        await Promise.all(
          group.map(async (p) => {
            const result = await this.finishPrepared(p, outcomes.get(p.rec.id)).then(
              (a): OperationResult => ({ ...a, ok: true }),
              (e) => this.failed(p.rec.id, e),
            );
            await report(result, p.started);
          }),
        );
      }),
    );
  }

  /**
   * One promoteMany call for `group` (all with target `host`): each account's outcome, none
   * when the call got no answer (or was refused as a whole: a target that does not know the
   * method), so that each is asked again alone.
   */
  private async askTargetMany(host: string, group: readonly PreparedPromotion[]): Promise<Map<string, PromoteManyOutcome>> {
    const timeoutMs = Math.min(this.node.opts.promoteTimeoutMs ?? TARGET_TIMEOUT_MS, PROMOTE_ATTEMPT_MS + PROMOTE_MANY_MS_PER_ACCOUNT * group.length);
    let slots = this.targetSlots.get(host);
    if (!slots) this.targetSlots.set(host, (slots = new Slots(PROMOTE_MANY_PER_TARGET)));
    try {
      // The call's clock starts once it is sent: waiting for a slot is not the target being slow.
      // The old primaries stop only then, not for as long as the batch waits.
      const r = await slots.run(async () => {
        await Promise.all(group.map((p) => this.stopOldPrimary(p)));
        return rpcCall<PromoteManyResult>(
          this.node.nc,
          nodeAdminSubject(host),
          "promoteMany",
          { accounts: group.map((p) => ({ account: p.rec.id, epoch: p.epoch, from: p.rec.mailHost, grant: p.grant })) },
          { timeoutMs },
        );
      });
      return new Map(r.outcomes.map((o) => [o.account, o]));
    } catch (e) {
      this.node.log.info(
        { destination: host, accounts: group.length, error: (e as Error).message },
        "promoteMany call failed; asking for each of its accounts alone",
      );
      return new Map();
    }
  }

  /**
   * An account of a batch, after its promoteMany call: promoted (recorded now), refused
   * (its error, the old primary resumed), or no answer or a transient refusal: asked again
   * alone, with the same epoch and grant (askTarget, which asks the log on ambiguity).
   */
  private async finishPrepared(p: PreparedPromotion, outcome: PromoteManyOutcome | undefined): Promise<PromotedAccount> {
    if (outcome && "result" in outcome) return this.recordPrepared(p, outcome.result);
    if (outcome) {
      const refusal = new RpcError(outcome.error.code, outcome.error.message, outcome.error.data);
      if (!targetTransient(refusal)) {
        if (p.oldAlive) await this.resumeOldPrimary(p.rec);
        throw refusal;
      }
    }
    return this.recordPrepared(p, await this.askTarget(p));
  }

  /** The account's report when it cannot be promoted (its name read for it, if the directory answers). */
  private async failed(accountId: string, e: unknown): Promise<OperationResult> {
    // The name is only for the report: a directory that cannot be read now (an election)
    // must not throw here, which would end the run and leave the operation running.
    return failure((await this.node.directory.byId(accountId).catch(() => undefined))?.value ?? { id: accountId, name: accountId }, e);
  }

  /**
   * Steps 1 and 2, and the grant: the account's target chosen, the grant signed, a live old
   * primary asked to stop writing. An account already promoted by this operation (before a
   * resume) is reported as it is instead.
   */
  private async prepare(accountId: string, destination?: string, startEpoch?: number): Promise<PreparedPromotion | PromotedAccount> {
    const started = this.node.clock.now();
    const read = await this.again(() => this.node.directory.get(accountId));
    const rec = read.value;
    if (startEpoch !== undefined && rec.epoch > startEpoch) {
      // Done before a supervisor change: report it, do not move the account again.
      return { account: rec.name, accountId, from: "(before resume)", to: rec.mailHost, epoch: rec.epoch, ms: 0 };
    }
    const alive = await this.again(() => this.alive.get());
    const target = await this.chooseTargetPatiently(rec, alive, destination);
    const epoch = rec.epoch + 1;
    // Signed before anything changes: without a grant no reader would accept the promotion.
    const grant = signPromotionGrant(this.node.grantKey.signer(), { account: accountId, epoch, host: target.destination });
    return { read, rec, target, epoch, grant, alive, oldAlive: alive.has(rec.mailHost), started };
  }

  /** Planned switchover: the old primary stops first (just before the promote call), so the drain ends quickly. */
  private async stopOldPrimary(p: PreparedPromotion): Promise<void> {
    if (!p.oldAlive) return;
    await rpcCall(this.node.nc, nodeAdminSubject(p.rec.mailHost), "stopWriting", { account: p.rec.id }, { timeoutMs: 5_000 }).catch(() => {});
  }

  /**
   * The steps before the promote call change nothing and the directory update is a
   * compare-and-set: each is repeated while JetStream elects a leader (a nats-server node lost).
   */
  private again<T>(step: () => Promise<T>): Promise<T> {
    return retryTransient(step, { deadlineMs: this.node.opts.promoteTimeoutMs ?? TARGET_TIMEOUT_MS, stillWanted: () => this.node.isActive });
  }

  /**
   * Step 3 for one account: promote asked of its target until it answers, or the log says
   * what happened; throws (the old primary resumed) when the account was not promoted.
   */
  private async askTarget(p: PreparedPromotion): Promise<PromoteHereResult> {
    const { rec, target, epoch, grant, alive, oldAlive } = p;
    const accountId = rec.id;
    let r: PromoteHereResult | undefined;
    const deadline = Date.now() + (this.node.opts.promoteTimeoutMs ?? TARGET_TIMEOUT_MS);
    for (let delay = 200; r === undefined; delay = Math.min(2_000, delay * 2)) {
      // The same epoch and grant every time: a target that got an earlier attempt answers
      // what that one did (promotion_target.ts), it never promotes to a second epoch.
      const attemptMs = Math.max(1, Math.min(PROMOTE_ATTEMPT_MS, deadline - Date.now()));
      try {
        r = await rpcCall<PromoteHereResult>(
          this.node.nc,
          nodeAdminSubject(target.destination),
          "promote",
          { account: accountId, epoch, from: rec.mailHost, grant },
          { timeoutMs: attemptMs },
        );
      } catch (e) {
        // No answer is not "not promoted": the target may have appended Promoted and then died,
        // timed out or failed to apply. Ask the log; the directory follows what it says.
        // Any alive mailstore can read it (the supervisor holds no log key); those that know the account first.
        const known = [target.destination, rec.mailHost, ...rec.replicas.map((x) => x.destination)].filter((h) => alive.has(h));
        const head = await askLogHead(this.node.nc, accountId, new Set([...known, ...alive]));
        if (head && head.epoch > rec.epoch && head.host) {
          this.node.log.warn(
            { account: rec.name, accountId, destination: target.destination, error: (e as Error).message, host: head.host, epoch: head.epoch },
            "promote call failed, but the account's log names a new primary: recording that",
          );
          r = { host: head.host, epoch: head.epoch, seq: head.seq, alreadyPromoted: true };
          break;
        }
        // The target could not read or write the log while JetStream elected a leader, or no
        // answer came (a nats-server node lost with the request or the reply): the log does not
        // name the target yet, so ask again until the deadline.
        if (targetTransient(e) && Date.now() + delay < deadline && this.node.isActive) {
          this.node.log.info(
            { account: rec.name, accountId, destination: target.destination, error: (e as Error).message, retryMs: delay },
            "promote call failed while JetStream elects a leader; asking again",
          );
          await new Promise((res) => setTimeout(res, delay));
          continue;
        }
        if (oldAlive) await this.resumeOldPrimary(rec);
        throw e;
      }
    }
    return r;
  }

  /** Step 4: the directory follows what the target (or the log) answered. */
  private async recordPrepared(p: PreparedPromotion, promoted: PromoteHereResult): Promise<PromotedAccount> {
    const { rec, read, target } = p;
    const final = (
      await this.again(() =>
        recordPromotion(this.node.directory, rec.id, { host: promoted.host, epoch: promoted.epoch }, this.node.clock.now(), target.priority, read),
      )
    ).record;
    this.node.log.info({ account: rec.name, accountId: rec.id, from: rec.mailHost, destination: final.mailHost, epoch: final.epoch }, "promoted");
    return { account: rec.name, accountId: rec.id, from: rec.mailHost, to: final.mailHost, epoch: final.epoch, ms: this.node.clock.now() - p.started };
  }

  /** The promotion did not happen and the directory still names the old primary: it writes again now. */
  private async resumeOldPrimary(rec: AccountRecord): Promise<void> {
    const cur = (await this.node.directory.byId(rec.id))?.value;
    if (!cur || cur.mailHost !== rec.mailHost || cur.epoch !== rec.epoch) return;
    await rpcCall(this.node.nc, nodeAdminSubject(rec.mailHost), "resumeWriting", { account: rec.id }, { timeoutMs: 5_000 }).then(
      () => this.node.log.info({ account: rec.name, accountId: rec.id, host: rec.mailHost }, "promotion failed: the old primary writes the account again"),
      (e: Error) =>
        this.node.log.warn(
          { account: rec.name, accountId: rec.id, host: rec.mailHost, error: e.message },
          "promotion failed and the old primary was not told to resume; it resumes when its stopWriting period ends",
        ),
    );
  }

  private async chooseTarget(rec: AccountRecord, alive: Set<string>, destination?: string): Promise<ReplicaRecord> {
    if (destination !== undefined) {
      if (destination === rec.mailHost) {
        throw new AppError("DESTINATION_IS_PRIMARY", `${destination} is already the primary of ${rec.name}`, { account: rec.name, destination });
      }
      const r = rec.replicas.find((x) => x.destination === destination);
      if (!r) {
        throw new AppError(
          "REPLICA_UNAVAILABLE",
          `${destination} holds no replica of ${rec.name} (replicas: ${rec.replicas.map((x) => x.destination).join(", ") || "none"}); setAccountDestination first`,
          { account: rec.name, destination },
        );
      }
      if (!alive.has(destination))
        throw new AppError("REPLICA_UNAVAILABLE", `${destination} is not running (no fresh heartbeat); start it or promote to another replica`, {
          account: rec.name,
          destination,
        });
      return r;
    }
    const candidates = rec.replicas
      .filter((r) => r.state === "active" && replicaDelay(r) === 0 && alive.has(r.destination))
      .sort((a, b) => a.priority - b.priority || a.destination.localeCompare(b.destination));
    const statuses = await this.statuses.ask(
      candidates.map((c) => c.destination),
      rec.id,
    );
    const usable = candidates.find((c) => statuses.get(c.destination)?.get(rec.id)?.status === "available");
    if (!usable) {
      const lagged = rec.replicas.filter((r) => replicaDelay(r) > 0).map((r) => r.destination);
      const why =
        rec.replicas.length === 0
          ? "it has no replica (setAccountDestination first)"
          : `none of its replicas (${rec.replicas.map((r) => `${r.destination}/${r.priority}`).join(", ")}) is alive, available and not lagged` +
            (lagged.length ? ` (lagged replicas are promoted only when named: promoteAccounts ... destination ${lagged[0]})` : "");
      const unanswered = candidates.filter((c) => statuses.get(c.destination) === undefined).map((c) => c.destination);
      const err = new AppError(
        "REPLICA_UNAVAILABLE",
        `cannot promote ${rec.name}: ${why}${unanswered.length ? ` (${unanswered.join(", ")} did not answer for its copy's state)` : ""}`,
        { account: rec.name },
      );
      throw unanswered.length ? new ReplicaStateUnknown(err) : err;
    }
    return usable;
  }

  /**
   * chooseTarget, asked again while an alive replica did not answer for its copy's state (its
   * connection moving to another nats-server after a node loss), until promoteTimeoutMs.
   */
  private async chooseTargetPatiently(rec: AccountRecord, alive: Set<string>, destination?: string): Promise<ReplicaRecord> {
    const deadline = Date.now() + (this.node.opts.promoteTimeoutMs ?? TARGET_TIMEOUT_MS);
    for (let delay = 200; ; delay = Math.min(2_000, delay * 2)) {
      try {
        return await this.chooseTarget(rec, alive, destination);
      } catch (e) {
        if (!(e instanceof ReplicaStateUnknown)) throw e;
        if (Date.now() + delay > deadline || !this.node.isActive) throw e.refusal;
        await new Promise((res) => setTimeout(res, delay));
      }
    }
  }
}
