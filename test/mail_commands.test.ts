import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MailError, type MailCommand, type MailEvent, type MailErrorCode, type ResultOf } from "../src/mail/index.js";
import { MetadataStore, type PlanOutcome } from "../src/store/index.js";

const ACC = "6f1c2a9e-4b7d-4c1e-9a53-0d2e8f7b1a01";

/** A store in a temp folder with one account's log applied through plan → applyBatch. */
class Mailbox {
  seq = 0;
  constructor(
    readonly store: MetadataStore,
    readonly account = ACC,
  ) {
    store.ensureReplicaState(account, "primary");
  }

  /** Plans the commands as one group commit and applies the batch of the ok ones. */
  run(...commands: MailCommand[]): PlanOutcome[] {
    const outcomes = this.store.plan(this.account, commands);
    const events: MailEvent[] = outcomes.flatMap((o) => (o.ok ? o.events : []));
    if (events.length > 0) {
      const prev = this.seq;
      this.seq += 1;
      const r = this.store.applyBatch(this.account, this.seq, { v: 1, account: this.account, epoch: 1, writer: "ms1", at: 1_000 + this.seq, prev, events });
      assert.is(r.status, "applied");
    }
    return outcomes;
  }

  ok<C extends MailCommand>(command: C): ResultOf<C> {
    const [o] = this.run(command);
    if (!o?.ok) throw new Error(`${command.op} refused: ${o?.error.code} ${o?.error.message}`);
    return o.result as ResultOf<C>;
  }

  refused(command: MailCommand, code: MailErrorCode): MailError {
    const before = this.store.dumpAccount(this.account);
    const [o] = this.run(command);
    if (o === undefined || o.ok) throw new Error(`${command.op} was accepted, expected ${code}`);
    assert.is(o.error.code, code, o.error.message);
    assert.equal(this.store.dumpAccount(this.account), before, "a refused command changed nothing");
    return o.error;
  }

  create(): void {
    this.ok({ op: "createAccount", id: this.account, name: "john.doe@example.com", mailHost: "ms1.example.com" });
  }

  deliver(folder = "Inbox", flags: string[] = [], date = 1_700_000_000_000): number {
    return this.ok({ op: "deliverMessage", folder, flags, message: msg(date) }).itemId;
  }
}

function msg(date: number, subject = "hello") {
  return { messageId: `<${date}@example.com>`, from: "a@example.com", to: ["john.doe@example.com"], cc: [], subject, date, size: 123, blob: "ab".repeat(32) };
}

function withMailbox(fn: (m: Mailbox) => void, create = true): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-mail-commands-"));
    const store = MetadataStore.open(join(dir, "metadata.sqlite"));
    try {
      const m = new Mailbox(store);
      if (create) m.create();
      fn(m);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "createAccount - creates the account with the system folders at fixed ids and the counter at 256",
  withMailbox((m) => {
    const a = m.store.account(ACC);
    assert.is(a?.name, "john.doe@example.com");
    assert.is(a?.mailHost, "ms1.example.com");
    assert.is(a?.lastItemId, 256);
    assert.is(a?.createdAt, 1_001, "created_at is the batch's writer time");
    assert.equal(
      m.store.listFolders(ACC).map((f) => [f.id, f.path, f.parentId]),
      [
        [2, "Inbox", null],
        [3, "Trash", null],
        [4, "Junk", null],
        [5, "Sent", null],
        [6, "Drafts", null],
      ],
    );
  }),
);

test(
  "createAccount - refuses an existing account, a name in use and an id of another log",
  withMailbox((m) => {
    m.refused({ op: "createAccount", id: ACC, name: "other@example.com", mailHost: "ms1" }, "ACCOUNT_EXISTS");
    const other = new Mailbox(m.store, "0a2b9c3d-0000-4000-8000-000000000002");
    const e = other.refused({ op: "createAccount", id: other.account, name: "John.Doe@Example.com", mailHost: "ms1" }, "ACCOUNT_EXISTS");
    assert.is(e.details?.["id"], ACC);
    other.refused({ op: "createAccount", id: ACC, name: "x@example.com", mailHost: "ms1" }, "ACCOUNT_MISMATCH");
  }),
);

