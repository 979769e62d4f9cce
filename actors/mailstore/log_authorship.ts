// Who may write an account's log: the one check every reader runs before applying an entry
// (replica agent, its catch-ups, the primary's own replay, the promotion drain). open() proved
// which trusted mailstore key signed the bytes; this proves that mailstore was allowed to
// write this entry, using only what the log itself says:
//   - the signer is the batch's writer;
//   - the first entry creates the account and names its writer as the first primary;
//   - an entry of the current epoch comes from the primary the log names at that epoch;
//   - the epoch moves only through a Promoted{epoch, host} written by `host` and carrying a
//     grant a trusted supervisor signed for exactly (account, epoch, host);
//   - an entry of an older epoch (a fenced writer's late batch) is skipped, as before.
// So a key in trusted-signers.json lets a mailstore write only the accounts the log gives it.
import { grantProblem, type TrustList } from "../../src/envelope/index.js";
import type { PromotedEvent, TxBatch } from "../../src/mail/index.js";
import { CodedError } from "../../src/errors/index.js";

export type AuthorshipCode =
  /** the envelope's signer is not the batch's writer */
  | "LOG_SIGNER_NOT_WRITER"
  /** the first entry does not create the account with its writer as primary */
  | "LOG_BAD_CREATION"
  /** an entry of the current epoch from another host than the primary the log names */
  | "LOG_WRITER_NOT_PRIMARY"
  /** a newer epoch without a valid promotion */
  | "LOG_EPOCH_RAISED"
  /** a Promoted event that is malformed, not newer, not the writer's, or without a valid grant */
  | "LOG_BAD_PROMOTION";

/** Not caller-facing: promotion_target.ts answers a refused promotion as APP_ERROR with this code as data.cause. */
export class AuthorshipError extends CodedError<AuthorshipCode> {}

/** What the applied log says so far (replica_state). */
export interface LogPosition {
  epoch: number;
  primaryHost: string | null;
  appliedSeq: number;
}

/** "apply": its effects count; "stale": a fenced writer's batch, skipped (the store moves past it). */
export type Authorship = "apply" | "stale";

/** Throws AuthorshipError unless `signer` may have written `batch` at this point of the log. */
export function checkAuthorship(trust: TrustList, pos: LogPosition, batch: TxBatch, signer: string): Authorship {
  const where = `entry of account ${batch.account} at epoch ${batch.epoch}`;
  if (signer !== batch.writer) {
    throw new AuthorshipError(
      "LOG_SIGNER_NOT_WRITER",
      `${where} names writer ${batch.writer} but is signed by ${signer}: a mailstore may only write as itself`,
    );
  }
  const promotions = batch.events.filter((e): e is PromotedEvent => e.t === "promoted");
  if (pos.primaryHost === null) {
    if (pos.appliedSeq > 0) {
      throw new AuthorshipError(
        "LOG_BAD_CREATION",
        `${where}: this copy has applied up to seq ${pos.appliedSeq} but does not know the account's primary; restartReplicas re-seeds it from the start of the log`,
      );
    }
    const first = batch.events[0];
    if (first?.t !== "account.created" || promotions.length > 0) {
      throw new AuthorshipError(
        "LOG_BAD_CREATION",
        `${where} is the account's first entry but does not create the account: every log starts with account.created`,
      );
    }
    if (first.mailHost !== batch.writer) {
      throw new AuthorshipError(
        "LOG_BAD_CREATION",
        `${where} creates the account with primary ${first.mailHost} but was written by ${batch.writer}: only the first primary writes the first entry`,
      );
    }
    return "apply";
  }
  // A fenced writer's late batch: its effects are skipped, as before the authorship check.
  if (batch.epoch < pos.epoch) return "stale";
  if (batch.epoch === pos.epoch) {
    if (batch.writer !== pos.primaryHost) {
      throw new AuthorshipError(
        "LOG_WRITER_NOT_PRIMARY",
        `${where} was written by ${batch.writer}, but the log names ${pos.primaryHost} as primary at epoch ${pos.epoch}`,
      );
    }
    if (promotions.length > 0) {
      throw new AuthorshipError("LOG_BAD_PROMOTION", `${where} promotes within epoch ${pos.epoch}: a promotion must name a newer epoch`);
    }
    return "apply";
  }
  // A newer epoch: only a promotion, alone in its batch, that a trusted supervisor granted.
  const p = promotions[0];
  if (p === undefined) {
    throw new AuthorshipError(
      "LOG_EPOCH_RAISED",
      `${where} claims an epoch newer than the log's ${pos.epoch} without a promotion: only a supervisor-granted Promoted moves the epoch`,
    );
  }
  if (batch.events.length !== 1 || p.epoch !== batch.epoch || p.host !== batch.writer) {
    throw new AuthorshipError(
      "LOG_BAD_PROMOTION",
      `${where}: a Promoted entry must hold only that event, for its own epoch and its writer (got ${batch.events.length} event(s), promoted epoch ${p.epoch}, host ${p.host}, writer ${batch.writer})`,
    );
  }
  // Any newer epoch, not only epoch + 1: the supervisor derives it from the directory, which
  // can lag the log; the grant is the authority and the epoch still only grows.
  const problem = grantProblem(trust, p.grant, { account: batch.account, epoch: p.epoch, host: p.host });
  if (problem !== undefined) {
    throw new AuthorshipError("LOG_BAD_PROMOTION", `${where} promotes ${p.host}, but ${problem}`);
  }
  return "apply";
}
