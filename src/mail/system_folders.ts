/**
 * Zimbra/Carbonio fixed folder ids. Ids below FIRST_USER_ID are reserved for the system, so a
 * user folder or item id is never confused with one of them.
 */
export interface SystemFolder {
  readonly id: number;
  readonly path: string;
}

export const SYSTEM_FOLDERS: readonly SystemFolder[] = [
  { id: 2, path: "Inbox" },
  { id: 3, path: "Trash" },
  { id: 4, path: "Junk" },
  { id: 5, path: "Sent" },
  { id: 6, path: "Drafts" },
];

/** The first id the per-account counter hands out (folders and items share the counter). */
export const FIRST_USER_ID = 257;

/** The counter's value for a new account: the next id is `last + 1`. */
export const INITIAL_LAST_ITEM_ID = FIRST_USER_ID - 1;

export function isSystemFolderId(id: number): boolean {
  return id < FIRST_USER_ID;
}
