/**
 * Refusals of the mail domain: a command (or a read) that the account's current state does
 * not allow. The RPC layer maps `code` to its JSON-RPC application error; `details` carries
 * what a client needs to fix the call (e.g. the missing ids).
 */
import { CallerFacingError } from "../errors/index.js";

export type MailErrorCode =
  | "ACCOUNT_EXISTS"
  | "ACCOUNT_NOT_FOUND"
  | "ACCOUNT_MISMATCH"
  | "FOLDER_EXISTS"
  | "FOLDER_NOT_FOUND"
  | "FOLDER_SYSTEM"
  | "FOLDER_INVALID_MOVE"
  | "INVALID_FOLDER_PATH"
  | "ITEM_NOT_FOUND"
  | "INVALID_FLAG"
  | "INVALID_PAGING"
  | "REQUEST_ID_REUSED"
  | "RESTORE_TARGET_NOT_EMPTY"
  | "RESTORE_CONFLICT"
  | "UNKNOWN_COMMAND";

/** Caller-facing: a refused command answers the JSON-RPC caller with its code and details. */
export class MailError extends CallerFacingError<MailErrorCode> {
  constructor(code: MailErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details !== undefined ? { details } : {});
  }
}

export function isMailError(e: unknown): e is MailError {
  return e instanceof MailError;
}

/** How many missing ids an ITEM_NOT_FOUND names; enough to act on, small enough to log. */
const MAX_LISTED_IDS = 10;

export function itemNotFound(accountId: string, missing: readonly number[]): MailError {
  const listed = missing.slice(0, MAX_LISTED_IDS);
  const more = missing.length > listed.length ? ` and ${missing.length - listed.length} more` : "";
  return new MailError(
    "ITEM_NOT_FOUND",
    `no item with id ${listed.join(", ")}${more} in account ${accountId}; nothing was changed — list the items (listItems) and retry with existing ids`,
    { ids: listed, missing: missing.length },
  );
}

export function folderNotFound(accountId: string, path: string, hint = "list the folders (listFolders) and use an existing path"): MailError {
  return new MailError("FOLDER_NOT_FOUND", `folder '${path}' does not exist in account ${accountId}; ${hint}`, { path });
}

export function accountNotFound(accountId: string): MailError {
  return new MailError("ACCOUNT_NOT_FOUND", `account ${accountId} has no mailbox on this mailstore; create it first (createAccount) or address its primary`, {
    account: accountId,
  });
}