test(
  "commands - every command on an account without state is ACCOUNT_NOT_FOUND",
  withMailbox((m) => {
    for (const c of [
      { op: "createFolder", path: "A" },
      { op: "deliverMessage", folder: "Inbox", flags: [], message: msg(1) },
      { op: "setFlags", ids: [300], flags: [] },
    ] satisfies MailCommand[]) {
      m.refused(c, "ACCOUNT_NOT_FOUND");
    }
  }, false),
);

test(
  "ids - folders and items share one counter from 257 that never reuses an id",
  withMailbox((m) => {
    assert.is(m.ok({ op: "createFolder", path: "A" }).id, 257);
    assert.is(m.deliver("A"), 258);
    m.ok({ op: "deleteItems", ids: [258] });
    assert.is(m.deliver(), 259);
    m.ok({ op: "deleteFolder", path: "A" });
    assert.is(m.ok({ op: "createFolder", path: "A" }).id, 260);
    assert.is(m.store.account(ACC)?.lastItemId, 260);
  }),
);

test(
  "createFolder - nests under an existing parent, spelled as the parent is",
  withMailbox((m) => {
    assert.equal(m.ok({ op: "createFolder", path: "/Archive" }), { id: 257, path: "Archive" });
    assert.equal(m.ok({ op: "createFolder", path: "archive/2026" }), { id: 258, path: "Archive/2026" });
    assert.equal(m.ok({ op: "createFolder", path: "inbox/Receipts" }), { id: 259, path: "Inbox/Receipts" });
    const f = m.store.listFolders(ACC).find((x) => x.id === 258);
    assert.equal(f, { id: 258, path: "Archive/2026", parentId: 257, itemCount: 0 });
  }),
);

test(
  "createFolder - refuses a missing parent, an existing path (any case) and a bad path",
  withMailbox((m) => {
    const e = m.refused({ op: "createFolder", path: "Projects/Alpha" }, "FOLDER_NOT_FOUND");
    assert.ok(e.message.includes("'Projects'") && e.message.includes("first"), e.message);
    m.refused({ op: "createFolder", path: "inbox" }, "FOLDER_EXISTS");
    m.ok({ op: "createFolder", path: "Straße" });
    m.refused({ op: "createFolder", path: "STRASSE" }, "FOLDER_EXISTS");
    m.refused({ op: "createFolder", path: "a//b" }, "INVALID_FOLDER_PATH");
  }),
);

test(
  "renameFolder - moves the subtree with its items, and allows a change of case",
  withMailbox((m) => {
    m.ok({ op: "createFolder", path: "A" });
    m.ok({ op: "createFolder", path: "A/B" });
    m.ok({ op: "createFolder", path: "A/B/C" });
    m.ok({ op: "createFolder", path: "Z" });
    const item = m.deliver("A/B/C");
    assert.equal(m.ok({ op: "renameFolder", path: "a", newPath: "z/New" }), { id: 257, path: "Z/New" });
    const paths = m.store
      .listFolders(ACC)
      .filter((f) => f.id >= 257)
      .map((f) => [f.id, f.path, f.parentId]);
    assert.equal(paths, [
      [257, "Z/New", 260],
      [258, "Z/New/B", 257],
      [259, "Z/New/B/C", 258],
      [260, "Z", null],
    ]);
    assert.is(m.store.getItem(ACC, item).folder, "Z/New/B/C");
    assert.equal(m.ok({ op: "renameFolder", path: "Z/new/b", newPath: "Z/New/BEE" }), { id: 258, path: "Z/New/BEE" });
    assert.equal(m.ok({ op: "renameFolder", path: "Z/New/BEE", newPath: "Z/New/bee" }), { id: 258, path: "Z/New/bee" });
    assert.is(m.store.getItem(ACC, item).folder, "Z/New/bee/C");
    m.ok({ op: "createFolder", path: "Z/New/bee/C/D" });
  }),
);

test(
  "renameFolder - refuses system folders, a move under itself, an existing target and a missing parent or source",
  withMailbox((m) => {
    m.ok({ op: "createFolder", path: "A" });
    m.ok({ op: "createFolder", path: "A/B" });
    m.ok({ op: "createFolder", path: "C" });
    m.refused({ op: "renameFolder", path: "Inbox", newPath: "Mail" }, "FOLDER_SYSTEM");
    m.refused({ op: "renameFolder", path: "A", newPath: "A/B/A" }, "FOLDER_INVALID_MOVE");
    m.refused({ op: "renameFolder", path: "A", newPath: "a/X" }, "FOLDER_INVALID_MOVE");
    m.refused({ op: "renameFolder", path: "A", newPath: "c" }, "FOLDER_EXISTS");
    m.refused({ op: "renameFolder", path: "A", newPath: "Nope/A" }, "FOLDER_NOT_FOUND");
    m.refused({ op: "renameFolder", path: "Q", newPath: "R" }, "FOLDER_NOT_FOUND");
    m.refused({ op: "renameFolder", path: "A", newPath: "" }, "INVALID_FOLDER_PATH");
  }),
);

