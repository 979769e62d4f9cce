import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MailError, type MailEvent, type TxBatch } from "../src/mail/index.js";
import { MetadataStore, StoreError } from "../src/store/index.js";

const A = "a0000000-0000-4000-8000-00000000000a";
const B = "b0000000-0000-4000-8000-00000000000b";

function withStore(fn: (store: MetadataStore, file: string) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-store-reads-"));
    const file = join(dir, "metadata.sqlite");
    const store = MetadataStore.open(file, { now: () => 42 });
    try {
      fn(store, file);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function batch(account: string, events: MailEvent[]): TxBatch {
  return { v: 1, account, epoch: 1, writer: "ms1", at: 7, prev: 0, events };
}

function delivered(itemId: number, date: number, folderId = 2, flags: string[] = [], tags: string[] = []): MailEvent {
  return {
    t: "message.delivered",
    itemId,
    folderId,
    messageId: `<${itemId}@x>`,
    from: "f@x",
    to: ["t@x"],
    cc: ["c@x"],
    subject: `s${itemId}`,
    date,
    size: itemId,
    flags,
    tags,
    blob: "ef".repeat(32),
  };
}

/** Account A with folder Work (257) and items 258..262 (dates chosen to test the order). */
function seed(store: MetadataStore): void {
  store.ensureReplicaState(A, "primary");
  store.applyBatch(
    A,
    1,
    batch(A, [
      { t: "account.created", id: A, name: "alice@example.com", type: "account", mailHost: "ms1" },
      { t: "folder.created", folderId: 257, path: "Work" },
      delivered(258, 1_000),
      delivered(259, 3_000, 2, ["seen"], ["todo"]),
      delivered(260, 3_000, 257),
      delivered(261, 2_000),
      delivered(262, 5_000, 257, ["flagged"]),
    ]),
  );
}

function mailError(fn: () => unknown): MailError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MailError) return e;
    throw e;
  }
  throw new Error("expected a MailError");
}

test(
  "listItems - newest first (date, then id), with total, folder filter and paging",
  withStore((store) => {
    seed(store);
    const all = store.listItems(A);
    assert.equal(
      all.items.map((i) => i.id),
      [262, 260, 259, 261, 258],
    );
    assert.is(all.total, 5);
    assert.equal(all.items[2], {
      id: 259,
      folder: "Inbox",
      from: "f@x",
      to: ["t@x"],
      cc: ["c@x"],
      subject: "s259",
      date: 3_000,
      size: 259,
      flags: ["seen", "todo"],
      tags: ["todo"],
    });
    const page = store.listItems(A, { limit: 2, offset: 1 });
    assert.equal([page.items.map((i) => i.id), page.total], [[260, 259], 5]);
    const work = store.listItems(A, { folder: "work" });
    assert.equal(
      [work.items.map((i) => [i.id, i.folder]), work.total],
      [
        [
          [262, "Work"],
          [260, "Work"],
        ],
        2,
      ],
    );
    assert.equal(store.listItems(A, { folder: "Work", offset: 10 }), { items: [], total: 2 });
  }),
);

test(
  "listItems - refuses bad paging, an unknown folder and an unknown account",
  withStore((store) => {
    seed(store);
    for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { offset: -1 }]) {
      assert.is(mailError(() => store.listItems(A, bad)).code, "INVALID_PAGING", JSON.stringify(bad));
    }
    assert.is(store.listItems(A, { limit: 1000 }).items.length, 5);
    assert.is(mailError(() => store.listItems(A, { folder: "Nope" })).code, "FOLDER_NOT_FOUND");
    assert.is(mailError(() => store.listItems(A, { folder: "a//b" })).code, "INVALID_FOLDER_PATH");
    assert.is(mailError(() => store.listItems(B)).code, "ACCOUNT_NOT_FOUND");
  }),
);

test(
  "listItems - the default page is 50",
  withStore((store) => {
    seed(store);
    store.applyBatch(
      A,
      2,
      batch(
        A,
        Array.from({ length: 60 }, (_, i) => delivered(300 + i, 10_000 + i)),
      ),
    );
    const r = store.listItems(A);
    assert.equal([r.items.length, r.total, r.items[0]?.id], [50, 65, 359]);
  }),
);

test(
  "getItem - metadata with blob; ITEM_NOT_FOUND or ACCOUNT_NOT_FOUND otherwise",
  withStore((store) => {
    seed(store);
    const item = store.getItem(A, 262);
    assert.equal([item.folder, item.folderId, item.messageId, item.blob, item.flags], ["Work", 257, "<262@x>", "ef".repeat(32), ["flagged"]]);
    const e = mailError(() => store.getItem(A, 999));
    assert.is(e.code, "ITEM_NOT_FOUND");
    assert.equal(e.details?.["ids"], [999]);
    assert.is(mailError(() => store.getItem(B, 258)).code, "ACCOUNT_NOT_FOUND");
  }),
);

