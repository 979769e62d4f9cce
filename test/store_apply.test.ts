import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailEvent, TxBatch } from "../src/mail/index.js";
import { MetadataStore, StoreError } from "../src/store/index.js";

const ACC = "3d1f7a52-8c4e-4f0a-b6d2-7e9a1c5b3f01";

function withStore(fn: (store: MetadataStore, clock: { t: number }) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-store-apply-"));
    const clock = { t: 5_000 };
    const store = MetadataStore.open(join(dir, "metadata.sqlite"), { now: () => clock.t });
    try {
      store.ensureReplicaState(ACC, "replica");
      fn(store, clock);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function batch(events: MailEvent[], epoch = 1, extra: Partial<TxBatch> = {}): TxBatch {
  return { v: 1, account: ACC, epoch, writer: "ms1.example.com", at: 100, prev: 0, events, ...extra };
}

const created: MailEvent = { t: "account.created", id: ACC, name: "jane@example.com", type: "account", mailHost: "ms1.example.com" };

function delivered(itemId: number, folderId = 2): MailEvent {
  return {
    t: "message.delivered",
    itemId,
    folderId,
    messageId: `<${itemId}@x>`,
    from: "a@x",
    to: ["jane@example.com"],
    cc: [],
    subject: `m${itemId}`,
    date: itemId,
    size: 10,
    flags: [],
    tags: ["k"],
    blob: "cd".repeat(32),
  };
}

function applyFailed(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError) {
      assert.is(e.code, "APPLY_FAILED", e.message);
      return e;
    }
    throw e;
  }
  throw new Error("expected APPLY_FAILED, the batch applied");
}

test(
  "applyBatch - applies a batch and stores its seq, time and epoch in the same step",
  withStore((store) => {
    const r = store.applyBatch(ACC, 7, batch([created, delivered(257)]));
    assert.equal(r, { status: "applied", seq: 7, epoch: 1, events: 2 });
    const s = store.replicaState(ACC);
    assert.equal([s?.appliedSeq, s?.appliedAt, s?.epoch], [7, 5_000, 1]);
    assert.is(store.account(ACC)?.lastItemId, 257);
  }),
);

test(
  "applyBatch - the same seq twice is a duplicate and changes nothing; older seqs too",
  withStore((store, clock) => {
    store.applyBatch(ACC, 3, batch([created, delivered(257)]));
    const dump = store.dumpAccount(ACC);
    const state = store.replicaState(ACC);
    clock.t = 9_999;
    assert.equal(store.applyBatch(ACC, 3, batch([created, delivered(257)])), { status: "duplicate", seq: 3, appliedSeq: 3 });
    // Even a different (or broken) batch at an applied seq is just a redelivery.
    assert.equal(store.applyBatch(ACC, 2, batch([delivered(999, 12345)])), { status: "duplicate", seq: 2, appliedSeq: 3 });
    assert.equal(store.dumpAccount(ACC), dump);
    assert.equal(store.replicaState(ACC), state);
  }),
);

test(
  "applyBatch - seq gaps are normal (stream-wide sequences)",
  withStore((store) => {
    store.applyBatch(ACC, 2, batch([created]));
    assert.is(store.applyBatch(ACC, 10, batch([delivered(257)])).status, "applied");
    assert.is(store.applyBatch(ACC, 11, batch([delivered(258)])).status, "applied");
    assert.is(store.applyBatch(ACC, 500, batch([delivered(259)])).status, "applied");
    assert.is(store.replicaState(ACC)?.appliedSeq, 500);
    assert.is(store.listItems(ACC).total, 3);
  }),
);

