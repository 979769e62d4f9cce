// Restoring over the live account (restoreAccount with overwrite): the difference between the
// account as it is and as it was at the point, written into its own log as new entries. Items
// of now that were not there then are deleted, items of then re-created with their ids and
// content, the others moved back and given back their flags; the user folders become the
// point's tree (ids kept). Nothing of the log is rewritten: replicas follow as usual.
//
// The folder tree is rebuilt in phases so that no step ever meets a path in the way or
// deletes something the point holds: (1) folders of the point that are not where they were
// are parked at a free top-level name, (2) folders of the point that are gone are created at
// a free top-level name, (3) items, (4) folders the point did not have are deleted (nothing of
// the point is under them any more), (5) parked and created folders go to their paths,
// parents first.
import type { RestoredItem, RestoreOverCommand, RestoreOverResult, RestoreOverStep } from "./commands.js";
import type { MailEvent } from "./events.js";
import { MailError, accountNotFound } from "./errors.js";
import { folderPathKey, leafName, parentPath } from "./folder_path.js";
import { isSystemFolderId } from "./system_folders.js";
import type { Decision, MailboxView } from "./types.js";

/** A folder as a state holds it (system folders included). */
export interface StateFolder {
  id: number;
  path: string;
  parentId: number | null;
}

/** An account's folders, items and keywords: the point's state, or the live one. */
export interface MailboxState {
  folders: StateFolder[];
  items: RestoredItem[];
  tags: string[];
}

/** What a restore over the live account changed, against the account as it was before. */
export interface RestoreOverChanges {
  itemsDeleted: number;
  itemsRecreated: number;
  /** items moved back to their folder or given back their flags and keywords */
  itemsUpdated: number;
  foldersCreated: number;
  foldersRemoved: number;
  /** folders of the point whose path had changed (renamed or moved), put back */
  foldersRenamed: number;
  tagsAdded: number;
}

/** Steps in the order they must be written; the steps of one phase do not depend on each other. */
export interface RestoreOverPlan {
  phases: RestoreOverStep[][];
  changes: RestoreOverChanges;
  /** the items re-created, for checking their bodies exist before anything is written */
  recreated: RestoredItem[];
}

export const NO_CHANGES: RestoreOverChanges = {
  itemsDeleted: 0,
  itemsRecreated: 0,
  itemsUpdated: 0,
  foldersCreated: 0,
  foldersRemoved: 0,
  foldersRenamed: 0,
  tagsAdded: 0,
};

export function addChanges(a: RestoreOverChanges, b: RestoreOverChanges): RestoreOverChanges {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof RestoreOverChanges)[]) out[k] += b[k];
  return out;
}

