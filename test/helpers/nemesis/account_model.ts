// What one account must look like, as its only writer (a simulated client) knows it: every
// message it delivered (by a unique Message-ID), where it must be and with which flags, and
// the user folders that must exist. Only acknowledged writes make a fact definite; a write
// whose outcome is not definite (no answer, OUTCOME_UNKNOWN, ...) may land then or later, so
// whatever it touches becomes uncertain for good ("maybe"), and the client never builds new
// writes on uncertain state. The checker compares a store's copy with this model.
import { normalizeFlags } from "../../../src/mail/flags.js";
import { intIn, pick, type Rand } from "../workload.js";

export const SYSTEM_FOLDERS = ["Inbox", "Trash", "Junk", "Sent", "Drafts"] as const;
const FLAG_POOL = ["seen", "flagged", "answered", "draft", "work", "personal", "todo"];
const TOP_NAMES = ["Archive", "Projects", "Travel", "Receipts", "Lists", "Family"];
const SUB_NAMES = ["y2025", "y2026", "alpha", "beta"];
const MAX_USER_FOLDERS = 8;

export type Presence = "yes" | "maybe" | "no";

export interface ItemModel {
  messageId: string;
  subject: string;
  /** known only when the delivery was acknowledged */
  itemId?: number;
  delivery: "acked" | "maybe";
  present: Presence;
  /** the folder it must be in; null once a write of unknown outcome may have moved it */
  folder: string | null;
  /** the flags it must have (sorted flags|tags); null once uncertain */
  flags: string | null;
  /** the acknowledged writes that made the expectations above (for loss reports) */
  history: string[];
  /** a definite refusal contradicted the model: the client no longer writes to it */
  avoid: boolean;
}

export interface MailCall {
  method: string;
  params: Record<string, unknown>;
  /** one line for reports: the call with the messages it touches */
  describe: string;
}

/** The key flags are compared by: system flags and keywords, each sorted. */
export function flagsKey(flags: readonly string[], tags?: readonly string[]): string {
  if (tags === undefined) {
    const n = normalizeFlags([...flags]);
    return `${n.flags.join(",")}|${n.tags.join(",")}`;
  }
  return `${[...flags].sort().join(",")}|${[...tags].sort().join(",")}`;
}

const inSubtree = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

export class AccountModel {
  /** by Message-ID */
  readonly items = new Map<string, ItemModel>();
  /** user folders: "yes" must exist, "maybe" may exist */
  readonly folders = new Map<string, Presence>();
  private readonly avoidFolders = new Set<string>();
  /** numbers every new folder name: a path is never reused, so a late write cannot land on a new folder */
  private folderNo = 0;

  constructor(
    readonly account: string,
    readonly accountId: string,
  ) {}

  private definiteFolders(): string[] {
    return [...SYSTEM_FOLDERS, ...[...this.folders].filter(([p, s]) => s === "yes" && !this.avoidFolders.has(p)).map(([p]) => p)];
  }

  private definiteItems(): ItemModel[] {
    return [...this.items.values()].filter((i) => i.present === "yes" && i.delivery === "acked" && i.itemId !== undefined && !i.avoid);
  }

  private pickItems(rand: Rand): ItemModel[] {
    const all = this.definiteItems();
    const out = new Set<ItemModel>();
    const n = intIn(rand, 1, 3);
    for (let i = 0; i < n * 3 && out.size < Math.min(n, all.length); i++) out.add(pick(rand, all));
    return [...out];
  }

  private freshPath(rand: Rand): string {
    const tops = [...this.folders].filter(([p, s]) => s === "yes" && !p.includes("/") && !this.avoidFolders.has(p)).map(([p]) => p);
    const n = ++this.folderNo;
    const path = tops.length > 0 && rand() < 0.4 ? `${pick(rand, tops)}/${pick(rand, SUB_NAMES)}${n}` : `${pick(rand, TOP_NAMES)}${n}`;
    return path;
  }

