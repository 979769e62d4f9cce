// One account's whole replicated state as plain rows: what a snapshot carries (src/snapshot/).
// Read in one SQLite read transaction, so the rows and the applied seq belong together; loaded
// in one write transaction that replaces every row of the account and moves its applied seq.
import type Database from "better-sqlite3";
import { folderPathKey } from "../mail/folder_path.js";
import { StoreError } from "./errors.js";

/** The columns of an item, in table order after account_id (lists are the store's JSON text). */
export type ItemTuple = [
  id: number,
  folderId: number,
  messageId: string,
  sender: string,
  recipients: string,
  cc: string,
  subject: string,
  date: number,
  size: number,
  flags: string,
  tags: string,
  blob: string,
];
export type FolderTuple = [id: number, path: string, parentId: number | null];
export type RequestTuple = [requestId: string, paramsDigest: string, result: string, seq: number, at: number];

export interface AccountState {
  account: { name: string; type: string; mailHost: string; lastItemId: number; createdAt: number };
  folders: FolderTuple[];
  items: ItemTuple[];
  tags: string[];
  requests: RequestTuple[];
}

/** Where in the log the state is: what the applier needs to go on from it. */
export interface StatePosition {
  seq: number;
  epoch: number;
  primaryHost: string;
  /** the grant of the promotion that made primaryHost primary at epoch; null at the creation epoch */
  grant: string | null;
}

const ITEM_COLUMNS = "id, folder_id, message_id, sender, recipients, cc, subject, date, size, flags, tags, blob";

/** Prepared once per database connection. */
export class AccountStateStatements {
  readonly account;
  readonly folders;
  readonly items;
  /** a page of items after an id (a paged read on the store's second connection) */
  readonly itemsAfter;
  readonly tags;
  readonly requests;
  readonly position;
  readonly insertAccount;
  readonly insertFolder;
  readonly insertItem;
  readonly insertTag;
  readonly insertRequest;
  readonly deleteItems;
  readonly deleteFolders;
  readonly deleteTags;
  readonly deleteRequests;
  readonly deleteAccount;
  readonly setPosition;

