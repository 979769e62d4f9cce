// Writing a restored state into a new account (restoreAccount, point-in-time restore): the
// folders and items of the original as of a past log seq, re-created with their ids as
// ordinary log entries of the new account (folder.created, message.delivered, and a flags.set
// without items for keywords no item carries any more). Never a rewrite of any log.
import type { MailEvent } from "./events.js";
import type { RestoreStateCommand, RestoreStateResult } from "./commands.js";
import { MailError, accountNotFound } from "./errors.js";
import { folderPathKey, parentPath } from "./folder_path.js";
import { isSystemFolderId } from "./system_folders.js";
import type { Decision, MailboxView } from "./types.js";

/**
 * The events that re-create the chunk. Refuses (RESTORE_TARGET_NOT_EMPTY) a folder path or an
 * item id the account already has: a restore writes into a new, empty account only.
 */
export function decideRestore(view: MailboxView, c: RestoreStateCommand): Decision<RestoreStateResult> {
  if (view.account() === undefined) throw accountNotFound(view.accountId);
  const events: MailEvent[] = [];
  // Folders of this chunk created before their children: the view sees earlier commands only.
  const created = new Set<string>();
  let folders = 0;
  for (const f of c.folders) {
    if (isSystemFolderId(f.id)) continue;
    const key = folderPathKey(f.path);
    if (view.folderByPath(f.path) !== undefined || created.has(key)) throw notEmpty(view.accountId, `folder '${f.path}' exists`);
    const parent = parentPath(f.path);
    if (parent !== undefined && view.folderByPath(parent) === undefined && !created.has(folderPathKey(parent))) {
      throw new MailError("FOLDER_NOT_FOUND", `restore: folder '${f.path}' comes before its parent '${parent}'; send parents first`, { path: f.path });
    }
    created.add(key);
    events.push({ t: "folder.created", folderId: f.id, path: f.path });
    folders++;
  }
  const ids = c.items.map((i) => i.itemId);
  const missing = new Set(view.missingItems(ids));
  const present = ids.filter((id) => !missing.has(id));
  if (present.length > 0) throw notEmpty(view.accountId, `item${present.length > 1 ? "s" : ""} ${present.slice(0, 10).join(", ")} exist`);
  for (const item of c.items) events.push({ t: "message.delivered", ...item });
  if (c.tags.length > 0) events.push({ t: "flags.set", ids: [], flags: [], tags: [...c.tags] });
  return { events, result: { folders, items: c.items.length } };
}

function notEmpty(accountId: string, what: string): MailError {
  return new MailError(
    "RESTORE_TARGET_NOT_EMPTY",
    `account ${accountId} is not empty (${what}): restoreAccount writes into a new account; name one with into`,
    {
      account: accountId,
    },
  );
}