test(
  "listFolders - by id, with parents and the items directly inside",
  withStore((store) => {
    seed(store);
    assert.equal(store.listFolders(A), [
      { id: 2, path: "Inbox", parentId: null, itemCount: 3 },
      { id: 3, path: "Trash", parentId: null, itemCount: 0 },
      { id: 4, path: "Junk", parentId: null, itemCount: 0 },
      { id: 5, path: "Sent", parentId: null, itemCount: 0 },
      { id: 6, path: "Drafts", parentId: null, itemCount: 0 },
      { id: 257, path: "Work", parentId: null, itemCount: 2 },
    ]);
    assert.is(mailError(() => store.listFolders(B)).code, "ACCOUNT_NOT_FOUND");
  }),
);

test(
  "accounts - by id and by name (ignoring case), each with its own local mailbox id",
  withStore((store) => {
    seed(store);
    store.ensureReplicaState(B, "replica");
    store.applyBatch(B, 9, batch(B, [{ t: "account.created", id: B, name: "bob@example.com", type: "account", mailHost: "ms2" }]));
    assert.equal(store.account(A), { id: A, name: "alice@example.com", type: "account", mailHost: "ms1", mailboxId: 1, lastItemId: 262, createdAt: 7 });
    assert.is(store.accountByName("BOB@example.com")?.id, B);
    assert.is(store.accountByName("BOB@example.com")?.mailboxId, 2);
    assert.is(store.account("nobody"), undefined);
    assert.is(store.accountByName("nobody@example.com"), undefined);
  }),
);

test(
  "accountSummary - replica state with the account's counters; null account fields before its creation applies",
  withStore((store) => {
    seed(store);
    assert.equal(store.accountSummary(A), {
      accountId: A,
      name: "alice@example.com",
      mailboxId: 1,
      lastItemId: 262,
      appliedSeq: 1,
      epoch: 1,
      role: "primary",
      status: "available",
      error: null,
      appliedAt: 42,
    });
    store.ensureReplicaState(B, "replica");
    assert.equal(store.accountSummary(B), {
      accountId: B,
      name: null,
      mailboxId: null,
      lastItemId: null,
      appliedSeq: 0,
      epoch: 0,
      role: "replica",
      status: "available",
      error: null,
      appliedAt: null,
    });
    assert.is(store.accountSummary("nobody"), undefined);
  }),
);

test(
  "replica state - ensure is idempotent; status, error and role change; unknown accounts and bad values are refused",
  withStore((store) => {
    const first = store.ensureReplicaState(B, "replica");
    assert.equal(first, {
      accountId: B,
      role: "replica",
      epoch: 0,
      appliedSeq: 0,
      appliedAt: null,
      status: "available",
      error: null,
      generation: 0,
      primaryHost: null,
    });
    assert.equal(store.ensureReplicaState(B, "primary"), first, "an existing row is left as it is");
    assert.equal(store.setReplicaStatus(B, "unavailable", "signature check failed").error, "signature check failed");
    assert.equal([store.setReplicaStatus(B, "paused").status, store.replicaState(B)?.error], ["paused", null]);
    assert.is(store.setRole(B, "primary").role, "primary");
    store.ensureReplicaState(A, "replica");
    assert.equal(
      store.listReplicaStates().map((s) => s.accountId),
      [A, B],
    );
    for (const fn of [() => store.setReplicaStatus("nobody", "paused"), () => store.setRole("nobody", "replica")]) {
      try {
        fn();
        assert.unreachable("changed a replica state that does not exist");
      } catch (e) {
        assert.is((e as StoreError).code, "REPLICA_STATE_NOT_FOUND");
      }
    }
    for (const fn of [
      () => store.setReplicaStatus(B, "broken" as "paused"),
      () => store.setRole(B, "boss" as "primary"),
      () => store.ensureReplicaState(B, "x" as "primary"),
    ]) {
      try {
        fn();
        assert.unreachable("accepted a bad value");
      } catch (e) {
        assert.is((e as StoreError).code, "INVALID_ARGUMENT");
      }
    }
  }),
);

test(
  "dropAccount - removes every row of that account and nothing of another",
  withStore((store) => {
    seed(store);
    store.ensureReplicaState(B, "replica");
    store.applyBatch(
      B,
      2,
      batch(B, [{ t: "account.created", id: B, name: "bob@example.com", type: "account", mailHost: "ms2" }, delivered(257, 1, 2, [], ["x"])]),
    );
    const bob = store.dumpAccount(B);
    store.dropAccount(A);
    assert.equal(store.dumpAccount(A), { account: null, folders: [], items: [], tags: [] });
    assert.is(store.replicaState(A), undefined);
    assert.equal(store.dumpAccount(B), bob);
    // The account can be replicated again from the start.
    seed(store);
    assert.is(store.listItems(A).total, 5);
  }),
);

test(
  "store - committed data survives close and reopen",
  withStore((store, file) => {
    seed(store);
    const dump = store.dumpAccount(A);
    store.close();
    const again = MetadataStore.open(file);
    try {
      assert.equal(again.dumpAccount(A), dump);
      assert.is(again.replicaState(A)?.appliedSeq, 1);
    } finally {
      again.close();
    }
    // withStore closes `store` once more; close is idempotent.
  }),
);

test.run();