test(
  "deleteFolder - deletes the subtree and its items and says how many",
  withMailbox((m) => {
    m.ok({ op: "createFolder", path: "A" });
    m.ok({ op: "createFolder", path: "A/B" });
    m.ok({ op: "createFolder", path: "AB" }); // a sibling whose name starts alike stays
    const inA = m.deliver("A");
    m.deliver("A/B");
    m.deliver("A/B");
    const kept = m.deliver("AB");
    assert.equal(m.ok({ op: "deleteFolder", path: "a" }), { id: 257, path: "A", deletedFolders: 2, deletedItems: 3 });
    assert.equal(
      m.store
        .listFolders(ACC)
        .filter((f) => f.id >= 257)
        .map((f) => f.path),
      ["AB"],
    );
    assert.is(m.store.getItem(ACC, kept).folder, "AB");
    try {
      m.store.getItem(ACC, inA);
      assert.unreachable("item of a deleted folder still there");
    } catch (e) {
      assert.is((e as MailError).code, "ITEM_NOT_FOUND");
    }
    m.refused({ op: "deleteFolder", path: "Trash" }, "FOLDER_SYSTEM");
    m.refused({ op: "deleteFolder", path: "A" }, "FOLDER_NOT_FOUND");
  }),
);

test(
  "deliverMessage - stores the metadata, splits flags from keywords and records the keywords",
  withMailbox((m) => {
    const r = m.ok({ op: "deliverMessage", folder: "inbox", flags: ["Seen", "Work"], message: msg(5, "subj") });
    assert.equal(r, { itemId: 257, folder: "Inbox", size: 123, blob: "ab".repeat(32) });
    const item = m.store.getItem(ACC, 257);
    assert.equal(item, {
      id: 257,
      folder: "Inbox",
      from: "a@example.com",
      to: ["john.doe@example.com"],
      cc: [],
      subject: "subj",
      date: 5,
      size: 123,
      flags: ["seen", "work"],
      tags: ["work"],
      folderId: 2,
      messageId: "<5@example.com>",
      blob: "ab".repeat(32),
    });
    assert.equal(m.store.dumpAccount(ACC).tags, ["work"]);
    m.refused({ op: "deliverMessage", folder: "Nowhere", flags: [], message: msg(6) }, "FOLDER_NOT_FOUND");
    m.refused({ op: "deliverMessage", folder: "Inbox", flags: ["no spaces"], message: msg(6) }, "INVALID_FLAG");
  }),
);

test(
  "setFlags, moveItems, deleteItems - change the items and answer their ids without duplicates",
  withMailbox((m) => {
    const a = m.deliver();
    const b = m.deliver();
    m.ok({ op: "createFolder", path: "Done" });
    assert.equal(m.ok({ op: "setFlags", ids: [a, b, a], flags: ["flagged", "Later"] }), { ids: [a, b] });
    assert.equal(m.store.getItem(ACC, b).flags, ["flagged", "later"]);
    assert.equal(m.ok({ op: "setFlags", ids: [b], flags: [] }), { ids: [b] });
    assert.equal(m.store.getItem(ACC, b).flags, []);
    assert.equal(m.store.dumpAccount(ACC).tags, ["later"], "tags stay known after their last use");
    assert.equal(m.ok({ op: "moveItems", ids: [b], folder: "done" }), { ids: [b] });
    assert.is(m.store.getItem(ACC, b).folder, "Done");
    assert.equal(m.ok({ op: "deleteItems", ids: [a] }), { ids: [a] });
    assert.equal(
      m.store.listItems(ACC).items.map((i) => i.id),
      [b],
    );
    assert.equal(m.ok({ op: "deleteItems", ids: [] }), { ids: [] });
  }),
);