  constructor(db: Database.Database) {
    this.account = db.prepare<[string], { name: string; type: string; mail_host: string; last_item_id: number; created_at: number }>(
      "SELECT name, type, mail_host, last_item_id, created_at FROM accounts WHERE id = ?",
    );
    this.folders = db.prepare<[string], unknown[]>("SELECT id, path, parent_id FROM folders WHERE account_id = ? ORDER BY id").raw();
    this.items = db.prepare<[string], unknown[]>(`SELECT ${ITEM_COLUMNS} FROM items WHERE account_id = ? ORDER BY id`).raw();
    this.itemsAfter = db
      .prepare<[string, number, number], unknown[]>(`SELECT ${ITEM_COLUMNS} FROM items WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?`)
      .raw();
    this.tags = db.prepare<[string], string>("SELECT name FROM tags WHERE account_id = ? ORDER BY name").pluck();
    this.requests = db
      .prepare<[string], unknown[]>("SELECT request_id, params_digest, result, seq, at FROM requests WHERE account_id = ? ORDER BY request_id")
      .raw();
    this.position = db.prepare<[string], { applied_seq: number; epoch: number; primary_host: string | null; promotion_grant: string | null }>(
      "SELECT applied_seq, epoch, primary_host, promotion_grant FROM replica_state WHERE account_id = ?",
    );
    this.insertAccount = db.prepare<[string, string, string, string, number, number]>(
      "INSERT INTO accounts (id, name, type, mail_host, last_item_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.insertFolder = db.prepare<[string, number, string, string, number | null]>(
      "INSERT INTO folders (account_id, id, path, path_key, parent_id) VALUES (?, ?, ?, ?, ?)",
    );
    this.insertItem = db.prepare<unknown[]>(`INSERT INTO items (account_id, ${ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertTag = db.prepare<[string, string]>("INSERT INTO tags (account_id, name) VALUES (?, ?)");
    this.insertRequest = db.prepare<[string, string, string, string, number, number]>(
      "INSERT INTO requests (account_id, request_id, params_digest, result, seq, at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.deleteItems = db.prepare<[string]>("DELETE FROM items WHERE account_id = ?");
    this.deleteFolders = db.prepare<[string]>("DELETE FROM folders WHERE account_id = ?");
    this.deleteTags = db.prepare<[string]>("DELETE FROM tags WHERE account_id = ?");
    this.deleteRequests = db.prepare<[string]>("DELETE FROM requests WHERE account_id = ?");
    this.deleteAccount = db.prepare<[string]>("DELETE FROM accounts WHERE id = ?");
    this.setPosition = db.prepare<[number, number, number, string, string | null, string]>(
      `UPDATE replica_state SET applied_seq = ?, applied_at = ?, epoch = ?, primary_host = ?, promotion_grant = ?, status = 'available', error = NULL
        WHERE account_id = ?`,
    );
  }
}

/**
 * The same rows as readAccountState, read on a connection of their own in one read
 * transaction (WAL: the writer goes on meanwhile, the reader sees one moment), items in pages
 * with a turn of the event loop between them, so a large account does not hold the process's
 * requests for the whole read. The connection (and `s`, prepared on it) is the caller's, used by
 * nothing else meanwhile.
 */
export async function readAccountStateInPages(
  reader: Database.Database,
  s: AccountStateStatements,
  accountId: string,
  pageRows: number,
): Promise<{ state: AccountState; position: StatePosition } | undefined> {
  reader.exec("BEGIN");
  try {
    const h = header(s, accountId);
    if (!h) return undefined;
    const items: ItemTuple[] = [];
    for (let after = 0; ;) {
      const rows = s.itemsAfter.all(accountId, after, pageRows) as ItemTuple[];
      items.push(...rows);
      if (rows.length < pageRows) break;
      after = rows[rows.length - 1]![0];
      await new Promise<void>((r) => setImmediate(r));
    }
    return assemble(s, accountId, h, items);
  } finally {
    reader.exec("COMMIT");
  }
}

/** Reads the account's rows and position. Run inside one read transaction. Undefined before its creation is applied. */
export function readAccountState(s: AccountStateStatements, accountId: string): { state: AccountState; position: StatePosition } | undefined {
  const h = header(s, accountId);
  return h && assemble(s, accountId, h, s.items.all(accountId) as ItemTuple[]);
}

type Header = { a: NonNullable<ReturnType<AccountStateStatements["account"]["get"]>>; p: NonNullable<ReturnType<AccountStateStatements["position"]["get"]>> };

/** The account row and the position, or undefined while nothing of the account is applied. */
function header(s: AccountStateStatements, accountId: string): Header | undefined {
  const a = s.account.get(accountId);
  const p = s.position.get(accountId);
  return a === undefined || p === undefined || p.primary_host === null || p.applied_seq < 1 ? undefined : { a, p };
}

function assemble(s: AccountStateStatements, accountId: string, { a, p }: Header, items: ItemTuple[]): { state: AccountState; position: StatePosition } {
  return {
    state: {
      account: { name: a.name, type: a.type, mailHost: a.mail_host, lastItemId: a.last_item_id, createdAt: a.created_at },
      folders: s.folders.all(accountId) as FolderTuple[],
      items,
      tags: s.tags.all(accountId),
      requests: s.requests.all(accountId) as RequestTuple[],
    },
    position: { seq: p.applied_seq, epoch: p.epoch, primaryHost: p.primary_host!, grant: p.promotion_grant },
  };
}

/**
 * Replaces every row of the account with `state` and sets its applied position. Run inside one
 * write transaction; the account's replica_state row must exist (its role and generation stay).
 * The rows were checked for shape by the snapshot reader; a row that breaks a constraint
 * (a duplicate id, an item in a missing folder) throws here and the transaction rolls back.
 */
export function writeAccountState(s: AccountStateStatements, accountId: string, state: AccountState, position: StatePosition, now: number): void {
  s.deleteItems.run(accountId);
  s.deleteTags.run(accountId);
  s.deleteFolders.run(accountId);
  s.deleteRequests.run(accountId);
  s.deleteAccount.run(accountId);
  const a = state.account;
  s.insertAccount.run(accountId, a.name, a.type, a.mailHost, a.lastItemId, a.createdAt);
  for (const [id, path, parentId] of state.folders) s.insertFolder.run(accountId, id, path, folderPathKey(path), parentId);
  for (const item of state.items) s.insertItem.run(accountId, ...item);
  for (const tag of state.tags) s.insertTag.run(accountId, tag);
  for (const [requestId, digest, result, seq, at] of state.requests) s.insertRequest.run(accountId, requestId, digest, result, seq, at);
  const changed = s.setPosition.run(position.seq, now, position.epoch, position.primaryHost, position.grant, accountId).changes;
  if (changed === 0) {
    throw new StoreError("REPLICA_STATE_NOT_FOUND", `account ${accountId} is not hosted on this mailstore; call ensureReplicaState(accountId, role) first`, {
      account: accountId,
    });
  }
}
