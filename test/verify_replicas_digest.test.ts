// The account digest of verifyReplicas on real SQLite stores: two stores that applied the same
// content in a different order digest equal; local columns do not count; any replicated
// column does; and the first differing row is found from the row hashes alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MetadataStore } from "../src/store/index.js";
import { accountDigest, differingFields, firstDifferentRow, type RowHash } from "../src/store/account_digest.js";
import type { TxBatch, MailEvent } from "../src/mail/index.js";
import { tempDir } from "./helpers/processes.js";

const ACC = "6f1c8f0e-1d7a-4f63-9b0e-7c1f2a3b4c5d";

function batch(prev: number, events: MailEvent[]): TxBatch {
  return { v: 1, account: ACC, prev, epoch: 1, writer: "ms1.example.com", at: 1_780_000_000_000, events } as TxBatch;
}

function delivered(itemId: number, folderId: number, flags: string[], tags: string[]): MailEvent {
  return {
    t: "message.delivered",
    itemId,
    folderId,
    messageId: `<m${itemId}@example.org>`,
    from: "a@example.org",
    to: ["u@example.com"],
    cc: [],
    subject: `s${itemId}`,
    date: 1_780_000_000_000 + itemId,
    size: 100 + itemId,
    flags,
    tags,
    blob: "ab".repeat(32),
  } as MailEvent;
}

const created: MailEvent = { t: "account.created", id: ACC, name: "u@example.com", type: "account", mailHost: "ms1.example.com" } as MailEvent;

/** A store at `dir` holding the account after `entries` (seq, batch) were applied. */
function storeWith(dir: string, entries: Array<[number, TxBatch]>, padAccounts = 0): { store: MetadataStore; file: string } {
  const file = join(dir, "metadata.sqlite");
  const store = MetadataStore.open(file);
  // Other accounts first on one store only: this copy's mailbox_id differs (a local column).
  for (let i = 0; i < padAccounts; i++) {
    const other = `00000000-0000-4000-8000-00000000000${i}`;
    store.ensureReplicaState(other, "replica");
    store.applyBatch(other, 1, { ...batch(0, [{ ...created, id: other, name: `pad${i}@example.com` } as MailEvent]), account: other } as TxBatch);
  }
  store.ensureReplicaState(ACC, "replica");
  for (const [seq, b] of entries) store.applyBatch(ACC, seq, b);
  return { store, file };
}

const rowHashes = (store: MetadataStore): RowHash[] => accountDigest(store.dumpAccount(ACC)).rows.map((r) => [r.kind, r.id, r.hash]);

test("verify_replicas_digest - the same content digests equal whatever the insertion order and the local columns; a replicated column changes it", () => {
  // Store A: items 257 then 258 in one batch each; store B: both in one batch, in the other order.
  const a = storeWith(tempDir("mr-digest-a-"), [
    [1, batch(0, [created])],
    [5, batch(1, [delivered(257, 2, ["seen"], ["urgent"])])],
    [9, batch(5, [delivered(258, 2, [], [])])],
  ]);
  const b = storeWith(
    tempDir("mr-digest-b-"),
    [
      [1, batch(0, [created])],
      [9, batch(1, [delivered(258, 2, [], []), delivered(257, 2, ["seen"], ["urgent"])])],
    ],
    3,
  );
  try {
    assert.is.not(a.store.account(ACC)!.mailboxId, b.store.account(ACC)!.mailboxId, "mailbox_id differs between the copies");
    const da = accountDigest(a.store.dumpAccount(ACC));
    const db = accountDigest(b.store.dumpAccount(ACC));
    assert.is(da.digest, db.digest);
    assert.match(da.digest, /^[0-9a-f]{64}$/);
    assert.equal(
      da.rows.map((r) => `${r.kind}:${r.id}`),
      ["account:" + ACC, "folder:2", "folder:3", "folder:4", "folder:5", "folder:6", "item:257", "item:258", "tag:urgent"],
      "sorted by kind, then id",
    );
    assert.is(firstDifferentRow(rowHashes(a.store), rowHashes(b.store)), undefined);

    // One replicated column changed behind the store's back: the digest and that row's hash change.
    for (const [column, value] of [
      ["subject", "changed"],
      ["folder_id", 3],
      ["tags", '["x"]'],
      ["blob", "cd".repeat(32)],
    ] as const) {
      const raw = new Database(b.file);
      const before = raw.prepare(`SELECT ${column} AS v FROM items WHERE account_id = ? AND id = 258`).get(ACC) as { v: unknown };
      raw.prepare(`UPDATE items SET ${column} = ? WHERE account_id = ? AND id = 258`).run(value, ACC);
      const changed = accountDigest(b.store.dumpAccount(ACC));
      assert.is.not(changed.digest, da.digest, `${column} is part of the digest`);
      assert.equal(firstDifferentRow(rowHashes(a.store), rowHashes(b.store)), { kind: "item", id: 258 }, column);
      raw.prepare(`UPDATE items SET ${column} = ? WHERE account_id = ? AND id = 258`).run(before.v, ACC);
      raw.close();
    }
    assert.is(accountDigest(b.store.dumpAccount(ACC)).digest, da.digest, "restored");
  } finally {
    a.store.close();
    b.store.close();
  }
});

test("verify_replicas_digest - the first difference: a row missing on either side, the lowest differing key first", () => {
  const p: RowHash[] = [
    ["account", ACC, "a"],
    ["folder", 2, "f2"],
    ["folder", 257, "f257"],
    ["item", 258, "i258"],
    ["item", 1000, "i1000"],
    ["tag", "b", "tb"],
  ];
  assert.is(firstDifferentRow(p, p), undefined);
  assert.equal(
    firstDifferentRow(
      p,
      p.filter((r) => r[1] !== 257),
    ),
    { kind: "folder", id: 257 },
    "missing on the replica",
  );
  assert.equal(
    firstDifferentRow(
      p.filter((r) => r[1] !== 1000),
      p,
    ),
    { kind: "item", id: 1000 },
    "missing on the primary",
  );
  assert.equal(firstDifferentRow(p, [...p.slice(0, 3), ["item", 258, "x"], ["item", 1000, "y"], ["tag", "b", "tb"]]), { kind: "item", id: 258 });
  // Numeric ids compare as numbers (258 < 1000), tags by name.
  assert.equal(firstDifferentRow(p, [...p, ["tag", "c", "tc"]]), { kind: "tag", id: "c" });
  assert.equal(differingFields({ flags: ["seen"], subject: "x" }, { flags: [], subject: "x" }), { primary: { flags: ["seen"] }, replica: { flags: [] } });
});

test.run();
