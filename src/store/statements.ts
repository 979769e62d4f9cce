import type Database from "better-sqlite3";

/** Row shapes, as SQLite returns them. */
export interface AccountRow {
  mailbox_id: number;
  id: string;
  name: string;
  type: string;
  mail_host: string;
  last_item_id: number;
  created_at: number;
}

export interface FolderRow {
  id: number;
  path: string;
  path_key: string;
  parent_id: number | null;
}

export interface FolderListRow {
  id: number;
  path: string;
  parent_id: number | null;
  item_count: number;
}

export interface ItemRow {
  id: number;
  folder_id: number;
  folder: string;
  message_id: string;
  sender: string;
  recipients: string;
  cc: string;
  subject: string;
  date: number;
  size: number;
  flags: string;
  tags: string;
  blob: string;
}

export interface ReplicaStateRow {
  account_id: string;
  role: string;
  epoch: number;
  applied_seq: number;
  applied_at: number | null;
  status: string;
  error: string | null;
  generation: number;
  primary_host: string | null;
}

export interface RequestRow {
  params_digest: string;
  result: string;
  seq: number;
}

export interface SummaryRow extends ReplicaStateRow {
  name: string | null;
  mailbox_id: number | null;
  last_item_id: number | null;
}

/** A folder subtree as a key range: the folder's own key, and [lo, hi) for its descendants. */
export interface SubtreeParams {
  account: string;
  key: string;
  lo: string;
  hi: string;
}

export function subtreeParams(account: string, key: string): SubtreeParams {
  // '0' is the character right after '/', so [key/, key0) holds exactly the keys under key/.
  return { account, key, lo: `${key}/`, hi: `${key}0` };
}

// Two index searches on (account_id, path_key); one OR'ed condition would scan the account's folders.
const SUBTREE_IDS = `SELECT id FROM folders WHERE account_id = @account AND path_key = @key
  UNION ALL SELECT id FROM folders WHERE account_id = @account AND path_key >= @lo AND path_key < @hi`;
const ITEM_COLUMNS = `i.id, i.folder_id, f.path AS folder, i.message_id, i.sender, i.recipients, i.cc, i.subject, i.date, i.size, i.flags, i.tags, i.blob
  FROM items i JOIN folders f ON f.account_id = i.account_id AND f.id = i.folder_id`;
const ACCOUNT_COLUMNS = "mailbox_id, id, name, type, mail_host, last_item_id, created_at";
const REPLICA_COLUMNS = "account_id, role, epoch, applied_seq, applied_at, status, error, generation, primary_host";

/**
 * Every statement the store runs, prepared once when the store opens: planning and applying
 * run on every write and every replicated batch, so nothing on those paths compiles SQL.
 */
export class Statements {
  // accounts
  readonly accountById;
  readonly accountByName;
  readonly insertAccount;
  readonly raiseLastItemId;
  readonly setMailHost;
  readonly deleteAccount;
  // folders
  readonly folderById;
  readonly folderByKey;
  readonly insertFolder;
  readonly moveFolder;
  readonly descendants;
  readonly countSubtreeFolders;
  readonly countSubtreeItems;
  readonly deleteSubtreeItems;
  readonly deleteSubtreeFolders;
  readonly listFolders;
  readonly deleteFolders;
  // items and tags
  readonly itemExists;
  readonly insertItem;
  readonly setItemFlags;
  readonly moveItem;
  readonly deleteItem;
  readonly getItem;
  readonly pageAll;
  readonly pageFolder;
  readonly countAll;
  readonly countFolder;
  readonly dumpItems;
  readonly deleteItems;
  readonly insertTag;
  readonly listTags;
  readonly deleteTags;
  // request outcomes
  readonly requestById;
  readonly insertRequest;
  readonly pruneRequests;
  readonly deleteRequests;
  // replica state
  readonly replicaState;
  readonly insertReplicaState;
  readonly setApplied;
  readonly setPromotionGrant;
  readonly setStatus;
  readonly setRole;
  readonly setGeneration;
  readonly listReplicaStates;
  readonly summary;
  readonly deleteReplicaState;
  // transaction control for plan
  readonly begin;
  readonly rollback;
  readonly savepoint;
  readonly rollbackToSavepoint;
  readonly releaseSavepoint;