test(
  "setFlags, moveItems, deleteItems - unknown ids are ITEM_NOT_FOUND listing up to 10, and nothing changes",
  withMailbox((m) => {
    const a = m.deliver();
    const missing = Array.from({ length: 12 }, (_, i) => 900 + i);
    const e = m.refused({ op: "deleteItems", ids: [a, ...missing] }, "ITEM_NOT_FOUND");
    assert.equal(e.details?.["ids"], missing.slice(0, 10));
    assert.is(e.details?.["missing"], 12);
    assert.ok(e.message.includes("and 2 more"), e.message);
    m.refused({ op: "setFlags", ids: [a, 999], flags: ["seen"] }, "ITEM_NOT_FOUND");
    m.refused({ op: "moveItems", ids: [999, a], folder: "Trash" }, "ITEM_NOT_FOUND");
    m.refused({ op: "moveItems", ids: [a], folder: "Nowhere" }, "FOLDER_NOT_FOUND");
    m.refused({ op: "setFlags", ids: [a], flags: ["bad flag"] }, "INVALID_FLAG");
    // A folder id is not an item id.
    m.refused({ op: "deleteItems", ids: [2] }, "ITEM_NOT_FOUND");
  }),
);

test(
  "plan - never changes the database, also when some commands fail",
  withMailbox((m) => {
    m.ok({ op: "createFolder", path: "A" });
    const a = m.deliver("A");
    const before = m.store.dumpAccount(ACC);
    const state = m.store.replicaState(ACC);
    const outcomes = m.store.plan(ACC, [
      { op: "createFolder", path: "B" },
      { op: "deliverMessage", folder: "B", flags: ["seen"], message: msg(9) },
      { op: "deleteItems", ids: [12345] },
      { op: "moveItems", ids: [a], folder: "B" },
      { op: "renameFolder", path: "Inbox", newPath: "X" },
      { op: "deleteFolder", path: "A" },
      { op: "createAccount", id: ACC, name: "n@example.com", mailHost: "h" },
    ]);
    assert.equal(
      outcomes.map((o) => (o.ok ? "ok" : o.error.code)),
      ["ok", "ok", "ITEM_NOT_FOUND", "ok", "FOLDER_SYSTEM", "ok", "ACCOUNT_EXISTS"],
    );
    assert.equal(m.store.dumpAccount(ACC), before);
    assert.equal(m.store.replicaState(ACC), state);
    // The store is usable afterwards: no transaction was left open.
    assert.is(m.deliver("A") > a, true);
  }),
);

test(
  "plan - later commands see the effects of earlier ones, and a refused one leaves no trace",
  withMailbox((m) => {
    const outcomes = m.run(
      { op: "createFolder", path: "Projects/Alpha" }, // refused: no parent yet
      { op: "createFolder", path: "Projects" },
      { op: "createFolder", path: "Projects/Alpha" },
      { op: "deliverMessage", folder: "projects/alpha", flags: [], message: msg(1) },
      { op: "setFlags", ids: [259], flags: ["seen"] },
      { op: "moveItems", ids: [259], folder: "Projects" },
      { op: "deliverMessage", folder: "Projects/Alpha", flags: [], message: msg(2) },
      { op: "deleteFolder", path: "Projects" },
      { op: "deliverMessage", folder: "Projects", flags: [], message: msg(3) }, // refused: deleted above
    );
    const results = outcomes.map((o) => (o.ok ? o.result : o.error.code));
    assert.equal(results, [
      "FOLDER_NOT_FOUND",
      { id: 257, path: "Projects" },
      { id: 258, path: "Projects/Alpha" },
      { itemId: 259, folder: "Projects/Alpha", size: 123, blob: "ab".repeat(32) },
      { ids: [259] },
      { ids: [259] },
      { itemId: 260, folder: "Projects/Alpha", size: 123, blob: "ab".repeat(32) },
      { id: 257, path: "Projects", deletedFolders: 2, deletedItems: 2 },
      "FOLDER_NOT_FOUND",
    ]);
    // The batch of ok events applied cleanly (Mailbox.run asserts it) and gives what plan saw.
    assert.equal(
      m.store.listFolders(ACC).map((f) => f.id),
      [2, 3, 4, 5, 6],
    );
    assert.is(m.store.account(ACC)?.lastItemId, 260);
    assert.is(m.store.listItems(ACC).total, 0);
  }),
);

test(
  "plan - an unknown op is refused with UNKNOWN_COMMAND",
  withMailbox((m) => {
    m.refused({ op: "explode" } as unknown as MailCommand, "UNKNOWN_COMMAND");
  }),
);

test.run();