/** True when the plan writes nothing: the live account equals the point. */
export function isEmptyPlan(plan: RestoreOverPlan): boolean {
  return plan.phases.every((p) => p.length === 0);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The steps that turn `live` into `point`. `token` makes the temporary top-level names of
 * parked folders recognisable (`restore-<token>-<id>`); `itemsPerStep` bounds an items step
 * so that it fits in one log entry.
 */
export function planRestoreOver(point: MailboxState, live: MailboxState, token: string, itemsPerStep: number): RestoreOverPlan {
  const changes = { ...NO_CHANGES };
  const pointFolders = new Map(point.folders.map((f) => [f.id, f]));
  const liveFolders = new Map(live.folders.map((f) => [f.id, f]));
  const pointKeys = new Set(point.folders.map((f) => folderPathKey(f.path)));
  const taken = new Set([...pointKeys, ...live.folders.map((f) => folderPathKey(f.path))]);
  const freeName = (id: number): string => {
    let name = `restore-${token}-${id}`;
    for (let n = 2; taken.has(folderPathKey(name)); n++) name = `restore-${token}-${id}-${n}`;
    taken.add(folderPathKey(name));
    return name;
  };

  const park: RestoreOverStep[] = [];
  const create: RestoreOverStep[] = [];
  const place: StateFolder[] = [];
  for (const f of point.folders) {
    if (isSystemFolderId(f.id)) continue;
    const now = liveFolders.get(f.id);
    if (now === undefined) {
      create.push({ do: "createFolder", id: f.id, path: freeName(f.id) });
      place.push(f);
      changes.foldersCreated++;
      continue;
    }
    if (now.path !== f.path) changes.foldersRenamed++;
    // In place: under the same parent with the same name; then it is at its path once its parents are.
    if (now.parentId === f.parentId && leafName(now.path) === leafName(f.path)) continue;
    place.push(f);
    // A top-level folder whose name no folder of the point needs can stay where it is until placed.
    if (now.parentId === null && !pointKeys.has(folderPathKey(now.path))) continue;
    park.push({ do: "renameFolder", id: f.id, path: freeName(f.id) });
  }

  // Folders the point did not have: the topmost of each such subtree is deleted (with its
  // subtree), after the items of the point were moved out of them.
  const removed = new Set(live.folders.filter((f) => !isSystemFolderId(f.id) && !pointFolders.has(f.id)).map((f) => f.id));
  changes.foldersRemoved = removed.size;
  const remove: RestoreOverStep[] = [...removed]
    .filter((id) => !removed.has(liveFolders.get(id)!.parentId ?? -1))
    .sort((a, b) => a - b)
    .map((id) => ({ do: "deleteFolder", id }));

  const itemSteps = planItems(point, live, removed, itemsPerStep, changes);

  const placeSteps: RestoreOverStep[] = place
    .sort((a, b) => a.path.split("/").length - b.path.split("/").length || a.id - b.id)
    .map((f) => ({ do: "renameFolder", id: f.id, path: f.path }));

  const liveTags = new Set(live.tags);
  const missingTags = point.tags.filter((t) => !liveTags.has(t));
  changes.tagsAdded = missingTags.length;
  const tags: RestoreOverStep[] = missingTags.length > 0 ? [{ do: "addTags", tags: missingTags }] : [];

  return {
    phases: [park, create, itemSteps.steps, remove, placeSteps, tags],
    changes,
    recreated: itemSteps.recreated,
  };
}

function planItems(
  point: MailboxState,
  live: MailboxState,
  removedFolders: ReadonlySet<number>,
  itemsPerStep: number,
  changes: RestoreOverChanges,
): { steps: RestoreOverStep[]; recreated: RestoredItem[] } {
  type Action =
    { id: number; kind: "delete" } | { id: number; kind: "create"; item: RestoredItem } | { id: number; kind: "update"; move?: number; flags?: RestoredItem };
  const actions: Action[] = [];
  const then = new Map(point.items.map((i) => [i.itemId, i]));
  const recreated: RestoredItem[] = [];
  for (const now of live.items) {
    const was = then.get(now.itemId);
    if (was === undefined) {
      changes.itemsDeleted++;
      // Deleted with its folder, which the point did not have either.
      if (!removedFolders.has(now.folderId)) actions.push({ id: now.itemId, kind: "delete" });
      continue;
    }
    then.delete(now.itemId);
    const moved = now.folderId !== was.folderId;
    const flagged = !sameList(now.flags, was.flags) || !sameList(now.tags, was.tags);
    if (!moved && !flagged) continue;
    changes.itemsUpdated++;
    actions.push({ id: now.itemId, kind: "update", ...(moved ? { move: was.folderId } : {}), ...(flagged ? { flags: was } : {}) });
  }
  for (const item of then.values()) {
    changes.itemsRecreated++;
    recreated.push(item);
    actions.push({ id: item.itemId, kind: "create", item });
  }
  actions.sort((a, b) => a.id - b.id);

  const steps: RestoreOverStep[] = [];
  for (let i = 0; i < actions.length; i += itemsPerStep) {
    const step = {
      do: "items" as const,
      delete: [] as number[],
      create: [] as RestoredItem[],
      move: new Map<number, number[]>(),
      flags: new Map<string, number[]>(),
    };
    for (const a of actions.slice(i, i + itemsPerStep)) {
      if (a.kind === "delete") step.delete.push(a.id);
      else if (a.kind === "create") step.create.push(a.item);
      else {
        if (a.move !== undefined) step.move.set(a.move, [...(step.move.get(a.move) ?? []), a.id]);
        if (a.flags !== undefined) {
          const key = JSON.stringify([a.flags.flags, a.flags.tags]);
          step.flags.set(key, [...(step.flags.get(key) ?? []), a.id]);
        }
      }
    }
    steps.push({
      do: "items",
      delete: step.delete,
      create: step.create,
      move: [...step.move].map(([folderId, ids]) => ({ ids, folderId })),
      flags: [...step.flags].map(([key, ids]) => {
        const [flags, tags] = JSON.parse(key) as [string[], string[]];
        return { ids, flags, tags };
      }),
    });
  }
  return { steps, recreated };
}

/**
 * The events of one step, checked against the account as it is now: a step that no longer
 * fits (a write landed between the plan and this step) is refused RESTORE_CONFLICT, nothing of
 * it written, so the restore plans again from the state then.
 */
export function decideRestoreOver(view: MailboxView, c: RestoreOverCommand): Decision<RestoreOverResult> {
  if (view.account() === undefined) throw accountNotFound(view.accountId);
  const events = stepEvents(view, c.step);
  return { events, result: { events: events.length } };
}

function stepEvents(view: MailboxView, step: RestoreOverStep): MailEvent[] {
  switch (step.do) {
    case "createFolder": {
      if (view.folderById(step.id) !== undefined || view.missingItems([step.id]).length === 0) throw conflict(view, `id ${step.id} is in use`);
      requireFreePath(view, step.path, undefined);
      return [{ t: "folder.created", folderId: step.id, path: step.path }];
    }
    case "renameFolder": {
      const folder = requireUserFolder(view, step.id);
      if (folderPathKey(step.path).startsWith(folderPathKey(folder.path) + "/")) throw conflict(view, `folder '${folder.path}' would move inside itself`);
      requireFreePath(view, step.path, step.id);
      return folder.path === step.path ? [] : [{ t: "folder.renamed", folderId: step.id, path: step.path }];
    }
    case "deleteFolder":
      requireUserFolder(view, step.id);
      return [{ t: "folder.deleted", folderId: step.id }];
    case "items":
      return itemEvents(view, step);
    case "addTags":
      return [{ t: "flags.set", ids: [], flags: [], tags: [...step.tags] }];
  }
}

function itemEvents(view: MailboxView, step: Extract<RestoreOverStep, { do: "items" }>): MailEvent[] {
  const touched = new Set<number>();
  const once = (ids: readonly number[], what: string): void => {
    for (const id of ids) {
      if (touched.has(id))
        throw new MailError("RESTORE_CONFLICT", `restore step names item ${id} twice (${what}); it was not planned by planRestoreOver`, { id });
      touched.add(id);
    }
  };
  once(step.delete, "delete");
  once(
    step.create.map((i) => i.itemId),
    "create",
  );
  const updated = new Set([...step.move.flatMap((m) => m.ids), ...step.flags.flatMap((f) => f.ids)]);
  once([...updated], "update");
  const existing = [...step.delete, ...updated];
  const missing = view.missingItems(existing);
  if (missing.length > 0) throw conflict(view, `item${missing.length > 1 ? "s" : ""} ${missing.slice(0, 10).join(", ")} no longer exist`);
  const created = step.create.map((i) => i.itemId);
  const absent = new Set(view.missingItems(created));
  const present = created.filter((id) => !absent.has(id) || view.folderById(id) !== undefined);
  if (present.length > 0) throw conflict(view, `item${present.length > 1 ? "s" : ""} ${present.slice(0, 10).join(", ")} exist again`);
  for (const folderId of new Set([...step.create.map((i) => i.folderId), ...step.move.map((m) => m.folderId)])) {
    if (view.folderById(folderId) === undefined) throw conflict(view, `folder ${folderId} no longer exists`);
  }
  const events: MailEvent[] = [];
  if (step.delete.length > 0) events.push({ t: "items.deleted", ids: [...step.delete] });
  for (const item of step.create) events.push({ t: "message.delivered", ...item });
  for (const m of step.move) events.push({ t: "items.moved", ids: [...m.ids], folderId: m.folderId });
  for (const f of step.flags) events.push({ t: "flags.set", ids: [...f.ids], flags: [...f.flags], tags: [...f.tags] });
  return events;
}

function requireUserFolder(view: MailboxView, id: number): { id: number; path: string } {
  const folder = view.folderById(id);
  if (folder === undefined) throw conflict(view, `folder ${id} no longer exists`);
  if (isSystemFolderId(id)) throw new MailError("FOLDER_SYSTEM", `restore step names system folder ${id}; system folders are never changed`, { id });
  return folder;
}

/** The path is free (or held by folder `self`) and its parent exists. */
function requireFreePath(view: MailboxView, path: string, self: number | undefined): void {
  const holder = view.folderByPath(path);
  if (holder !== undefined && holder.id !== self) throw conflict(view, `folder '${holder.path}' is in the way`);
  const parent = parentPath(path);
  if (parent !== undefined && view.folderByPath(parent) === undefined) throw conflict(view, `parent folder '${parent}' does not exist`);
}

function conflict(view: MailboxView, what: string): MailError {
  return new MailError(
    "RESTORE_CONFLICT",
    `account ${view.accountId} changed while it was being restored (${what}); what was written so far stays in its log — run the restore again: it starts from the state now`,
    { account: view.accountId },
  );
}
