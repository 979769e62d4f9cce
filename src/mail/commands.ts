/**
 * Mailbox commands as the account actor receives them: already checked for shape by the RPC
 * layer, decided against the account's state by `decide` (see decide.ts), which either turns
 * them into events and a result or refuses them with a MailError.
 */

export interface CreateAccountCommand {
  op: "createAccount";
  id: string;
  name: string;
  mailHost: string;
}

export interface CreateFolderCommand {
  op: "createFolder";
  path: string;
}

export interface RenameFolderCommand {
  op: "renameFolder";
  path: string;
  newPath: string;
}

export interface DeleteFolderCommand {
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
  /** sha256 hex of the raw message. */
  blob: string;
}

export interface DeliverMessageCommand {
  op: "deliverMessage";
  folder: string;
  flags: string[];
  message: DeliveredMessage;
}

export interface SetFlagsCommand {
  op: "setFlags";
  ids: number[];
  flags: string[];
}

export interface MoveItemsCommand {
  op: "moveItems";
  ids: number[];
  folder: string;
}

export interface DeleteItemsCommand {
  op: "deleteItems";
  ids: number[];
}

export type MailCommand =
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

/** The result type of each command, by `op`. */
export interface CommandResults {
  createAccount: CreateAccountResult;
  createFolder: FolderResult;
  renameFolder: FolderResult;
  deleteFolder: DeleteFolderResult;
  deliverMessage: DeliverMessageResult;
  setFlags: ItemIdsResult;
  moveItems: ItemIdsResult;
  deleteItems: ItemIdsResult;
}

export type ResultOf<C extends MailCommand> = CommandResults[C["op"]];
export type MailResult = CommandResults[keyof CommandResults];
