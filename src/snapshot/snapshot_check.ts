// Who may have taken a snapshot: the check every reader runs before loading one (a seeding
// replica, a promotion target, the supervisor before it compacts the log below it). Like the
// log's authorship rule (actors/mailstore/log_authorship.ts): the signer is the snapshot's
// writer, the writer is the primary the snapshot names, and a primary past the creation epoch
// is proved by a trusted supervisor's grant for exactly (account, epoch, primary).
import { grantProblem, type TrustList } from "../envelope/index.js";
import { CodedError } from "../errors/index.js";
import type { AccountSnapshot } from "./account_snapshot.js";

export class SnapshotAuthorshipError extends CodedError<"SNAPSHOT_NOT_AUTHORISED"> {
  constructor(message: string) {
    super("SNAPSHOT_NOT_AUTHORISED", message);
  }
}

/** Throws SnapshotAuthorshipError unless `signer` may have taken `s`. */
export function checkSnapshotAuthorship(trust: TrustList, s: AccountSnapshot, signer: string): void {
  const where = `snapshot of account ${s.account} at seq ${s.seq}`;
  if (signer !== s.writer) throw new SnapshotAuthorshipError(`${where} names writer ${s.writer} but is signed by ${signer}`);
  if (s.writer !== s.primary) throw new SnapshotAuthorshipError(`${where} was taken by ${s.writer}, not by the primary it names (${s.primary})`);
  if (s.state.account.mailHost !== s.primary) {
    throw new SnapshotAuthorshipError(`${where} names primary ${s.primary}, but its account row says ${s.state.account.mailHost}`);
  }
  if (s.epoch === 1) {
    if (s.grant !== null) throw new SnapshotAuthorshipError(`${where} carries a grant at the creation epoch`);
    return;
  }
  const problem = grantProblem(trust, s.grant ?? undefined, { account: s.account, epoch: s.epoch, host: s.primary });
  if (problem !== undefined) throw new SnapshotAuthorshipError(`${where} names ${s.primary} primary at epoch ${s.epoch}, but ${problem}`);
}