  constructor(db: Database.Database) {
    this.accountById = db.prepare<[string], AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`);
    this.accountByName = db.prepare<[string], AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = ?`);
    this.insertAccount = db.prepare<[string, string, string, string, number, number]>(
      "INSERT INTO accounts (id, name, type, mail_host, last_item_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.raiseLastItemId = db.prepare<[number, string]>("UPDATE accounts SET last_item_id = max(last_item_id, ?) WHERE id = ?");
    this.setMailHost = db.prepare<[string, string]>("UPDATE accounts SET mail_host = ? WHERE id = ?");
    this.deleteAccount = db.prepare<[string]>("DELETE FROM accounts WHERE id = ?");

    this.folderById = db.prepare<[string, number], FolderRow>("SELECT id, path, path_key, parent_id FROM folders WHERE account_id = ? AND id = ?");
    this.folderByKey = db.prepare<[string, string], FolderRow>("SELECT id, path, path_key, parent_id FROM folders WHERE account_id = ? AND path_key = ?");
    this.insertFolder = db.prepare<[string, number, string, string, number | null]>(
      "INSERT INTO folders (account_id, id, path, path_key, parent_id) VALUES (?, ?, ?, ?, ?)",
    );
    this.moveFolder = db.prepare<[string, string, number | null, string, number]>(
      "UPDATE folders SET path = ?, path_key = ?, parent_id = ? WHERE account_id = ? AND id = ?",
    );
    this.descendants = db.prepare<[SubtreeParams], { id: number; path: string; parent_id: number | null }>(
      "SELECT id, path, parent_id FROM folders WHERE account_id = @account AND path_key >= @lo AND path_key < @hi",
    );
    this.countSubtreeFolders = db.prepare<[SubtreeParams], number>(`SELECT count(*) FROM (${SUBTREE_IDS})`).pluck();
    this.countSubtreeItems = db
      .prepare<[SubtreeParams], number>(`SELECT count(*) FROM items WHERE account_id = @account AND folder_id IN (${SUBTREE_IDS})`)
      .pluck();
    this.deleteSubtreeItems = db.prepare<[SubtreeParams]>(`DELETE FROM items WHERE account_id = @account AND folder_id IN (${SUBTREE_IDS})`);
    this.deleteSubtreeFolders = db.prepare<[SubtreeParams]>(`DELETE FROM folders WHERE account_id = @account AND id IN (${SUBTREE_IDS})`);
    this.listFolders = db.prepare<[string], FolderListRow>(
      `SELECT f.id, f.path, f.parent_id,
              (SELECT count(*) FROM items i WHERE i.account_id = f.account_id AND i.folder_id = f.id) AS item_count
         FROM folders f WHERE f.account_id = ? ORDER BY f.id`,
    );
    this.deleteFolders = db.prepare<[string]>("DELETE FROM folders WHERE account_id = ?");

    this.itemExists = db.prepare<[string, number], number>("SELECT 1 FROM items WHERE account_id = ? AND id = ?").pluck();
    this.insertItem = db.prepare<[string, number, number, string, string, string, string, string, number, number, string, string, string]>(
      `INSERT INTO items (account_id, id, folder_id, message_id, sender, recipients, cc, subject, date, size, flags, tags, blob)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.setItemFlags = db.prepare<[string, string, string, number]>("UPDATE items SET flags = ?, tags = ? WHERE account_id = ? AND id = ?");
    this.moveItem = db.prepare<[number, string, number]>("UPDATE items SET folder_id = ? WHERE account_id = ? AND id = ?");
    this.deleteItem = db.prepare<[string, number]>("DELETE FROM items WHERE account_id = ? AND id = ?");
    this.getItem = db.prepare<[string, number], ItemRow>(`SELECT ${ITEM_COLUMNS} WHERE i.account_id = ? AND i.id = ?`);
    this.pageAll = db.prepare<[string, number, number], ItemRow>(
      `SELECT ${ITEM_COLUMNS} WHERE i.account_id = ? ORDER BY i.date DESC, i.id DESC LIMIT ? OFFSET ?`,
    );
    this.pageFolder = db.prepare<[string, number, number, number], ItemRow>(
      `SELECT ${ITEM_COLUMNS} WHERE i.account_id = ? AND i.folder_id = ? ORDER BY i.date DESC, i.id DESC LIMIT ? OFFSET ?`,
    );
    this.countAll = db.prepare<[string], number>("SELECT count(*) FROM items WHERE account_id = ?").pluck();
    this.countFolder = db.prepare<[string, number], number>("SELECT count(*) FROM items WHERE account_id = ? AND folder_id = ?").pluck();
    this.dumpItems = db.prepare<[string], ItemRow>(`SELECT ${ITEM_COLUMNS} WHERE i.account_id = ? ORDER BY i.id`);
    this.deleteItems = db.prepare<[string]>("DELETE FROM items WHERE account_id = ?");
    this.insertTag = db.prepare<[string, string]>("INSERT OR IGNORE INTO tags (account_id, name) VALUES (?, ?)");
    this.listTags = db.prepare<[string], string>("SELECT name FROM tags WHERE account_id = ? ORDER BY name").pluck();
    this.deleteTags = db.prepare<[string]>("DELETE FROM tags WHERE account_id = ?");

    this.requestById = db.prepare<[string, string], RequestRow>("SELECT params_digest, result, seq FROM requests WHERE account_id = ? AND request_id = ?");
    // OR IGNORE: the first outcome of a requestId stays; a later record of it changes nothing.
    this.insertRequest = db.prepare<[string, string, string, string, number, number]>(
      "INSERT OR IGNORE INTO requests (account_id, request_id, params_digest, result, seq, at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    // Bounded, so one apply never pays for a long backlog; every batch prunes a little more.
    this.pruneRequests = db.prepare<[string, number, number]>(
      "DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE account_id = ? AND at < ? ORDER BY at LIMIT ?)",
    );
    this.deleteRequests = db.prepare<[string]>("DELETE FROM requests WHERE account_id = ?");

    this.replicaState = db.prepare<[string], ReplicaStateRow>(`SELECT ${REPLICA_COLUMNS} FROM replica_state WHERE account_id = ?`);
    this.insertReplicaState = db.prepare<[string, string]>(
      "INSERT OR IGNORE INTO replica_state (account_id, role, epoch, applied_seq, status) VALUES (?, ?, 0, 0, 'available')",
    );
    this.setApplied = db.prepare<[number, number, number, string | null, string]>(
      "UPDATE replica_state SET applied_seq = ?, applied_at = ?, epoch = ?, primary_host = ? WHERE account_id = ?",
    );
    this.setPromotionGrant = db.prepare<[string | null, string]>("UPDATE replica_state SET promotion_grant = ? WHERE account_id = ?");
    this.setStatus = db.prepare<[string, string | null, string]>("UPDATE replica_state SET status = ?, error = ? WHERE account_id = ?");
    this.setRole = db.prepare<[string, string]>("UPDATE replica_state SET role = ? WHERE account_id = ?");
    this.setGeneration = db.prepare<[number, string]>("UPDATE replica_state SET generation = ? WHERE account_id = ?");
    this.listReplicaStates = db.prepare<[], ReplicaStateRow>(`SELECT ${REPLICA_COLUMNS} FROM replica_state ORDER BY account_id`);
    this.summary = db.prepare<[string], SummaryRow>(
      `SELECT r.account_id, r.role, r.epoch, r.applied_seq, r.applied_at, r.status, r.error, r.generation, r.primary_host, a.name, a.mailbox_id, a.last_item_id
         FROM replica_state r LEFT JOIN accounts a ON a.id = r.account_id WHERE r.account_id = ?`,
    );
    this.deleteReplicaState = db.prepare<[string]>("DELETE FROM replica_state WHERE account_id = ?");

    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.rollback = db.prepare("ROLLBACK");
    this.savepoint = db.prepare("SAVEPOINT plan_command");
    this.rollbackToSavepoint = db.prepare("ROLLBACK TO plan_command");
    this.releaseSavepoint = db.prepare("RELEASE plan_command");
  }
}
