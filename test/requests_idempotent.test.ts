// Idempotency keys (requestId): a retried write returns its first outcome and writes nothing
// again, on the primary and on the new primary after a promotion; a key reused for another
// call, or malformed, is refused and changes nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { rpcCall } from "../src/jsonrpc/index.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { addReplicas, promote, waitRoutesTo } from "./helpers/promotion.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { rpcFailure } from "./helpers/refused.js";
import { waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ALICE = "alice@example.com";
let sys: TestSystem;
let aliceId: string;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2] });
  aliceId = (await sys.mailbox("createAccount", { name: ALICE, mailHost: MS1 })).id;
});
test.after(async () => {
  await sys?.stop();
});

const primaryStore = (host: string) => sys.inProcess.get(host)!.store;

test("requestId - a retried deliverMessage returns the same itemId and stores one item", async () => {
  const before = (await sys.mailbox("listItems", { account: ALICE })).total;
  const params = { account: ALICE, raw: rawMessage(1), requestId: "mta-7f3a:queue.1" };
  const first = await sys.mailbox("deliverMessage", params);
  const again = await sys.mailbox("deliverMessage", params);
  // The account named by id is the same call.
  const byId = await sys.mailbox("deliverMessage", { ...params, account: aliceId });
  assert.equal(again, first);
  assert.equal(byId, first);
  assert.is((await sys.mailbox("listItems", { account: ALICE })).total, before + 1);
});

test("requestId - an MTA whose answer was lost retries and gets the same itemId, one item stored", async () => {
  // The MTA talks to NATS through a proxy that holds every byte back towards it: the
  // delivery completes, the MTA only sees a timeout (an unknown outcome) and retries.
  const proxy = await TcpProxy.start(sys.nats.spec.port);
  const mta = await connect({ servers: proxy.url });
  try {
    await mta.flush();
    const ids = () =>
      primaryStore(MS1)
        .listItems(aliceId, { limit: 1000 })
        .items.map((i) => i.id);
    const known = new Set(ids());
    const before = known.size;
    const params = { account: ALICE, raw: rawMessage(9), requestId: "mta-lost-reply-1" };
    proxy.stall("toClient");
    const lost = await rpcCall(mta, "mr.rpc.mailbox", "deliverMessage", params, { timeoutMs: 2_000 }).then(
      () => "answered",
      () => "no answer",
    );
    assert.is(lost, "no answer");
    await waitFor("delivery stored on the primary", () => primaryStore(MS1).listItems(aliceId).total === before + 1);
    proxy.resume("toClient");
    const retry = await rpcCall<{ itemId: number }>(mta, "mr.rpc.mailbox", "deliverMessage", params, { timeoutMs: 15_000 });
    // Exactly one new item, and it is the one the retry named.
    assert.equal(
      ids().filter((id) => !known.has(id)),
      [retry.itemId],
    );
  } finally {
    await mta.close().catch(() => {});
    await proxy.stop();
  }
});

test("requestId - the same requestId twice at once is written once, both get the one outcome", async () => {
  const before = (await sys.mailbox("listItems", { account: ALICE })).total;
  const params = { account: ALICE, raw: rawMessage(2), requestId: "same-batch-1" };
  // Whether they share a batch or not, the outcome must be the same.
  const [a, b] = await Promise.all([sys.mailbox("deliverMessage", params), sys.mailbox("deliverMessage", params)]);
  assert.equal(a, b);
  assert.is((await sys.mailbox("listItems", { account: ALICE })).total, before + 1);
});