  /** The next write, built only on definite state; `message` makes a new unique message. */
  next(rand: Rand, message: () => { raw: string; messageId: string; subject: string }): MailCall {
    const account = this.account;
    const items = this.definiteItems();
    const userYes = [...this.folders].filter(([p, s]) => s === "yes" && !this.avoidFolders.has(p)).map(([p]) => p);
    const r = rand();
    if (r < 0.4 || items.length < 4) {
      const m = message();
      const folder = rand() < 0.7 ? "Inbox" : pick(rand, this.definiteFolders());
      const flags = rand() < 0.3 ? [pick(rand, FLAG_POOL)] : [];
      return {
        method: "deliverMessage",
        params: { account, raw: m.raw, folder, flags },
        describe: `deliverMessage ${m.messageId} ("${m.subject}") to ${folder} flags [${flags}]`,
      };
    }
    if (r < 0.58) {
      const its = this.pickItems(rand);
      const flags = [...new Set(Array.from({ length: intIn(rand, 0, 3) }, () => pick(rand, FLAG_POOL)))];
      return {
        method: "setFlags",
        params: { account, ids: its.map((i) => i.itemId), flags },
        describe: `setFlags [${flags}] on ${its.map((i) => `${i.itemId} ${i.messageId}`).join(", ")}`,
      };
    }
    if (r < 0.72) {
      const its = this.pickItems(rand);
      const folder = pick(rand, this.definiteFolders());
      return {
        method: "moveItems",
        params: { account, ids: its.map((i) => i.itemId), folder },
        describe: `moveItems to ${folder}: ${its.map((i) => `${i.itemId} ${i.messageId}`).join(", ")}`,
      };
    }
    if (r < 0.8) {
      const its = this.pickItems(rand);
      return {
        method: "deleteItems",
        params: { account, ids: its.map((i) => i.itemId) },
        describe: `deleteItems ${its.map((i) => `${i.itemId} ${i.messageId}`).join(", ")}`,
      };
    }
    if (r < 0.9 || userYes.length === 0) {
      if (this.folders.size < MAX_USER_FOLDERS || userYes.length === 0) {
        const path = this.freshPath(rand);
        return { method: "createFolder", params: { account, path }, describe: `createFolder ${path}` };
      }
    }
    const from = pick(rand, userYes);
    if (r < 0.95) {
      const parent = from.includes("/") ? from.slice(0, from.lastIndexOf("/") + 1) : "";
      const to = `${parent}${pick(rand, parent ? SUB_NAMES : TOP_NAMES)}${++this.folderNo}`;
      return { method: "renameFolder", params: { account, path: from, newPath: to }, describe: `renameFolder ${from} -> ${to}` };
    }
    return { method: "deleteFolder", params: { account, path: from }, describe: `deleteFolder ${from}` };
  }

  /** The call was acknowledged with `result`: its effects are now definite. */
  acknowledged(c: MailCall, result: any): void {
    const p = c.params;
    const note = `${c.describe} (acknowledged)`;
    switch (c.method) {
      case "deliverMessage": {
        const m = this.messageOf(p.raw as string);
        this.items.set(m.messageId, {
          ...m,
          itemId: result.itemId,
          delivery: "acked",
          present: "yes",
          folder: result.folder,
          flags: flagsKey(p.flags as string[]),
          history: [note],
          avoid: false,
        });
        break;
      }
      case "setFlags":
        for (const it of this.byIds(result.ids)) {
          it.flags = it.flags === null ? null : flagsKey(p.flags as string[]);
          it.history.push(note);
        }
        break;
      case "moveItems":
        for (const it of this.byIds(result.ids)) {
          if (it.folder !== null) it.folder = p.folder as string;
          it.history.push(note);
        }
        break;
      case "deleteItems":
        for (const it of this.byIds(result.ids)) {
          if (it.present === "yes") it.present = "no";
          it.history.push(note);
        }
        break;
      case "createFolder":
        this.folders.set(result.path, "yes");
        break;
      case "renameFolder":
        this.renamed(p.path as string, result.path as string, note);
        break;
      case "deleteFolder":
        this.folderDeleted(p.path as string, note, "no");
        break;
    }
  }

