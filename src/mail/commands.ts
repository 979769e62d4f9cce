/**
 * Mailbox commands as the account actor receives them: already checked for shape by the RPC
 * layer, decided against the account's state by `decide` (see decide.ts), which either turns
 * them into events and a result or refuses them with a MailError.
 */

/**
 * An idempotency key of a write command (RPC param `requestId`): the first outcome is stored
 * in the account log with it, and a retry within REQUEST_WINDOW_MS gets that outcome back
 * instead of writing again. `digest` names the call's parameters (without the key), so a key
 * reused for another call is refused instead of answered with a stranger's result.
 */
export interface RequestKey {
  id: string;
  digest: string;
}

/** Optional on every write command. */
export interface Keyed {
  request?: RequestKey;
}

export interface CreateAccountCommand extends Keyed {
  op: "createAccount";
  id: string;
  name: string;
  mailHost: string;
}

export interface CreateFolderCommand extends Keyed {
  op: "createFolder";
  path: string;
}

export interface RenameFolderCommand extends Keyed {
  op: "renameFolder";
  path: string;
  newPath: string;
}

export interface DeleteFolderCommand extends Keyed {
  op: "deleteFolder";
  path: string;
}

/** What the RPC layer extracted from the raw message; the body is already in the blob store. */
export interface DeliveredMessage {
  messageId: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  /** Milliseconds since the Unix epoch. */
  date: number;
  /** Bytes of the raw message. */
  size: number;
  /** Name of the raw message in the blob store (opaque; src/blobs/blob_format.ts). */
  blob: string;
}

export interface DeliverMessageCommand extends Keyed {
  op: "deliverMessage";
  folder: string;
  flags: string[];
  message: DeliveredMessage;
}

export interface SetFlagsCommand extends Keyed {
  op: "setFlags";
  ids: number[];
  flags: string[];
}

export interface MoveItemsCommand extends Keyed {
  op: "moveItems";
  ids: number[];
  folder: string;
}

export interface DeleteItemsCommand extends Keyed {
  op: "deleteItems";
  ids: number[];
}

/** One item as restored: the fields of its message.delivered event. */
export interface RestoredItem extends DeliveredMessage {
  itemId: number;
  folderId: number;
  /** System flags, sorted. */
  flags: string[];
  /** Keywords, lower-case, sorted. */
  tags: string[];
}

/**
 * One chunk of a restore. The restore sends folders parent-first, then items in chunks small
 * enough for one log entry each, then the account's keywords.
 */
export interface RestoreStateCommand extends Keyed {
  op: "restoreState";
  folders: { id: number; path: string }[];
  items: RestoredItem[];
  tags: string[];
}

export interface RestoreStateResult {
  folders: number;
  items: number;
}

/**
 * One step of a restore over the live account (src/mail/restore_over.ts plans them from the
 * point's state and the live one). Each is checked against the account as it is when decided:
 * a step that no longer fits (a write landed since the plan) is refused RESTORE_CONFLICT and
 * the restore plans again from the state then.
 */
export type RestoreOverStep =
  | { do: "createFolder"; id: number; path: string }
  | { do: "renameFolder"; id: number; path: string }
  | { do: "deleteFolder"; id: number }
  | {
      do: "items";
      /** items that did not exist at the point */
      delete: number[];
      /** items of the point that no longer exist, with their ids and content */
      create: RestoredItem[];
      /** items back into the folder they were in at the point */
      move: { ids: number[]; folderId: number }[];
      /** items' flags and keywords set to the point's */
      flags: { ids: number[]; flags: string[]; tags: string[] }[];
    }
  | { do: "addTags"; tags: string[] };

export interface RestoreOverCommand extends Keyed {
  op: "restoreOver";
  step: RestoreOverStep;
}

export interface RestoreOverResult {
  /** events written for the step */
  events: number;
}

/**
 * Read barrier: plans no events and answers once every command queued before it was applied.
 * The account actor replays its log when it starts, so a `sync` answered means the store
 * holds the account's log up to the head this primary knows: reads may follow.
 */
export interface SyncCommand {
  op: "sync";
}

export type MailCommand =
  | SyncCommand
  | RestoreStateCommand
  | RestoreOverCommand
  | CreateAccountCommand
  | CreateFolderCommand
  | RenameFolderCommand
  | DeleteFolderCommand
  | DeliverMessageCommand
  | SetFlagsCommand
  | MoveItemsCommand
  | DeleteItemsCommand;

export interface CreateAccountResult {
  id: string;
  name: string;
  mailHost: string;
}

/** Result of createFolder and renameFolder: the folder's id and its (new) canonical path. */
export interface FolderResult {
  id: number;
  path: string;
}

export interface DeleteFolderResult {
  id: number;
  path: string;
  /** The folder itself and all its subfolders. */
  deletedFolders: number;
  /** Items in all of those folders. */
  deletedItems: number;
}

export interface DeliverMessageResult {
  itemId: number;
  /** Canonical path of the folder it went to. */
  folder: string;
  size: number;
  blob: string;
}

/** Result of setFlags, moveItems, deleteItems: the ids changed, duplicates removed. */
export interface ItemIdsResult {
  ids: number[];
}

/** Result of sync: nothing but the fact that the barrier was passed. */
export interface SyncResult {
  synced: true;
}

/** The result type of each command, by `op`. */
export interface CommandResults {
  sync: SyncResult;
  createAccount: CreateAccountResult;
  createFolder: FolderResult;
  renameFolder: FolderResult;
  deleteFolder: DeleteFolderResult;
  deliverMessage: DeliverMessageResult;
  setFlags: ItemIdsResult;
  moveItems: ItemIdsResult;
  deleteItems: ItemIdsResult;
  restoreState: RestoreStateResult;
  restoreOver: RestoreOverResult;
}

export type ResultOf<C extends MailCommand> = CommandResults[C["op"]];
export type MailResult = CommandResults[keyof CommandResults];