test("requestId - every write method answers a retry with its first outcome", async () => {
  const created = await sys.mailbox("createFolder", { account: ALICE, path: "Projects", requestId: "cf-1" });
  assert.equal(await sys.mailbox("createFolder", { account: ALICE, path: "Projects", requestId: "cf-1" }), created);
  const renamed = await sys.mailbox("renameFolder", { account: ALICE, path: "Projects", newPath: "Work", requestId: "rf-1" });
  assert.equal(await sys.mailbox("renameFolder", { account: ALICE, path: "Projects", newPath: "Work", requestId: "rf-1" }), renamed);
  const { itemId } = await sys.mailbox("deliverMessage", { account: ALICE, raw: rawMessage(3), requestId: "dm-3" });
  const moved = await sys.mailbox("moveItems", { account: ALICE, ids: [itemId], folder: "Work", requestId: "mv-1" });
  assert.equal(await sys.mailbox("moveItems", { account: ALICE, ids: [itemId], folder: "Work", requestId: "mv-1" }), moved);
  const flagged = await sys.mailbox("setFlags", { account: ALICE, ids: [itemId], flags: ["seen"], requestId: "sf-1" });
  assert.equal(await sys.mailbox("setFlags", { account: ALICE, ids: [itemId], flags: ["seen"], requestId: "sf-1" }), flagged);
  const deleted = await sys.mailbox("deleteItems", { account: ALICE, ids: [itemId], requestId: "di-1" });
  // Without the key this retry would be ITEM_NOT_FOUND: the item is gone.
  assert.equal(await sys.mailbox("deleteItems", { account: ALICE, ids: [itemId], requestId: "di-1" }), deleted);
  const removed = await sys.mailbox("deleteFolder", { account: ALICE, path: "Work", requestId: "df-1" });
  assert.equal(await sys.mailbox("deleteFolder", { account: ALICE, path: "Work", requestId: "df-1" }), removed);
  const acct = await sys.mailbox("createAccount", { name: "keyed@example.com", mailHost: MS1, requestId: "ca-1" });
  assert.equal(await sys.mailbox("createAccount", { name: "keyed@example.com", mailHost: MS1, requestId: "ca-1" }), acct);
});

test("requestId - reused with other parameters is refused and changes nothing", async () => {
  await sys.mailbox("deliverMessage", { account: ALICE, raw: rawMessage(4), requestId: "reuse-1" });
  const before = JSON.stringify(primaryStore(MS1).dumpAccount(aliceId));
  const e = await rpcFailure(sys.mailbox("deliverMessage", { account: ALICE, raw: rawMessage(5), requestId: "reuse-1" }));
  assert.is(e.code, -32031, e.message);
  assert.is(e.appCode, "REQUEST_ID_REUSED");
  assert.match(e.message, /reuse-1/);
  const e2 = await rpcFailure(sys.mailbox("createFolder", { account: ALICE, path: "Other", requestId: "reuse-1" }));
  assert.is(e2.appCode, "REQUEST_ID_REUSED");
  assert.is(JSON.stringify(primaryStore(MS1).dumpAccount(aliceId)), before);
});

test("requestId - a malformed requestId is refused with what is allowed, nothing changes", async () => {
  const before = JSON.stringify(primaryStore(MS1).dumpAccount(aliceId));
  for (const bad of ["", "has space", "x".repeat(129), "ü", 42]) {
    const e = await rpcFailure(sys.mailbox("deliverMessage", { account: ALICE, raw: rawMessage(6), requestId: bad }));
    assert.is(e.code, -32602, `${JSON.stringify(bad)}: ${e.message}`);
    assert.match(e.message, /requestId/);
    assert.match(e.message, /128/, e.message);
    assert.match(e.message, /'\.', '_', ':' and '-'/);
  }
  const e = await rpcFailure(sys.mailbox("setFlags", { account: ALICE, ids: [257], flags: [], requestId: "a b" }));
  assert.is(e.code, -32602);
  assert.is(JSON.stringify(primaryStore(MS1).dumpAccount(aliceId)), before);
});

test("requestId - after a promotion the new primary answers a retry with the first outcome", async () => {
  const bob = await sys.mailbox("createAccount", { name: "bob@example.com", mailHost: MS1 });
  await addReplicas(sys, ["bob@example.com"], MS2, 10);
  const params = { account: "bob@example.com", raw: rawMessage(7), requestId: "mta-promo-1" };
  const first = await sys.mailbox("deliverMessage", params);
  const primarySeq = primaryStore(MS1).replicaState(bob.id)!.appliedSeq;
  await waitFor("replica caught up", () => (primaryStore(MS2).replicaState(bob.id)?.appliedSeq ?? 0) >= primarySeq);
  const m = await promote(sys, { accounts: "bob@example.com", destination: MS2 });
  assert.is(m.state, "successful", JSON.stringify(m));
  await waitRoutesTo(sys, [bob.id], MS2);
  const again = await sys.mailbox("deliverMessage", params);
  assert.equal(again, first);
  const items = await sys.mailbox("listItems", { account: "bob@example.com" });
  assert.is(items.total, 1);
  assert.is(primaryStore(MS2).listItems(bob.id).total, 1);
  // Reuse with other parameters is refused there too.
  const e = await rpcFailure(sys.mailbox("deliverMessage", { ...params, raw: rawMessage(8) }));
  assert.is(e.appCode, "REQUEST_ID_REUSED");
});

test.run();
