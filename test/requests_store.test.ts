// The store side of requestId: plan answers a recorded requestId with its first outcome and no
// events, refuses it with other parameters, writes it once inside one batch; applying records
// it in the same transaction as the effects (replicas alike) and prunes it past the window.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailCommand, MailEvent, TxBatch } from "../src/mail/index.js";
import { REQUEST_WINDOW_MS } from "../src/mail/index.js";
import { MetadataStore, type PlanOutcome } from "../src/store/index.js";

const ACC = "5b0c2f10-4d2e-4c8a-9e6b-1a2b3c4d5e6f";
const key = (id: string, digest = "d1") => ({ id, digest });
const msg = (n: number) => ({ messageId: `<${n}@x>`, from: "a@x", to: ["p@example.com"], cc: [], subject: `m${n}`, date: n, size: 10, blob: "ab".repeat(32) });

function withStore(fn: (store: MetadataStore) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-requests-"));
    const store = MetadataStore.open(join(dir, "metadata.sqlite"));
    try {
      store.ensureReplicaState(ACC, "primary");
      fn(store);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

let seq = 0;
/** Plans the commands and applies their events as the next batch, like the account actor. */
function commit(store: MetadataStore, commands: MailCommand[], at = 1_000): PlanOutcome[] {
  const outcomes = store.plan(ACC, commands);
  const events: MailEvent[] = outcomes.flatMap((o) => (o.ok ? o.events : []));
  if (events.length > 0) {
    const prev = store.replicaState(ACC)!.appliedSeq;
    const batch: TxBatch = { v: 1, account: ACC, epoch: 1, writer: "ms1", at, prev, events };
    store.applyBatch(ACC, ++seq + prev, batch);
  }
  return outcomes;
}

const deliver = (n: number, request?: { id: string; digest: string }): MailCommand => ({
  op: "deliverMessage",
  folder: "Inbox",
  flags: [],
  message: msg(n),
  ...(request ? { request } : {}),
});

function setup(store: MetadataStore): void {
  // Written before requestIds existed: no request anywhere, it still applies.
  commit(store, [{ op: "createAccount", id: ACC, name: "p@example.com", mailHost: "ms1" }, deliver(1)]);
}

test(
  "requests - a recorded requestId is answered with its first outcome and plans no events",
  withStore((store) => {
    setup(store);
    const [first] = commit(store, [deliver(2, key("r1"))]);
    assert.ok(first?.ok);
    const [again] = store.plan(ACC, [deliver(2, key("r1"))]);
    assert.ok(again?.ok);
    if (!again?.ok || !first?.ok) return;
    assert.equal(again.events, []);
    assert.equal(again.result, first.result);
    assert.is(store.listItems(ACC).total, 2);
  }),
);

test(
  "requests - the same requestId twice in one batch is written once",
  withStore((store) => {
    setup(store);
    const outcomes = commit(store, [deliver(3, key("r2")), deliver(3, key("r2"))]);
    assert.ok(outcomes.every((o) => o.ok));
    const [a, b] = outcomes;
    if (!a?.ok || !b?.ok) return;
    assert.equal(b.result, a.result);
    assert.equal(b.events, []);
    assert.is(store.listItems(ACC).total, 2);
  }),
);

test(
  "requests - other parameters under a recorded requestId are refused, and nothing is planned",
  withStore((store) => {
    setup(store);
    commit(store, [deliver(4, key("r3", "d1"))]);
    const [o] = store.plan(ACC, [deliver(5, key("r3", "d2"))]);
    assert.is(o?.ok, false);
    if (o?.ok !== false) return;
    assert.is(o.error.code, "REQUEST_ID_REUSED");
    assert.match(o.error.message, /r3/);
  }),
);

test(
  "requests - a record is pruned once a batch is applied past the 24 h window",
  withStore((store) => {
    setup(store);
    commit(store, [deliver(6, key("old"))], 1_000);
    commit(store, [deliver(7, key("recent"))], 1_000 + REQUEST_WINDOW_MS - 1);
    assert.is(store.plan(ACC, [deliver(6, key("old"))])[0]?.ok && store.plan(ACC, [deliver(6, key("old"))])[0]!.ok, true);
    // The next batch is more than 24 h after "old": it goes; "recent" stays.
    commit(store, [deliver(8)], 1_000 + REQUEST_WINDOW_MS + 1);
    const [old] = store.plan(ACC, [deliver(6, key("old"))]);
    assert.ok(old?.ok && old.events.length > 0, "a forgotten requestId is a new request");
    const [recent] = store.plan(ACC, [deliver(7, key("recent"))]);
    assert.ok(recent?.ok && recent.events.length === 0, "a requestId within the window is still answered");
  }),
);

test.run();
