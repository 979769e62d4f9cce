import type {
  CreateAccountCommand,
  CreateFolderCommand,
  DeleteFolderCommand,
  DeleteItemsCommand,
  DeliverMessageCommand,
  MailCommand,
  MailResult,
  MoveItemsCommand,
  RenameFolderCommand,
  ResultOf,
  SetFlagsCommand,
} from "./commands.js";
import { accountNotFound, folderNotFound, itemNotFound, MailError } from "./errors.js";
import { normalizeFlags } from "./flags.js";
import { folderPathKey, leafName, parentPath, validateFolderPath } from "./folder_path.js";
import { isSystemFolderId } from "./system_folders.js";
import { decideRestore } from "./restore.js";
import { decideRestoreOver } from "./restore_over.js";
import type { AccountRef, Decision, FolderRef, MailboxView } from "./types.js";

/**
 * Decides one command against the account's current state: the events that carry it out and
 * the caller's answer, or a MailError saying why not. Reads only; the caller applies the
 * events (tentatively inside `plan`, for real after the log acknowledged them).
 */
export function decide<C extends MailCommand>(view: MailboxView, command: C): Decision<ResultOf<C>>;
export function decide(view: MailboxView, command: MailCommand): Decision<MailResult> {
  if (command.op === "sync") return { events: [], result: { synced: true } };
  const key = command.request;
  if (key === undefined) return decideCommand(view, command);
  const recorded = view.request(key.id);
  if (recorded !== undefined) {
    if (recorded.digest !== key.digest) {
      throw new MailError(
        "REQUEST_ID_REUSED",
        `requestId '${key.id}' was already used for another call with other parameters in account ${view.accountId}; nothing was changed — use a new requestId for a new request, and the same one only to retry the very same call`,
        { requestId: key.id },
      );
    }
    // A retry: the first outcome, and nothing is written again.
    return { events: [], result: recorded.result as MailResult };
  }
  const decision = decideCommand(view, command);
  return {
    events: [...decision.events, { t: "request.recorded", requestId: key.id, digest: key.digest, result: decision.result }],
    result: decision.result,
  };
}

function decideCommand(view: MailboxView, command: Exclude<MailCommand, { op: "sync" }>): Decision<MailResult> {
  switch (command.op) {
    case "createAccount":
      return createAccount(view, command);
    case "createFolder":
      return createFolder(view, command);
    case "renameFolder":
      return renameFolder(view, command);
    case "deleteFolder":
      return deleteFolder(view, command);
    case "deliverMessage":
      return deliverMessage(view, command);
    case "setFlags":
      return setFlags(view, command);
    case "moveItems":
      return moveItems(view, command);
    case "deleteItems":
      return deleteItems(view, command);
    case "restoreState":
      return decideRestore(view, command);
    case "restoreOver":
      return decideRestoreOver(view, command);
    default: {
      const op = (command as { op?: unknown }).op;
      throw new MailError(
        "UNKNOWN_COMMAND",
        `unknown mailbox command ${JSON.stringify(op)}; use createAccount, createFolder, renameFolder, deleteFolder, deliverMessage, setFlags, moveItems or deleteItems`,
        { op },
      );
    }
  }
}

function createAccount(view: MailboxView, c: CreateAccountCommand): Decision<ResultOf<CreateAccountCommand>> {
  if (c.id !== view.accountId) {
    throw new MailError("ACCOUNT_MISMATCH", `createAccount for id ${c.id} was sent to the log of account ${view.accountId}; route it by the new account's id`, {
      id: c.id,
      account: view.accountId,
    });
  }
  const existing = view.account();
  if (existing !== undefined && existing.name === c.name && existing.mailHost === c.mailHost) {
    // A retry of this very creation (its first answer was lost): the same account, nothing new.
    return { events: [], result: { id: c.id, name: c.name, mailHost: c.mailHost } };
  }
  if (existing !== undefined) {
    throw new MailError("ACCOUNT_EXISTS", `account ${c.id} already exists; use a new id, or the existing account`, { id: c.id });
  }
  const holder = view.accountIdByName(c.name);
  if (holder !== undefined) {
    throw new MailError("ACCOUNT_EXISTS", `the name ${c.name} is already used by account ${holder}; choose another name`, { id: holder, name: c.name });
  }
  return {
    events: [{ t: "account.created", id: c.id, name: c.name, type: "account", mailHost: c.mailHost }],
    result: { id: c.id, name: c.name, mailHost: c.mailHost },
  };
}

function createFolder(view: MailboxView, c: CreateFolderCommand): Decision<ResultOf<CreateFolderCommand>> {
  const account = requireAccount(view);
  const path = validateFolderPath(c.path);
  const existing = view.folderByPath(path);
  if (existing !== undefined) throw folderExists(view, existing);
  const stored = underParent(view, path);
  const id = account.lastItemId + 1;
  return { events: [{ t: "folder.created", folderId: id, path: stored }], result: { id, path: stored } };
}