  /** The call's outcome is not known: it may have happened, now or later. */
  uncertain(c: MailCall): void {
    const p = c.params;
    const note = `${c.describe} (outcome unknown)`;
    switch (c.method) {
      case "deliverMessage": {
        const m = this.messageOf(p.raw as string);
        if (!this.items.has(m.messageId))
          this.items.set(m.messageId, { ...m, delivery: "maybe", present: "maybe", folder: null, flags: null, history: [note], avoid: false });
        break;
      }
      case "setFlags":
        for (const it of this.byIds(p.ids as number[])) {
          it.flags = null;
          it.history.push(note);
        }
        break;
      case "moveItems":
        for (const it of this.byIds(p.ids as number[])) {
          it.folder = null;
          it.history.push(note);
        }
        break;
      case "deleteItems":
        for (const it of this.byIds(p.ids as number[])) {
          if (it.present === "yes") it.present = "maybe";
          it.history.push(note);
        }
        break;
      case "createFolder":
        if (!this.folders.has(p.path as string)) this.folders.set(p.path as string, "maybe");
        break;
      case "renameFolder": {
        const from = p.path as string;
        const to = p.newPath as string;
        for (const f of [...this.folders.keys()]) {
          if (inSubtree(f, from)) {
            this.folders.set(f, "maybe");
            this.folders.set(to + f.slice(from.length), "maybe");
          }
        }
        for (const it of this.items.values()) {
          if (it.folder !== null && inSubtree(it.folder, from)) {
            it.folder = null;
            it.history.push(note);
          }
        }
        break;
      }
      case "deleteFolder":
        this.folderDeleted(p.path as string, note, "maybe");
        break;
    }
  }

  /**
   * A definite refusal the model did not expect (e.g. ITEM_NOT_FOUND for items it says exist):
   * the client stops writing to what it named, and the checker will say what is wrong.
   */
  contradicted(c: MailCall): void {
    for (const it of this.byIds((c.params.ids as number[] | undefined) ?? [])) it.avoid = true;
    for (const k of ["path", "folder"] as const) {
      const f = c.params[k];
      if (typeof f === "string") this.avoidFolders.add(f);
    }
  }

  private renamed(from: string, to: string, note: string): void {
    for (const [f, s] of [...this.folders]) {
      if (inSubtree(f, from)) {
        this.folders.delete(f);
        this.folders.set(to + f.slice(from.length), s);
      }
    }
    for (const it of this.items.values()) {
      if (it.folder !== null && inSubtree(it.folder, from)) {
        it.folder = to + it.folder.slice(from.length);
        it.history.push(note);
      }
    }
  }

  private folderDeleted(path: string, note: string, outcome: "no" | "maybe"): void {
    for (const f of [...this.folders.keys()]) {
      if (!inSubtree(f, path)) continue;
      if (outcome === "no") this.folders.delete(f);
      else this.folders.set(f, "maybe");
    }
    for (const it of this.items.values()) {
      if (it.present === "no") continue;
      if (it.folder !== null && inSubtree(it.folder, path)) {
        it.present = it.present === "yes" && outcome === "no" ? "no" : "maybe";
        it.history.push(note);
      } else if (it.folder === null && it.present === "yes") {
        // it may have been moved into the deleted folder by a write of unknown outcome
        it.present = "maybe";
        it.history.push(note);
      }
    }
  }

  private byIds(ids: readonly number[] | undefined): ItemModel[] {
    const want = new Set(ids ?? []);
    return [...this.items.values()].filter((i) => i.itemId !== undefined && want.has(i.itemId));
  }

  private messageOf(raw: string): { messageId: string; subject: string } {
    const id = /^Message-ID: <([^>]+)>/im.exec(raw)?.[1];
    const subject = /^Subject: (.*)$/im.exec(raw)?.[1]?.trim();
    if (!id || !subject) throw new Error("nemesis: a delivered message has no Message-ID or Subject");
    return { messageId: id, subject };
  }
}
