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

/** What the directory says of the account now: its primary and epoch. */
export interface DirectoryView {
  mailHost: string;
  epoch: number;
}

/**
 * Throws SnapshotAuthorshipError unless `signer` may have taken `s`. At the creation epoch no
 * grant exists, and once the log is compacted its first entry (which named the creator) is gone:
 * the creator is then known only from the directory (which only supervisors write), so an
 * epoch-1 snapshot is taken only while the directory still says epoch 1 and names its primary.
 */
export function checkSnapshotAuthorship(
  trust: TrustList,
  s: AccountSnapshot,
  signer: string,
  directory: DirectoryView | undefined,
  opts: { forLiveCopy: boolean },
): void {
  const where = `snapshot of account ${s.account} at seq ${s.seq}`;
  if (signer !== s.writer) throw new SnapshotAuthorshipError(`${where} names writer ${s.writer} but is signed by ${signer}`);
  if (s.writer !== s.primary) throw new SnapshotAuthorshipError(`${where} was taken by ${s.writer}, not by the primary it names (${s.primary})`);
  // A former primary holds a valid grant for its old epoch: for a copy that goes on from the
  // snapshot only the current primary's snapshots (or one of the directory's epoch) count. A
  // restore to a past point may use an older one.
  if (opts.forLiveCopy && directory !== undefined && s.epoch < directory.epoch && s.primary !== directory.mailHost) {
    throw new SnapshotAuthorshipError(
      `${where} was taken by ${s.primary} at epoch ${s.epoch}; the directory names ${directory.mailHost} at epoch ${directory.epoch}: a snapshot by the current primary replaces it`,
    );
  }
  if (s.state.account.mailHost !== s.primary) {
    throw new SnapshotAuthorshipError(`${where} names primary ${s.primary}, but its account row says ${s.state.account.mailHost}`);
  }
  if (s.epoch === 1) {
    if (s.grant !== null) throw new SnapshotAuthorshipError(`${where} carries a grant at the creation epoch`);
    if (directory === undefined || directory.epoch !== 1 || directory.mailHost !== s.primary) {
      throw new SnapshotAuthorshipError(
        `${where} names ${s.primary} primary at the creation epoch, which the directory (${directory ? `${directory.mailHost} at epoch ${directory.epoch}` : "no record"}) does not confirm; a snapshot by the current primary replaces it`,
      );
    }
    return;
  }
  const problem = grantProblem(trust, s.grant ?? undefined, { account: s.account, epoch: s.epoch, host: s.primary });
  if (problem !== undefined) throw new SnapshotAuthorshipError(`${where} names ${s.primary} primary at epoch ${s.epoch}, but ${problem}`);
}
