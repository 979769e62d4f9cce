// An account snapshot: the account's whole metadata state at one log seq, sealed and signed
// like a log entry (one envelope, one signature for the whole state). The primary takes it;
// replicas seed from it, and the log below it may then be compacted (docs/architecture.md,
// Snapshots and compaction).
import type { AccountState, StatePosition } from "../store/index.js";
import { CodedError } from "../errors/index.js";

export interface AccountSnapshot {
  /** format version; only 1 exists */
  v: 1;
  kind: "account-snapshot";
  account: string;
  /** the log seq whose effects are the last ones in `state` */
  seq: number;
  /** the epoch and primary the log names at `seq` */
  epoch: number;
  primary: string;
  /** the supervisor's grant that made `primary` primary at `epoch`; null at the creation epoch (1) */
  grant: string | null;
  /** the mailstore that took it (the primary) */
  writer: string;
  /** when it was taken, ms since the epoch on the writer's clock */
  at: number;
  state: AccountState;
}

export class SnapshotFormatError extends CodedError<"SNAPSHOT_INVALID"> {
  constructor(message: string) {
    super("SNAPSHOT_INVALID", message);
  }
}

export function snapshotOf(accountId: string, writer: string, at: number, state: AccountState, position: StatePosition): AccountSnapshot {
  return {
    v: 1,
    kind: "account-snapshot",
    account: accountId,
    seq: position.seq,
    epoch: position.epoch,
    primary: position.primaryHost,
    grant: position.grant,
    writer,
    at,
    state,
  };
}

export function positionOf(s: AccountSnapshot): StatePosition {
  return { seq: s.seq, epoch: s.epoch, primaryHost: s.primary, grant: s.grant };
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === "string";

/**
 * Shape check of a decoded snapshot, down to every row's column types: open() proved who
 * signed the bytes; this proves they are a snapshot of this account at the seq its name says,
 * with rows the store can take.
 */
export function readAccountSnapshot(payload: unknown, accountId: string, seq: number): AccountSnapshot {
  const bad = (why: string) => new SnapshotFormatError(`snapshot of account ${accountId} at seq ${seq} is not valid: ${why}`);
  const s = payload as Partial<AccountSnapshot> | null;
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw bad("not a map");
  if (s.v !== 1 || s.kind !== "account-snapshot") throw bad(`unknown version or kind ${String(s.v)}/${String(s.kind)}`);
  if (s.account !== accountId) throw bad(`it names account ${String(s.account)}`);
  if (s.seq !== seq) throw bad(`it says seq ${String(s.seq)}`);
  if (!isInt(s.epoch) || s.epoch < 1) throw bad("epoch is not a positive integer");
  if (!isStr(s.primary) || !isStr(s.writer) || !isInt(s.at)) throw bad("primary, writer or time missing");
  if (s.grant !== null && !isStr(s.grant)) throw bad("grant is neither null nor a string");
  const st = s.state as Partial<AccountState> | undefined;
  if (typeof st !== "object" || st === null) throw bad("state missing");
  const a = st.account;
  if (typeof a !== "object" || a === null || !isStr(a.name) || !isStr(a.type) || !isStr(a.mailHost) || !isInt(a.lastItemId) || !isInt(a.createdAt)) {
    throw bad("account row is incomplete");
  }
  const rows = (what: string, list: unknown, check: (row: unknown[]) => boolean): void => {
    if (!Array.isArray(list)) throw bad(`${what} is not a list`);
    for (const row of list) if (!Array.isArray(row) || !check(row)) throw bad(`a row of ${what} has the wrong columns: ${JSON.stringify(row).slice(0, 200)}`);
  };
  rows("folders", st.folders, (r) => r.length === 3 && isInt(r[0]) && isStr(r[1]) && (r[2] === null || isInt(r[2])));
  rows(
    "items",
    st.items,
    (r) => r.length === 12 && isInt(r[0]) && isInt(r[1]) && [2, 3, 4, 5, 6, 9, 10, 11].every((i) => isStr(r[i])) && isInt(r[7]) && isInt(r[8]),
  );
  rows("requests", st.requests, (r) => r.length === 5 && isStr(r[0]) && isStr(r[1]) && isStr(r[2]) && isInt(r[3]) && isInt(r[4]));
  if (!Array.isArray(st.tags) || !st.tags.every(isStr)) throw bad("tags is not a list of names");
  return s as AccountSnapshot;
}
