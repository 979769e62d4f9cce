import type { TxBatch } from "../mail/events.js";
import { REQUEST_WINDOW_MS } from "../mail/requests.js";
import { applyEvents } from "./apply_events.js";
import { StoreError } from "./errors.js";
import type { Statements } from "./statements.js";
import type { ApplyOutcome, ReplicaState } from "./types.js";
import { toReplicaState } from "./rows.js";

/** Request records pruned per applied batch at most (see requests in migrations.ts). */
const PRUNE_PER_BATCH = 100;

/**
 * Applies one account-log entry: exactly once (by seq) and fenced (by epoch). A function of
 * (rows, accountId, seq, batch) plus `appliedAt`, which only lands in the local applied_at
 * column. Must run inside one transaction (MetadataStore.applyBatch provides it): the
 * effects and the new applied seq commit together or not at all.
 */
export function applyBatchEntry(s: Statements, accountId: string, seq: number, batch: TxBatch, appliedAt: number): ApplyOutcome {
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new StoreError("INVALID_ARGUMENT", `seq ${seq} is not a log sequence; pass the JetStream stream sequence of the message (an integer >= 1)`, { seq });
  }
  const state = s.replicaState.get(accountId);
  if (state === undefined) {
    throw new StoreError(
      "REPLICA_STATE_NOT_FOUND",
      `account ${accountId} is not hosted on this mailstore (no replica_state row); call ensureReplicaState(accountId, role) before applying its log`,
      { account: accountId },
    );
  }
  // Redelivery (a consumer restart, a retried ack) is normal: the first apply already counted.
  if (seq <= state.applied_seq) return { status: "duplicate", seq, appliedSeq: state.applied_seq };

  if (batch.v !== 1 || batch.account !== accountId) {
    throw new StoreError(
      "APPLY_FAILED",
      `account ${accountId}: batch at seq ${seq} is ${batch.v !== 1 ? `format version ${String(batch.v)} (this mailreplica reads 1)` : `for account ${batch.account}`}; nothing was applied — mark this replica unavailable`,
      { account: accountId, seq },
    );
  }
  if (batch.prev > state.applied_seq) {
    throw new StoreError(
      "APPLY_FAILED",
      `account ${accountId}: batch at seq ${seq} follows seq ${batch.prev}, but this store has applied only up to seq ${state.applied_seq}; entries are missing — nothing was applied; mark this replica unavailable and re-read the log from seq ${state.applied_seq + 1}`,
      { account: accountId, seq, prev: batch.prev, appliedSeq: state.applied_seq },
    );
  }
  const current = state.epoch;
  if (batch.epoch < current) {
    // A fenced writer's batch: skip its effects but move past it, so the log keeps flowing.
    s.setApplied.run(seq, appliedAt, current, state.primary_host, accountId);
    return { status: "stale-epoch", seq, epoch: batch.epoch, current };
  }
  // Only the account's first entry or a promotion moves the epoch: a writer that merely claims
  // a newer one would otherwise fence the real primary (actors/mailstore/log_authorship.ts checks who).
  if (batch.epoch > current && state.applied_seq > 0 && !batch.events.some((e) => e.t === "promoted")) {
    throw new StoreError(
      "APPLY_FAILED",
      `account ${accountId}: batch at seq ${seq} claims epoch ${batch.epoch}, newer than the account's ${current}, without a promotion; nothing was applied — mark this replica unavailable`,
      { account: accountId, seq, epoch: batch.epoch, current },
    );
  }
  const epoch = applyEvents(s, { accountId, seq, at: batch.at }, batch.events, Math.max(current, batch.epoch));
  // The primary the log names now: the creator, then whoever each promotion names.
  let primary = state.primary_host;
  for (const e of batch.events) {
    if (e.t === "account.created") primary = e.mailHost;
    else if (e.t === "promoted") {
      primary = e.host;
      // Kept for snapshots: once this entry is compacted, the grant still proves the primary.
      s.setPromotionGrant.run(e.grant ?? null, accountId);
    }
  }
  // Past the window a requestId is forgotten; the batch's time keeps every copy alike.
  s.pruneRequests.run(accountId, batch.at - REQUEST_WINDOW_MS, PRUNE_PER_BATCH);
  s.setApplied.run(seq, appliedAt, epoch, primary, accountId);
  return { status: "applied", seq, epoch, events: batch.events.length };
}

/** One entry of a run: its log seq, the decoded batch, and who signed it. */
export interface LogEntryToApply {
  seq: number;
  batch: TxBatch;
  signer: string;
}

/** Throws when the entry may not be applied onto `state` (the reader's authorship rule). */
export type EntryCheck = (state: ReplicaState, batch: TxBatch, signer: string) => void;

export interface EntryRunOutcome {
  /** each entry applied or skipped (duplicate, stale epoch), in order */
  outcomes: ApplyOutcome[];
  /** why the run ended before its last entry: a gap (the entry follows `prev`), or a refusal */
  stop?: { seq: number; kind: "gap"; prev: number } | { seq: number; kind: "refused"; error: unknown };
}

/**
 * Applies entries in order until one does not follow or is refused. Must run inside one
 * transaction (MetadataStore.applyEntryRun); each entry runs in a savepoint, so a refused one
 * leaves nothing behind and the ones before it commit with the transaction.
 */
export function applyEntryRun(s: Statements, accountId: string, entries: readonly LogEntryToApply[], check: EntryCheck, appliedAt: number): EntryRunOutcome {
  const outcomes: ApplyOutcome[] = [];
  for (const e of entries) {
    const row = s.replicaState.get(accountId);
    if (row === undefined) {
      return {
        outcomes,
        stop: {
          seq: e.seq,
          kind: "refused",
          error: new StoreError("REPLICA_STATE_NOT_FOUND", `account ${accountId} is not hosted on this mailstore`, { account: accountId }),
        },
      };
    }
    const state = toReplicaState(row);
    if (e.seq <= state.appliedSeq) {
      outcomes.push({ status: "duplicate", seq: e.seq, appliedSeq: state.appliedSeq });
      continue;
    }
    if (e.batch.prev !== state.appliedSeq) return { outcomes, stop: { seq: e.seq, kind: "gap", prev: e.batch.prev } };
    s.savepoint.run();
    try {
      check(state, e.batch, e.signer);
      outcomes.push(applyBatchEntry(s, accountId, e.seq, e.batch, appliedAt));
      s.releaseSavepoint.run();
    } catch (error) {
      s.rollbackToSavepoint.run();
      s.releaseSavepoint.run();
      return { outcomes, stop: { seq: e.seq, kind: "refused", error } };
    }
  }
  return { outcomes };
}
