import type { MailEvent, MailEventType } from "../mail/events.js";
import { folderPathKey, leafName, parentPath } from "../mail/folder_path.js";
import { INITIAL_LAST_ITEM_ID, SYSTEM_FOLDERS } from "../mail/system_folders.js";
import { StoreError } from "./errors.js";
import { subtreeParams, type FolderRow, type Statements } from "./statements.js";

/** Where the events come from. */
export interface ApplyContext {
  accountId: string;
  /** Log sequence of the batch; undefined while planning (tentative apply). */
  seq: number | undefined;
  /** The batch's `at` (writer's clock); the only time an event's effects may depend on. */
  at: number;
}

/**
 * Applies events to the store, in order: the one event→SQL mapping shared by live apply,
 * planning, seeding and restore. A function of (rows, context, events) only — no clock, no
 * randomness, no local ids — so equal logs give equal rows everywhere.
 *
 * Events are trusted (the writer decided them), but one that does not fit the state throws
 * StoreError APPLY_FAILED; the caller's transaction then rolls the whole batch back.
 * Returns the account's epoch after the events (`epoch` is the epoch before them).
 */
export function applyEvents(s: Statements, ctx: ApplyContext, events: readonly MailEvent[], epoch: number): number {
  let accountKnown = false;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    try {
      if (event.t !== "account.created" && !accountKnown) {
        if (s.accountById.get(ctx.accountId) === undefined) throw new Refusal("the account does not exist (its account.created was never applied)");
        accountKnown = true;
      }
      epoch = applyEvent(s, ctx, event, epoch);
    } catch (e) {
      throw applyFailed(ctx, i, event.t, e);
    }
  }
  return epoch;
}

/** A reason an event cannot apply; becomes APPLY_FAILED with the batch's seq and event. */
class Refusal extends Error {}

function applyEvent(s: Statements, ctx: ApplyContext, e: MailEvent, epoch: number): number {
  const account = ctx.accountId;
  switch (e.t) {
    case "account.created": {
      if (e.id !== account) throw new Refusal(`it creates account ${e.id} in the log of account ${account}`);
      if (s.accountById.get(account) !== undefined) throw new Refusal("the account already exists");
      s.insertAccount.run(account, e.name, e.type, e.mailHost, INITIAL_LAST_ITEM_ID, ctx.at);
      for (const f of SYSTEM_FOLDERS) s.insertFolder.run(account, f.id, f.path, folderPathKey(f.path), null);
      return epoch;
    }
    case "folder.created": {
      const place = placeFolder(s, account, e.path);
      if (s.folderByKey.get(account, place.key) !== undefined) throw new Refusal(`folder '${place.path}' already exists`);
      s.insertFolder.run(account, e.folderId, place.path, place.key, place.parentId);
      s.raiseLastItemId.run(e.folderId, account);
      return epoch;
    }
    case "folder.renamed": {
      const folder = requireFolder(s, account, e.folderId);
      const place = placeFolder(s, account, e.path);
      if (place.key.startsWith(`${folder.path_key}/`)) throw new Refusal(`folder '${folder.path}' cannot move inside itself ('${place.path}')`);
      const clash = s.folderByKey.get(account, place.key);
      if (clash !== undefined && clash.id !== folder.id) throw new Refusal(`folder '${clash.path}' already exists`);
      // Read the subtree before the move changes the key range it lives in.
      const below = s.descendants.all(subtreeParams(account, folder.path_key));
      s.moveFolder.run(place.path, place.key, place.parentId, account, folder.id);
      for (const d of below) {
        // A child's path starts with its parent's path exactly (placeFolder keeps it so).
        const path = place.path + d.path.slice(folder.path.length);
        s.moveFolder.run(path, folderPathKey(path), d.parent_id, account, d.id);
      }
      return epoch;
    }
    case "folder.deleted": {
      const folder = requireFolder(s, account, e.folderId);
      const range = subtreeParams(account, folder.path_key);
      s.deleteSubtreeItems.run(range);
      s.deleteSubtreeFolders.run(range);
      return epoch;
    }
    case "message.delivered": {
      requireFolder(s, account, e.folderId);
      s.insertItem.run(
        account,
        e.itemId,
        e.folderId,
        e.messageId,
        e.from,
        JSON.stringify(e.to),
        JSON.stringify(e.cc),
        e.subject,
        e.date,
        e.size,
        JSON.stringify(e.flags),
        JSON.stringify(e.tags),
        e.blob,
      );
      for (const tag of e.tags) s.insertTag.run(account, tag);
      s.raiseLastItemId.run(e.itemId, account);
      return epoch;
    }
    case "flags.set": {
      const flags = JSON.stringify(e.flags);
      const tags = JSON.stringify(e.tags);
      for (const id of e.ids) expectItem(s.setItemFlags.run(flags, tags, account, id).changes, id);
      for (const tag of e.tags) s.insertTag.run(account, tag);
      return epoch;
    }
    case "items.moved": {
      requireFolder(s, account, e.folderId);
      for (const id of e.ids) expectItem(s.moveItem.run(e.folderId, account, id).changes, id);
      return epoch;
    }
    case "items.deleted": {
      for (const id of e.ids) expectItem(s.deleteItem.run(account, id).changes, id);
      return epoch;
    }
    case "request.recorded": {
      s.insertRequest.run(account, e.requestId, e.digest, JSON.stringify(e.result ?? null), ctx.seq ?? 0, ctx.at);
      return epoch;
    }
    case "promoted": {
      if (e.epoch < epoch) throw new Refusal(`it promotes to epoch ${e.epoch}, but the account is already at epoch ${epoch}`);
      s.setMailHost.run(e.host, account);
      return e.epoch;
    }
    default:
      throw new Refusal(`unknown event type ${JSON.stringify((e as { t?: unknown }).t)} (written by a newer mailreplica?)`);
  }
}

interface Place {
  path: string;
  key: string;
  parentId: number | null;
}

/** Where a folder at `path` goes: under its parent's row, spelled with the parent's own path. */
function placeFolder(s: Statements, account: string, path: string): Place {
  const parent = parentPath(path);
  if (parent === undefined) return { path, key: folderPathKey(path), parentId: null };
  const row = s.folderByKey.get(account, folderPathKey(parent));
  if (row === undefined) throw new Refusal(`parent folder '${parent}' does not exist`);
  const placed = `${row.path}/${leafName(path)}`;
  return { path: placed, key: folderPathKey(placed), parentId: row.id };
}

function requireFolder(s: Statements, account: string, id: number): FolderRow {
  const row = s.folderById.get(account, id);
  if (row === undefined) throw new Refusal(`folder ${id} does not exist`);
  return row;
}

function expectItem(changes: number, id: number): void {
  if (changes !== 1) throw new Refusal(`item ${id} does not exist`);
}

function applyFailed(ctx: ApplyContext, index: number, type: MailEventType, cause: unknown): StoreError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const where = ctx.seq === undefined ? "while planning" : `at seq ${ctx.seq}`;
  return new StoreError(
    "APPLY_FAILED",
    `account ${ctx.accountId}: event ${index} (${type}) ${where} cannot apply: ${reason}; the whole batch was rolled back and applied seq did not move — mark this replica unavailable and re-seed it`,
    { account: ctx.accountId, seq: ctx.seq, index, event: type, reason },
    { cause },
  );
}
