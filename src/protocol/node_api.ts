// What a mailstore answers on its node endpoints (mr.node.<host>.admin), as the supervisor
// reads it: the answer types both processes compile against, defined once. The handlers are in
// actors/mailstore/, the callers in actors/supervisor/; neither imports the other.
import type { ServiceName } from "./admin_params.js";
import type { RestoreOverChanges } from "../mail/restore_over.js";

/** What a mailstore reports for one account it holds (as primary or replica): accountStatus. */
export interface LocalAccountStatus {
  accountId: string;
  role: "primary" | "replica";
  epoch: number;
  appliedSeq: number;
  lastItemId: number;
  mailboxId: number | null;
  status: "available" | "unavailable" | "paused";
  error: string | null;
  appliedAt: number | null;
}

/** The answer to promote. */
export interface PromoteHereResult {
  /** the host the log now names as primary (this one, unless an earlier promotion won) */
  host: string;
  epoch: number;
  /** seq of the Promoted entry (0 when it was already in the log) */
  seq: number;
  alreadyPromoted: boolean;
}

/** Most accounts one promoteMany call may name: ~450 bytes each as JSON, far below 1 MiB. */
export const PROMOTE_MANY_MAX = 500;

/** A JSON-RPC error as it travels (code, message and data with data.code, the stable string). */
export interface PromoteManyError {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * One account's outcome in promoteMany's answer: what promote would have answered for it, or
 * the error promote would have answered (one account's refusal never fails the others).
 */
export type PromoteManyOutcome = { account: string; result: PromoteHereResult } | { account: string; error: PromoteManyError };

/** The answer to promoteMany: one outcome per account asked, in the order asked. */
export interface PromoteManyResult {
  host: string;
  outcomes: PromoteManyOutcome[];
}

/** Rows per page of accountDigestRows: ~60 bytes each as JSON, far below 1 MiB. */
export const DIGEST_ROWS_PAGE = 4_000;

/** The answer to accountDigest: one copy of an account, digested. */
export interface CopyDigest {
  host: string;
  accountId: string;
  role: "primary" | "replica";
  /** the account's applied log sequence on this copy: the digest is of the copy at this seq */
  seq: number;
  digest: string;
  /** number of rows (account, folders, items, tags) */
  rows: number;
}

/** The answer to serviceStop / serviceStart / serviceRestart / serviceStatus. */
export interface ServiceOutcome {
  host: string;
  service: ServiceName;
  running: boolean;
  /** false when the service already was in the asked state */
  changed: boolean;
  message: string;
}

/** One NATS URL probed (probeNats, and the supervisor's own probes for `test`). */
export interface NatsProbe {
  server: string;
  ok: boolean;
  /** connect + one round trip, ms */
  ms: number;
  serverName?: string;
  version?: string;
  jetstream?: boolean;
  error?: string;
}

/** The answer to logHead: what an account's log says about its primary. */
export interface LogHead {
  accountId: string;
  /** seq of the newest entry (0: the log is empty) */
  seq: number;
  /** epoch of the newest entry (0: the log is empty) */
  epoch: number;
  /** the primary the log names: writer of the newest entry */
  host: string | null;
}

/** A mailstore's answer to snapshotAccount (actors/mailstore/snapshot_taker.ts). */
export interface TakenSnapshot {
  account: string;
  /** the log seq the snapshot is at */
  seq: number;
  /** items and sealed bytes stored; null when one at this seq was already stored (it is not read again) */
  items: number | null;
  bytes: number | null;
  /** a snapshot at this seq was already stored: nothing new was written */
  existing: boolean;
}

/** A mailstore's answer to restoreAccount (actors/mailstore/account_restore.ts). */
export interface RestoredAccount {
  source: string;
  target: string;
  /** the log seq of the original whose state was restored */
  seq: number;
  /** when the entry at that seq was stored (ISO 8601) */
  at: string;
  /** user folders, items and keywords written into the new account */
  folders: number;
  items: number;
  tags: number;
}

/**
 * The answer to restoreAccount with overwrite: the account restored over itself. folders,
 * items and tags are those of the restored state; changes says what differed from the
 * account before the restore (src/mail/restore_over.ts).
 */
export interface RestoredOver extends RestoredAccount {
  changes: RestoreOverChanges;
  /** passes written; more than 1 when writes landed during the restore (and were undone too) */
  passes: number;
}