test(
  "applyBatch - a batch that cannot apply leaves nothing applied and applied seq unchanged",
  withStore((store) => {
    store.applyBatch(ACC, 1, batch([created, delivered(257)]));
    const dump = store.dumpAccount(ACC);
    const state = store.replicaState(ACC);
    const bad = batch([delivered(258), { t: "folder.created", folderId: 259, path: "X" }, { t: "items.moved", ids: [257, 404], folderId: 259 }]);
    const e = applyFailed(() => store.applyBatch(ACC, 2, bad));
    assert.is(e.details?.["seq"], 2);
    assert.is(e.details?.["event"], "items.moved");
    assert.is(e.details?.["index"], 2);
    assert.ok(e.message.includes("item 404 does not exist"), e.message);
    assert.equal(store.dumpAccount(ACC), dump);
    assert.equal(store.replicaState(ACC), state);
    // The same seq with a good batch still applies: nothing of the failed one was kept.
    assert.is(store.applyBatch(ACC, 2, batch([delivered(258)])).status, "applied");
  }),
);

test(
  "applyBatch - events that do not fit the state are APPLY_FAILED",
  withStore((store) => {
    applyFailed(() => store.applyBatch(ACC, 1, batch([delivered(257)]))); // no account yet
    applyFailed(() => store.applyBatch(ACC, 1, batch([{ ...created, id: "someone-else" }])));
    store.applyBatch(ACC, 1, batch([created]));
    applyFailed(() => store.applyBatch(ACC, 2, batch([created])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([delivered(257, 77)])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "folder.created", folderId: 300, path: "No/Parent" }])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "folder.created", folderId: 300, path: "INBOX" }])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "folder.renamed", folderId: 300, path: "Y" }])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "folder.deleted", folderId: 300 }])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "items.deleted", ids: [257] }])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "flags.set", ids: [257], flags: [], tags: [] }])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([delivered(257), delivered(257)])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "mystery" } as unknown as MailEvent])));
    applyFailed(() => store.applyBatch(ACC, 2, batch([], 1, { account: "another-account" })));
    applyFailed(() => store.applyBatch(ACC, 2, batch([], 1, { v: 2 as 1 })));
    assert.is(store.replicaState(ACC)?.appliedSeq, 1);
    assert.is(store.listItems(ACC).total, 0);
  }),
);

test(
  "applyBatch - a batch whose prev was never applied is refused (missing entries), one that follows is not",
  withStore((store) => {
    store.applyBatch(ACC, 4, batch([created], 1, { prev: 0 }));
    const e = applyFailed(() => store.applyBatch(ACC, 9, batch([delivered(257)], 1, { prev: 6 })));
    assert.is(e.details?.["appliedSeq"], 4);
    assert.is(store.applyBatch(ACC, 9, batch([delivered(257)], 1, { prev: 4 })).status, "applied");
  }),
);

test(
  "applyBatch - after promoted, a batch of an older epoch is not applied but the seq advances",
  withStore((store) => {
    store.applyBatch(ACC, 1, batch([created, delivered(257)], 1));
    assert.is(store.replicaState(ACC)?.epoch, 1, "the first batch gives the account its epoch");
    const r = store.applyBatch(ACC, 2, batch([{ t: "promoted", epoch: 2, host: "ms2.example.com", from: "ms1.example.com" }], 1));
    assert.equal(r, { status: "applied", seq: 2, epoch: 2, events: 1 });
    assert.is(store.account(ACC)?.mailHost, "ms2.example.com");
    const before = store.dumpAccount(ACC);
    assert.equal(store.applyBatch(ACC, 3, batch([delivered(258)], 1)), { status: "stale-epoch", seq: 3, epoch: 1, current: 2 });
    assert.equal(store.dumpAccount(ACC), before);
    assert.is(store.replicaState(ACC)?.appliedSeq, 3);
    assert.is(store.applyBatch(ACC, 4, batch([delivered(258)], 2)).status, "applied");
    assert.is(store.replicaState(ACC)?.epoch, 2);
  }),
);

test(
  "applyBatch - a promotion to an older epoch than the account's is APPLY_FAILED",
  withStore((store) => {
    store.applyBatch(ACC, 1, batch([created], 3));
    applyFailed(() => store.applyBatch(ACC, 2, batch([{ t: "promoted", epoch: 2, host: "ms2" }], 3)));
    assert.is(store.replicaState(ACC)?.epoch, 3);
  }),
);

