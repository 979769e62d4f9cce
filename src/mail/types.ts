import type { MailEvent } from "./events.js";

/** A folder as the domain sees it. */
export interface FolderRef {
  id: number;
  /** Canonical path, with the casing it was created with. */
  path: string;
  /** Null for a top-level folder. */
  parentId: number | null;
}

/** The account facts commands are decided on. */
export interface AccountRef {
  id: string;
  name: string;
  mailHost: string;
  /** Highest folder or item id ever handed out; the next one is `lastItemId + 1`. */
  lastItemId: number;
}

/**
 * Read access to one account's current state, as `decide` needs it. The store implements it
 * over its prepared statements; inside `plan` it also sees the tentative effects of the
 * commands decided before in the same call.
 */
export interface MailboxView {
  readonly accountId: string;
  /** Undefined while the account has no state here. */
  account(): AccountRef | undefined;
  /** Id of the account that holds `name` (compared case-insensitively), if any. */
  accountIdByName(name: string): string | undefined;
  /** Case-insensitive lookup by canonical path. */
  folderByPath(canonicalPath: string): FolderRef | undefined;
  folderById(id: number): FolderRef | undefined;
  /** How many folders (the folder itself included) and items the folder's subtree holds. */
  subtreeSize(folder: FolderRef): { folders: number; items: number };
  /** The outcome recorded for `requestId` within the request window, if any. */
  request(requestId: string): RecordedRequest | undefined;
  /** The ids among `ids` that are not items of the account, in the order given. */
  missingItems(ids: readonly number[]): number[];
}

/** A requestId's first outcome, as the account log recorded it. */
export interface RecordedRequest {
  digest: string;
  result: unknown;
  /** Log seq of the batch that recorded it; 0 while only planned. */
  seq: number;
}

/** What deciding one command produced: the events to log and the answer for the caller. */
export interface Decision<R> {
  events: MailEvent[];
  result: R;
}
