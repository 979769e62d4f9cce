import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { LATEST_SCHEMA_VERSION, MetadataStore, StoreError } from "../src/store/index.js";

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "mr-store-migrations-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function versions(file: string): { version: number; applied_at: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all() as { version: number; applied_at: number }[];
  } finally {
    db.close();
  }
}

test("migrations - a fresh open creates the schema at the latest version, in WAL mode", () => {
  withDir((dir) => {
    const file = join(dir, "data", "metadata.sqlite");
    MetadataStore.open(file, { now: () => 1234 }).close();
    const rows = versions(file);
    assert.is(rows.length, LATEST_SCHEMA_VERSION);
    assert.is(rows.at(-1)?.version, LATEST_SCHEMA_VERSION);
    assert.is(rows[0]?.applied_at, 1234);
    const db = new Database(file, { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).filter(
        (n) => !n.startsWith("sqlite_"),
      );
      assert.equal(tables, ["accounts", "folders", "items", "replica_state", "requests", "schema_migrations", "tags"]);
      assert.is(db.pragma("journal_mode", { simple: true }), "wal");
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      assert.equal(indexes, ["items_by_date", "items_by_folder_date", "requests_by_age"]);
    } finally {
      db.close();
    }
  });
});

test("migrations - reopening is a no-op and keeps the data", () => {
  withDir((dir) => {
    const file = join(dir, "metadata.sqlite");
    const a = MetadataStore.open(file, { now: () => 1 });
    a.ensureReplicaState("acc-1", "replica");
    a.close();
    const before = versions(file);
    const b = MetadataStore.open(file, { now: () => 999 });
    try {
      assert.equal(versions(file), before);
      assert.is(b.replicaState("acc-1")?.role, "replica");
    } finally {
      b.close();
    }
  });
});

test("migrations - a database with a newer schema version is refused and left untouched", () => {
  withDir((dir) => {
    const file = join(dir, "metadata.sqlite");
    MetadataStore.open(file).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)").run(LATEST_SCHEMA_VERSION + 1);
    db.close();
    try {
      MetadataStore.open(file);
      assert.unreachable("opened a database from a newer mailreplica");
    } catch (e) {
      assert.instance(e, StoreError);
      assert.is((e as StoreError).code, "STORE_TOO_NEW");
      assert.ok((e as StoreError).message.includes(`schema version ${LATEST_SCHEMA_VERSION + 1}`), (e as Error).message);
    }
    assert.is(versions(file).at(-1)?.version, LATEST_SCHEMA_VERSION + 1);
  });
});

test("migrations - a file that cannot be opened gives STORE_OPEN_FAILED", () => {
  withDir((dir) => {
    const blocker = join(dir, "not-a-folder");
    writeFileSync(blocker, "x");
    try {
      MetadataStore.open(join(blocker, "metadata.sqlite"));
      assert.unreachable("opened a store below a plain file");
    } catch (e) {
      assert.instance(e, StoreError);
      assert.is((e as StoreError).code, "STORE_OPEN_FAILED");
    }
  });
});

test.run();