test(
  "applyPromotions - many Promoted entries applied, each copy made primary, in one call; one that fails is rolled back alone",
  withStore((store) => {
    const ACC2 = "3d1f7a52-8c4e-4f0a-b6d2-7e9a1c5b3f02";
    const ACC3 = "3d1f7a52-8c4e-4f0a-b6d2-7e9a1c5b3f03";
    const promoted = (account: string, prev: number, events: MailEvent[] = []): TxBatch => ({
      ...batch([{ t: "promoted", epoch: 2, host: "ms2.example.com", from: "ms1.example.com" }, ...events], 2, { prev, writer: "ms2.example.com" }),
      account,
    });
    for (const a of [ACC2, ACC3]) {
      store.ensureReplicaState(a, "replica");
      store.applyBatch(a, 1, { ...batch([{ ...created, id: a, name: `${a}@example.com` }], 1), account: a });
    }
    store.applyBatch(ACC, 1, batch([created], 1));
    const ACC3_BEFORE = store.replicaState(ACC3);
    const out = store.applyPromotions([
      { accountId: ACC, seq: 2, batch: promoted(ACC, 1) },
      // Its Promoted applies, then a delivery into a folder it does not have fails: both undone.
      { accountId: ACC3, seq: 3, batch: promoted(ACC3, 1, [delivered(257, 999)]) },
      { accountId: "not-hosted", seq: 4, batch: promoted("not-hosted", 0) },
      { accountId: ACC2, seq: 5, batch: promoted(ACC2, 1) },
    ]);
    assert.equal(out[0], { status: "applied", seq: 2, epoch: 2, events: 1 });
    assert.equal(out[3], { status: "applied", seq: 5, epoch: 2, events: 1 });
    assert.instance(out[1], Error);
    assert.is((out[2] as StoreError).code, "REPLICA_STATE_NOT_FOUND");
    for (const [a, seq] of [
      [ACC, 2],
      [ACC2, 5],
    ] as const) {
      const rs = store.replicaState(a)!;
      assert.equal([rs.role, rs.epoch, rs.appliedSeq, rs.primaryHost], ["primary", 2, seq, "ms2.example.com"], a);
    }
    assert.equal(store.replicaState(ACC3), ACC3_BEFORE, "the failed one is as it was");
    assert.is(store.account(ACC3)?.mailHost, "ms1.example.com");
  }),
);

test(
  "applyBatch - needs the account's replica state, and a real seq",
  withStore((store) => {
    try {
      store.applyBatch("not-hosted", 1, { ...batch([]), account: "not-hosted" });
      assert.unreachable("applied without replica state");
    } catch (e) {
      assert.is((e as StoreError).code, "REPLICA_STATE_NOT_FOUND");
    }
    for (const seq of [0, -1, 1.5, Number.NaN]) {
      try {
        store.applyBatch(ACC, seq, batch([created]));
        assert.unreachable(`applied at seq ${seq}`);
      } catch (e) {
        assert.is((e as StoreError).code, "INVALID_ARGUMENT");
      }
    }
  }),
);

test(
  "applyBatch - folder events keep paths, parents and the key index consistent",
  withStore((store) => {
    store.applyBatch(
      ACC,
      1,
      batch([
        created,
        { t: "folder.created", folderId: 257, path: "A" },
        { t: "folder.created", folderId: 258, path: "a/B" }, // spelled with the parent's own path
        { t: "folder.renamed", folderId: 257, path: "inbox/A2" },
      ]),
    );
    assert.equal(
      store
        .listFolders(ACC)
        .filter((f) => f.id >= 257)
        .map((f) => [f.id, f.path, f.parentId]),
      [
        [257, "Inbox/A2", 2],
        [258, "Inbox/A2/B", 257],
      ],
    );
    store.applyBatch(ACC, 2, batch([{ t: "folder.created", folderId: 259, path: "INBOX/a2/b/C" }]));
    assert.is(store.listFolders(ACC).find((f) => f.id === 259)?.path, "Inbox/A2/B/C");
  }),
);

test.run();