function renameFolder(view: MailboxView, c: RenameFolderCommand): Decision<ResultOf<RenameFolderCommand>> {
  requireAccount(view);
  const folder = requireFolder(view, validateFolderPath(c.path));
  const to = validateFolderPath(c.newPath);
  refuseSystem(view, folder, "renamed");
  if (folderPathKey(to).startsWith(folderPathKey(folder.path) + "/")) {
    throw new MailError(
      "FOLDER_INVALID_MOVE",
      `cannot move folder '${folder.path}' to '${to}', which is inside itself; choose a path outside '${folder.path}'`,
      { path: folder.path, newPath: to },
    );
  }
  const existing = view.folderByPath(to);
  // The same folder is allowed: a rename that only changes letter case.
  if (existing !== undefined && existing.id !== folder.id) throw folderExists(view, existing);
  const stored = underParent(view, to);
  return { events: [{ t: "folder.renamed", folderId: folder.id, path: stored }], result: { id: folder.id, path: stored } };
}

function deleteFolder(view: MailboxView, c: DeleteFolderCommand): Decision<ResultOf<DeleteFolderCommand>> {
  requireAccount(view);
  const folder = requireFolder(view, validateFolderPath(c.path));
  refuseSystem(view, folder, "deleted");
  const size = view.subtreeSize(folder);
  return {
    events: [{ t: "folder.deleted", folderId: folder.id }],
    result: { id: folder.id, path: folder.path, deletedFolders: size.folders, deletedItems: size.items },
  };
}

function deliverMessage(view: MailboxView, c: DeliverMessageCommand): Decision<ResultOf<DeliverMessageCommand>> {
  const account = requireAccount(view);
  const folder = requireFolder(view, validateFolderPath(c.folder));
  const { flags, tags } = normalizeFlags(c.flags);
  const m = c.message;
  const itemId = account.lastItemId + 1;
  return {
    events: [
      {
        t: "message.delivered",
        itemId,
        folderId: folder.id,
        messageId: m.messageId,
        from: m.from,
        to: [...m.to],
        cc: [...m.cc],
        subject: m.subject,
        date: m.date,
        size: m.size,
        flags,
        tags,
        blob: m.blob,
      },
    ],
    result: { itemId, folder: folder.path, size: m.size, blob: m.blob },
  };
}

function setFlags(view: MailboxView, c: SetFlagsCommand): Decision<ResultOf<SetFlagsCommand>> {
  requireAccount(view);
  const { flags, tags } = normalizeFlags(c.flags);
  const ids = requireItems(view, c.ids);
  return { events: ids.length ? [{ t: "flags.set", ids, flags, tags }] : [], result: { ids } };
}

function moveItems(view: MailboxView, c: MoveItemsCommand): Decision<ResultOf<MoveItemsCommand>> {
  requireAccount(view);
  const folder = requireFolder(view, validateFolderPath(c.folder));
  const ids = requireItems(view, c.ids);
  return { events: ids.length ? [{ t: "items.moved", ids, folderId: folder.id }] : [], result: { ids } };
}

function deleteItems(view: MailboxView, c: DeleteItemsCommand): Decision<ResultOf<DeleteItemsCommand>> {
  requireAccount(view);
  const ids = requireItems(view, c.ids);
  return { events: ids.length ? [{ t: "items.deleted", ids }] : [], result: { ids } };
}

function requireAccount(view: MailboxView): AccountRef {
  const account = view.account();
  if (account === undefined) throw accountNotFound(view.accountId);
  return account;
}

function requireFolder(view: MailboxView, path: string): FolderRef {
  const folder = view.folderByPath(path);
  if (folder === undefined) throw folderNotFound(view.accountId, path);
  return folder;
}

/** The ids, duplicates removed in first-seen order, all existing; else ITEM_NOT_FOUND. */
function requireItems(view: MailboxView, ids: readonly number[]): number[] {
  const unique = [...new Set(ids)];
  const missing = view.missingItems(unique);
  if (missing.length > 0) throw itemNotFound(view.accountId, missing);
  return unique;
}

/** The path to store for a new location: the parent's own spelling plus the new leaf. */
function underParent(view: MailboxView, path: string): string {
  const parent = parentPath(path);
  if (parent === undefined) return path;
  const folder = view.folderByPath(parent);
  if (folder === undefined) throw folderNotFound(view.accountId, parent, `create the parent folder '${parent}' first`);
  return `${folder.path}/${leafName(path)}`;
}

function refuseSystem(view: MailboxView, folder: FolderRef, what: string): void {
  if (isSystemFolderId(folder.id)) {
    throw new MailError("FOLDER_SYSTEM", `system folder '${folder.path}' cannot be ${what}; only folders you created can`, {
      path: folder.path,
      id: folder.id,
    });
  }
}

function folderExists(view: MailboxView, folder: FolderRef): MailError {
  return new MailError(
    "FOLDER_EXISTS",
    `folder '${folder.path}' already exists in account ${view.accountId} (paths are compared ignoring case); choose another path`,
    { path: folder.path, id: folder.id },
  );
}
