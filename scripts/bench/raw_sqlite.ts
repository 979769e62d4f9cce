// Raw SQLite baseline (issue 11, raw_sqlite_rows_per_s): better-sqlite3 inserting item rows
// into a fresh database with the store's own schema (src/store/migrations.ts) and pragmas
// (WAL, synchronous NORMAL, foreign keys), many rows per transaction: what bulk-loading an
// account's items costs without any log, envelope or planning around it.
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../../src/store/migrations.js";
import { now, tempDir } from "./util.js";

export interface RawSqliteResult {
  rows: number;
  rowsPerTransaction: number;
  ms: number;
  rowsPerSec: number;
}

const ACCOUNT = "00000000-0000-4000-8000-00000000a5a5";
/** the inbox: a system folder, created here as the store's apply of account.created does */
const INBOX = 2;

export function benchRawSqlite(rows: number, rowsPerTransaction: number): RawSqliteResult {
  const file = join(tempDir("mr-bench-sqlite-"), "metadata.sqlite");
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, file, Date.now);
    db.prepare("INSERT INTO accounts (id, name, type, mail_host, last_item_id, created_at) VALUES (?, ?, 'account', 'ms.bench', 0, 0)").run(
      ACCOUNT,
      "raw@bench.example.com",
    );
    db.prepare("INSERT INTO folders (account_id, id, path, path_key, parent_id) VALUES (?, ?, 'INBOX', 'inbox', NULL)").run(ACCOUNT, INBOX);
    // The statement of src/store/statements.ts (insertItem).
    const insert = db.prepare(
      `INSERT INTO items (account_id, id, folder_id, message_id, sender, recipients, cc, subject, date, size, flags, tags, blob)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const blob = "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef";
    const chunk = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        insert.run(
          ACCOUNT,
          257 + i,
          INBOX,
          `<m${i}.1732442400@sender.example.org>`,
          `sender${i % 97}@example.org`,
          '["john.doe@example.com"]',
          "[]",
          `Quarterly report, part ${i}`,
          1_732_442_400_000 + i,
          2_048 + (i % 512),
          "[]",
          "[]",
          blob,
        );
      }
    });
    const t0 = now();
    for (let i = 0; i < rows; i += rowsPerTransaction) chunk(i, Math.min(rows, i + rowsPerTransaction));
    const ms = now() - t0;
    return { rows, rowsPerTransaction, ms, rowsPerSec: (rows * 1000) / ms };
  } finally {
    db.close();
  }
}
