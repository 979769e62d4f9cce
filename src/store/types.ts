import type { MailError } from "../mail/errors.js";
import type { MailEvent, MessageDeliveredEvent } from "../mail/events.js";
import type { MailResult } from "../mail/commands.js";

export type ReplicaRole = "primary" | "replica";
export type ReplicaStatus = "available" | "unavailable" | "paused";

export interface MetadataStoreOptions {
  /** Clock for applied_at and migration times (ms since epoch). Default Date.now. */
  now?: () => number;
  /** How long a statement waits for another connection's lock, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * What applyBatch did. Idempotent: applying a seq again returns "duplicate" and changes
 * nothing, so a redelivered log entry is always safe to apply.
 * - applied: the events' effects and the new applied seq were committed together.
 * - duplicate: seq <= applied seq; nothing changed.
 * - stale-epoch: the batch was written by a fenced writer (epoch older than the account's);
 *   its effects were skipped but applied seq advanced past it. Report it; do not retry.
 */
export type ApplyOutcome =
  | { status: "applied"; seq: number; epoch: number; events: number }
  | { status: "duplicate"; seq: number; appliedSeq: number }
  | { status: "stale-epoch"; seq: number; epoch: number; current: number };

/**
 * The decision on one planned command. Publish the `events` of every ok outcome, in order,
 * as one TxBatch; answer `result` to the caller only after the log acknowledged the batch.
 */
export type PlanOutcome = { ok: true; events: MailEvent[]; result: MailResult } | { ok: false; error: MailError };

export interface ListItemsOptions {
  /** Canonical or raw folder path; all folders when absent. */
  folder?: string;
  /** 1..1000, default 50. */
  limit?: number;
  /** >= 0, default 0. */
  offset?: number;
}

export interface ItemSummary {
  id: number;
  /** Path of the folder the item is in. */
  folder: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  /** Milliseconds since the Unix epoch. */
  date: number;
  size: number;
  /** System flags then keywords, as the client set them. */
  flags: string[];
  /** Keywords only. */
  tags: string[];
}

export interface ItemDetail extends ItemSummary {
  folderId: number;
  messageId: string;
  /** Name of the raw message in the blob store (opaque; src/blobs/blob_format.ts). */
  blob: string;
}

/** A page of items, newest first (date, then id, descending). */
export interface ItemList {
  items: ItemSummary[];
  /** Items matching the query, all pages together. */
  total: number;
}

export interface FolderInfo {
  id: number;
  path: string;
  parentId: number | null;
  /** Items directly in this folder (not in its subfolders). */
  itemCount: number;
}

export interface AccountInfo {
  id: string;
  name: string;
  type: string;
  mailHost: string;
  /** This store's local number for the account (Carbonio's mailboxId); differs per mailstore. */
  mailboxId: number;
  lastItemId: number;
  createdAt: number;
}

export interface ReplicaState {
  accountId: string;
  role: ReplicaRole;
  epoch: number;
  appliedSeq: number;
  /** Local time of the last applied batch; null before the first. */
  appliedAt: number | null;
  status: ReplicaStatus;
  error: string | null;
  /** the directory generation this copy was seeded at (restartReplicas raises it) */
  generation: number;
  /** the primary the applied log names at `epoch` (null before the first entry) */
  primaryHost: string | null;
}

/** One row per account hosted here; the account fields are null until its creation is applied. */
export interface AccountSummary {
  accountId: string;
  name: string | null;
  mailboxId: number | null;
  lastItemId: number | null;
  appliedSeq: number;
  epoch: number;
  role: ReplicaRole;
  status: ReplicaStatus;
  error: string | null;
  appliedAt: number | null;
}

/** Every replicated row of an account, without local-only columns, in a stable order. */
export interface AccountDump {
  account: { id: string; name: string; type: string; mailHost: string; lastItemId: number; createdAt: number } | null;
  /** By id. */
  folders: { id: number; path: string; parentId: number | null }[];
  /** By id: each item as the event that delivered it, with its current folder, flags and tags. */
  items: Array<{ id: number } & Omit<MessageDeliveredEvent, "t" | "itemId">>;
  /** By name. */
  tags: string[];
}
