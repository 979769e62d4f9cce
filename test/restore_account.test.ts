// Point-in-time restore against a real system: the restored account equals the original as of
// the point (folders with their ids, every item field, keywords), from a snapshot plus the log
// and from the log alone, after deletes and moves; refusals change nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { MailWorkload, firstDifference, prng, testSeed } from "./helpers/workload.js";
import { directoryRecord } from "./helpers/promotion.js";
import { runCliWithEnv } from "./helpers/cli_capture.js";
import { tempDir } from "./helpers/processes.js";
import { pastMs, restoreRefusal } from "./helpers/restore.js";
import { rpcCall, RpcError } from "../src/jsonrpc/index.js";
import { nodeAdminSubject } from "../src/protocol/subjects.js";
import { LogCompactor } from "../actors/supervisor/log_compactor.js";

const MS1 = "ms1.example.com";
let sys: TestSystem;
const seed = testSeed();

test.before(async () => {
  sys = await TestSystem.startRunning({
    hosts: [MS1],
    config: (c) => {
      c.snapshots = { everyEntries: 0, everyMs: 0 };
      c.retention = { keepDays: 7, compactEveryMs: 0 };
    },
  });
});
test.after(async () => {
  await sys?.stop();
});

const store = () => sys.inProcess.get(MS1)!.store;

/** What a restore must reproduce: folders, items, keywords (not the account's own row: another name and id). */
function content(accountId: string): unknown {
  const d = store().dumpAccount(accountId);
  return { folders: d.folders, items: d.items, tags: d.tags };
}

function assertSameContent(original: unknown, restoredId: string): void {
  const diff = firstDifference(original, content(restoredId));
  assert.is(diff, undefined, `the restored account differs at ${diff}`);
}

const refusal = (params: Record<string, unknown>): Promise<RpcError> => restoreRefusal(sys, params);

test("restore - at a seq and at a time, after deletes and moves: the new account equals the original as of then (snapshot + log, and log alone)", async () => {
  const name = "pitr@example.com";
  const rand = prng(seed);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  const w = new MailWorkload(sys, name, rand);
  await w.run(60, 1);
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(500, name), flags: ["seen", "ProjectX"] });
  const early = { seq: store().replicaState(id)!.appliedSeq, content: content(id) };
  await rpcCall(sys.nc, nodeAdminSubject(MS1), "snapshotAccount", { account: id });
  await w.run(60, 1);
  const atSeq = { seq: store().replicaState(id)!.appliedSeq, content: content(id) };
  const t = Date.now();
  await pastMs(t);
  // Then a mass delete: every item and user folder.
  const all = store()
    .listItems(id, { limit: 1000 })
    .items.map((i) => i.id);
  if (all.length > 0) await sys.mailbox("deleteItems", { account: name, ids: all });
  for (const f of store()
    .listFolders(id)
    .filter((f) => f.id > 256 && f.parentId === null))
    await sys.mailbox("deleteFolder", { account: name, path: f.path });
  assert.is(store().listItems(id).total, 0);

  // At a seq after the snapshot: snapshot + log.
  const r1 = await sys.admin("restoreAccount", { account: name, into: "pitr.seq@example.com", seq: atSeq.seq });
  assert.is(r1.sequence, atSeq.seq);
  assertSameContent(atSeq.content, r1.intoId);
  // At the time before the mass delete: the same state.
  const r2 = await sys.admin("restoreAccount", { account: name, into: "pitr.time@example.com", at: new Date(t).toISOString() });
  assert.is(r2.sequence, atSeq.seq);
  assertSameContent(atSeq.content, r2.intoId);
  // Before the snapshot: from the log alone.
  const r3 = await sys.admin("restoreAccount", { account: name, into: "pitr.early@example.com", seq: early.seq });
  assert.is(r3.sequence, early.seq);
  assertSameContent(early.content, r3.intoId);
  assert.ok(r3.tags >= 1, JSON.stringify(r3));
  // The original is untouched, and the restored accounts are ordinary accounts: writable.
  assert.is(store().listItems(id).total, 0);
  await sys.mailbox("deliverMessage", { account: "pitr.seq@example.com", raw: rawMessage(900, "pitr.seq@example.com") });
});

test("restore - refusals name what is wrong and change nothing", async () => {
  const name = "pitr-refused@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  const head = store().replicaState(id)!.appliedSeq;
  assert.is((await refusal({ account: name, into: "x1@example.com" })).code, -32602);
  assert.is((await refusal({ account: name, into: "x2@example.com", seq: head, at: "2026-01-01T00:00:00Z" })).code, -32602);
  assert.match((await refusal({ account: name, into: "x3@example.com", at: "yesterday" })).message, /ISO 8601/);
  assert.is((await refusal({ account: name, into: name, seq: head })).appCode, "ACCOUNT_EXISTS");
  assert.is((await refusal({ account: "nobody@example.com", into: "x4@example.com", seq: 1 })).appCode, "ACCOUNT_UNKNOWN");
  for (const into of ["x1@example.com", "x2@example.com", "x3@example.com", "x4@example.com"]) {
    assert.is(await sys.supervisor!.directory.find(into), undefined, `${into} was not created`);
  }
  const after = await refusal({ account: name, into: "x5@example.com", seq: head + 1_000_000 });
  assert.is(after.appCode, "RESTORE_POINT_UNAVAILABLE", after.message);
});

test("restore - a point before the compacted history is refused: RESTORE_POINT_UNAVAILABLE", async () => {
  const name = "pitr-compacted@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  for (let i = 0; i < 5; i++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  const early = store().replicaState(id)!.appliedSeq;
  for (let i = 5; i < 10; i++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  await rpcCall(sys.nc, nodeAdminSubject(MS1), "snapshotAccount", { account: id });
  // Compacted as keepDays 0 would: nothing before the snapshot is left.
  const compactor = new LogCompactor(sys.supervisor!, { keepDays: 0, everyMs: 0 }, () => sys.inProcess.get(MS1)!.keyring.trust);
  assert.ok(await compactor.compactAccount(await directoryRecord(sys, id)));
  const e = await refusal({ account: name, into: "pitr.gone@example.com", seq: early });
  assert.is(e.appCode, "RESTORE_POINT_UNAVAILABLE", e.message);
});

test("restore - the CLI: restoreAccount ACCOUNT NEW_ACCOUNT seq N", async () => {
  const name = "pitr-cli@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  const before = content(id);
  const seq = store().replicaState(id)!.appliedSeq;
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2, name) });
  const r = await runCliWithEnv(
    ["--json", "restoreAccount", name, "pitr.cli@example.com", "seq", String(seq)],
    { MR_SERVERS: sys.nats.url },
    tempDir("mr-pitr-"),
  );
  assert.is(r.code, 0, r.err);
  const out = JSON.parse(r.out) as { intoId: string; items: number };
  assert.is(out.items, 1);
  assertSameContent(before, out.intoId);
});

test.run();
