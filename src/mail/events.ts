/**
 * What the account log carries. A batch is the unit the account actor publishes to
 * `mr.tx.<accountId>` and the unit every store applies in one SQLite transaction.
 *
 * Events are facts decided by the writer (ids already assigned, flags already normalized),
 * so applying them never needs the writer's clock, randomness or configuration: the same
 * batches give the same rows on every store.
 */

import type { DeliveredMessage } from "./commands.js";

/** One entry of the account log. */
export interface TxBatch {
  /** Format version; only 1 exists. */
  v: 1;
  /** Account id (uuid); equals the `<accountId>` of the subject it was published on. */
  account: string;
  /** Epoch of the writer: a batch older than the newest `promoted` applied is refused. */
  epoch: number;
  /** Host (FQDN) of the mailstore that wrote the batch. */
  writer: string;
  /** Milliseconds since the Unix epoch, on the writer's clock. */
  at: number;
  /**
   * Seq of the account's previous log entry (the writer's expected last subject seq; 0 for
   * the first). The server refused the append unless it was true, so a store that has not
   * applied up to it refuses the batch instead of silently skipping the entries in between.
   */
  prev: number;
  /** Applied in order, all or nothing. */
  events: MailEvent[];
}

export interface AccountCreatedEvent {
  t: "account.created";
  id: string;
  name: string;
  type: "account";
  mailHost: string;
}

export interface FolderCreatedEvent {
  t: "folder.created";
  folderId: number;
  /** Canonical path; its parent exists. */
  path: string;
}

/** Renames or moves a folder; its descendants move with it. */
export interface FolderRenamedEvent {
  t: "folder.renamed";
  folderId: number;
  path: string;
}

/** Deletes the folder with its subfolders and every item in them. */
export interface FolderDeletedEvent {
  t: "folder.deleted";
  folderId: number;
}

/** The delivered message's fields (DeliveredMessage) with the ids and flags the writer decided. */
export interface MessageDeliveredEvent extends DeliveredMessage {
  t: "message.delivered";
  itemId: number;
  folderId: number;
  /** System flags, sorted (see normalizeFlags). */
  flags: string[];
  /** Keywords, lower-case, sorted. */
  tags: string[];
}

/** Replaces the items' flags and tags. */
export interface FlagsSetEvent {
  t: "flags.set";
  ids: number[];
  flags: string[];
  tags: string[];
}

export interface ItemsMovedEvent {
  t: "items.moved";
  ids: number[];
  folderId: number;
}

export interface ItemsDeletedEvent {
  t: "items.deleted";
  ids: number[];
}

/**
 * The outcome of a command sent with a requestId, logged right after that command's events
 * (in the same batch), so every copy records it in the same transaction as the effects and a
 * retry is answered with `result` on any of them, also after a promotion.
 */
export interface RequestRecordedEvent {
  t: "request.recorded";
  requestId: string;
  /** sha256 hex of the call's parameters (see RequestKey). */
  digest: string;
  /** The command's result as the caller got it. */
  result: unknown;
}

/** Control event: the write role moved to `host` at `epoch`. */
export interface PromotedEvent {
  t: "promoted";
  epoch: number;
  host: string;
  from?: string;
  /**
   * A trusted supervisor's signature over (account, epoch, host), `<kid>:<base64>` (see
   * src/envelope/grant.ts): readers apply the promotion only with a valid one.
   */
  grant?: string;
}

export type MailEvent =
  | AccountCreatedEvent
  | FolderCreatedEvent
  | FolderRenamedEvent
  | FolderDeletedEvent
  | MessageDeliveredEvent
  | FlagsSetEvent
  | ItemsMovedEvent
  | ItemsDeletedEvent
  | RequestRecordedEvent
  | PromotedEvent;

export type MailEventType = MailEvent["t"];
