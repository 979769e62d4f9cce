import type Database from "better-sqlite3";
import { StoreError } from "./errors.js";

/**
 * Versioned schema. A migration is never edited once released: add the next one. Each runs in
 * its own IMMEDIATE transaction together with its schema_migrations row, so a crash leaves the
 * database at the previous version, and two processes opening the same file cannot both run it.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "mail metadata and replica state",
    sql: `
-- accounts: one row per mailbox hosted here, as primary or replica.
--   mailbox_id    local: this store's own number for the account (Carbonio's mailboxId);
--                 differs between mailstores, never reused (AUTOINCREMENT).
--   id            account id (uuid); the <accountId> of its log subject mr.tx.<accountId>.
--   name          address, e.g. john.doe@example.com; unique ignoring ASCII case.
--   type          'account'.
--   mail_host     FQDN of the account's primary, as of the last 'promoted' event applied.
--   last_item_id  highest folder or item id ever handed out (starts at 256, only grows);
--                 the next one is last_item_id + 1.
--   created_at    ms since epoch on the writer's clock (the creating batch's 'at'), so it is
--                 the same on every replica.
CREATE TABLE accounts (
  mailbox_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  name         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  type         TEXT    NOT NULL,
  mail_host    TEXT    NOT NULL,
  last_item_id INTEGER NOT NULL,
  created_at   INTEGER NOT NULL
);

-- folders: the account's folder tree. System folders have fixed ids 2..6; user folders take
-- ids from the account's counter (>= 257).
--   account_id  accounts.id.
--   id          folder id, unique within the account (shared counter with items).
--   path        canonical path, '/'-separated, e.g. 'Archive/2026'; a child's path always
--               starts with its parent's path exactly.
--   path_key    path folded to upper case: unique per account, so paths are unique ignoring
--               case; a subtree is the key range [key || '/', key || '0').
--   parent_id   id of the parent folder; NULL for a top-level folder. Kept by the applier
--               (a folder is placed under the folder of its parent path; a subtree is deleted
--               whole). No foreign key: with the path_key index beside it, SQLite checks a
--               self-reference by scanning the account's folders on every folder delete.
CREATE TABLE folders (
  account_id TEXT    NOT NULL REFERENCES accounts (id),
  id         INTEGER NOT NULL,
  path       TEXT    NOT NULL,
  path_key   TEXT    NOT NULL,
  parent_id  INTEGER,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, path_key)
) WITHOUT ROWID;

-- items: message metadata; the body is in the blob store under 'blob'.
--   account_id  accounts.id.
--   id          item id from the account's counter (>= 257), never reused.
--   folder_id   folders.id of the folder holding it.
--   message_id  the Message-ID header.
--   sender      the From address.
--   recipients  the To addresses, JSON array of strings.
--   cc          the Cc addresses, JSON array of strings.
--   subject     the Subject header.
--   date        ms since epoch (the Date header, or delivery time).
--   size        bytes of the raw message.
--   flags       system flags (answered, draft, flagged, seen), JSON array, sorted.
--   tags        keywords, lower-case, JSON array, sorted.
--   blob        name of the raw message in the blob store (mr_blobs): b1.<kid>.<hmac hex>, or
--               the sha256 hex of bodies stored before encryption (src/blobs/blob_format.ts).
CREATE TABLE items (
  account_id TEXT    NOT NULL,
  id         INTEGER NOT NULL,
  folder_id  INTEGER NOT NULL,
  message_id TEXT    NOT NULL,
  sender     TEXT    NOT NULL,
  recipients TEXT    NOT NULL,
  cc         TEXT    NOT NULL,
  subject    TEXT    NOT NULL,
  date       INTEGER NOT NULL,
  size       INTEGER NOT NULL,
  flags      TEXT    NOT NULL,
  tags       TEXT    NOT NULL,
  blob       TEXT    NOT NULL,
  PRIMARY KEY (account_id, id),
  FOREIGN KEY (account_id, folder_id) REFERENCES folders (account_id, id)
);
-- listItems of one folder, newest first; also serves the folder foreign key.
CREATE INDEX items_by_folder_date ON items (account_id, folder_id, date DESC, id DESC);
-- listItems of the whole account, newest first.
CREATE INDEX items_by_date ON items (account_id, date DESC, id DESC);

-- tags: every keyword ever set on an item of the account.
--   account_id  accounts.id.
--   name        the keyword, lower-case.
CREATE TABLE tags (
  account_id TEXT NOT NULL REFERENCES accounts (id),
  name       TEXT NOT NULL,
  PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- replica_state: this mailstore's replication state per account it hosts (local; it exists
-- before the account's first batch is applied).
--   account_id   account id (uuid).
--   role         'primary' (this mailstore writes the account) or 'replica'.
--   epoch        newest epoch seen in the applied log (raised by 'promoted' events and by
--                batches of a newer writer); batches of an older epoch are not applied.
--   applied_seq  last account-log (stream) sequence applied; 0 before the first. Updated in
--                the same transaction as that batch's effects.
--   applied_at   local ms since epoch when applied_seq last moved; NULL before the first.
--   status       'available', 'unavailable' (applying stopped, see error) or 'paused'.
--   error        why the replica is unavailable; NULL otherwise.
CREATE TABLE replica_state (
  account_id  TEXT    PRIMARY KEY,
  role        TEXT    NOT NULL CHECK (role IN ('primary', 'replica')),
  epoch       INTEGER NOT NULL DEFAULT 0,
  applied_seq INTEGER NOT NULL DEFAULT 0,
  applied_at  INTEGER,
  status      TEXT    NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'unavailable', 'paused')),
  error       TEXT
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    name: "replica generation",
    sql: `
-- replica_state.generation: the directory's generation of this replica when its copy was
-- seeded; restartReplicas raises the directory's, and the destination re-seeds when they differ.
ALTER TABLE replica_state ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 3,
    name: "request outcomes",
    sql: `
-- requests: the first outcome of each write sent with a requestId (idempotency key), written
-- by applying its 'request.recorded' event, so in the same transaction as the write's effects
-- and on every copy alike. A retry with the same requestId is answered from here and writes
-- nothing; rows older than the window (24 h by the writer's clock) are pruned while applying.
--   account_id     accounts.id.
--   request_id     the caller's requestId (1-128 chars of [A-Za-z0-9._:-]).
--   params_digest  sha256 hex of the call's parameters: a reuse with other ones is refused.
--   result         the answer the caller got, JSON.
--   seq            log seq of the batch that recorded it.
--   at             the batch's 'at' (writer's clock, ms since epoch).
CREATE TABLE requests (
  account_id    TEXT    NOT NULL,
  request_id    TEXT    NOT NULL,
  params_digest TEXT    NOT NULL,
  result        TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  at            INTEGER NOT NULL,
  PRIMARY KEY (account_id, request_id)
);
-- pruning past the window, oldest first.
CREATE INDEX requests_by_age ON requests (account_id, at);
`,
  },
  {
    version: 4,
    name: "primary host of the applied log",
    sql: `
-- replica_state.primary_host: the host the applied log names as the account's primary at
-- replica_state.epoch: the mailHost of 'account.created', then the host of each valid
-- 'promoted'. An entry of that epoch is applied only when its writer is this host. NULL
-- before the first entry. Copies made before this column existed take the primary their
-- applied 'promoted' events left in accounts.mail_host (the same fact, kept there too).
ALTER TABLE replica_state ADD COLUMN primary_host TEXT;
UPDATE replica_state SET primary_host = (SELECT a.mail_host FROM accounts a WHERE a.id = replica_state.account_id);
`,
  },
  {
    version: 5,
    name: "promotion grant of the applied log",
    sql: `
-- replica_state.promotion_grant: the supervisor's grant carried by the last 'promoted' event
-- applied (src/envelope/grant.ts), NULL at the creation epoch. A snapshot carries it, so a
-- reader can check who was primary at the snapshot's epoch after the entry itself is compacted.
-- Copies made before this column existed have NULL until their next promotion; their
-- snapshots at an epoch > 1 cannot be taken until then.
ALTER TABLE replica_state ADD COLUMN promotion_grant TEXT;
`,
  },
];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/**
 * Brings the database to LATEST_SCHEMA_VERSION. Returns the version found and the version
 * now. Refuses (STORE_TOO_NEW) a database written by a newer mailreplica, before touching it.
 */
export function migrate(db: Database.Database, file: string, now: () => number): { from: number; to: number } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY, -- migration number
  name       TEXT    NOT NULL,    -- what it did
  applied_at INTEGER NOT NULL     -- local ms since epoch
)`);
  const current = db.prepare<[], number>("SELECT coalesce(max(version), 0) FROM schema_migrations").pluck();
  const record = db.prepare<[number, string, number]>("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  const from = current.get() ?? 0;
  refuseNewer(from, file);
  for (const m of MIGRATIONS) {
    db.transaction(() => {
      // Re-read inside the lock: another process may have migrated meanwhile.
      const at = current.get() ?? 0;
      refuseNewer(at, file);
      if (at >= m.version) return;
      db.exec(m.sql);
      record.run(m.version, m.name, now());
    }).immediate();
  }
  return { from, to: current.get() ?? 0 };
}

function refuseNewer(version: number, file: string): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      "STORE_TOO_NEW",
      `metadata store ${file} has schema version ${version}, but this mailreplica knows versions up to ${LATEST_SCHEMA_VERSION}; run a mailreplica at least as new as the one that wrote it (or use another data folder)`,
      { file, version, known: LATEST_SCHEMA_VERSION },
    );
  }
}
