// Point-in-time restore over the live account (restoreAccount overwrite) against a real system:
// afterwards the account's folders and items equal its state at the point (the same as a
// restore of that point into a new account), its replica equals it, and its log only grew, so
// the state just before the restore can itself be restored. Without the flag the account itself
// is refused as target, and refusals change nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { MailWorkload, firstDifference, prng, testSeed, waitReplicaCaughtUp } from "./helpers/workload.js";
import { addReplicas } from "./helpers/promotion.js";
import { runCliWithEnv } from "./helpers/cli_capture.js";
import { tempDir } from "./helpers/processes.js";
import { pastMs, restoreRefusal } from "./helpers/restore.js";
import { RpcError } from "../src/jsonrpc/index.js";
import { SubjectLog } from "../src/runtime/subject_log.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;
const seed = testSeed();

test.before(async () => {
  sys = await TestSystem.startRunning({
    hosts: [MS1, MS2],
    config: (c) => {
      c.snapshots = { everyEntries: 0, everyMs: 0 };
      c.retention = { keepDays: 7, compactEveryMs: 0 };
    },
  });
});
test.after(async () => {
  await sys?.stop();
});

const store = (host = MS1) => sys.inProcess.get(host)!.store;

/** What a restore over the account must give back exactly: its folders and items. */
function content(accountId: string, host = MS1): unknown {
  const d = store(host).dumpAccount(accountId);
  return { folders: d.folders, items: d.items };
}

function assertContent(expected: unknown, accountId: string, what: string): void {
  const diff = firstDifference(expected, content(accountId));
  assert.is(diff, undefined, `${what} differs at ${diff}`);
}

/** Every entry of the account's log: seq -> sha256 of the stored bytes. */
async function logEntries(accountId: string): Promise<Map<number, string>> {
  const log = new SubjectLog(jetstream(sys.nc), await jetstreamManager(sys.nc), sys.config.jetstream.streams.tx, `mr.tx.${accountId}`);
  const out = new Map<number, string>();
  for await (const e of log.read(1)) out.set(e.seq, createHash("sha256").update(e.data).digest("hex"));
  return out;
}

/** The log only grew: every entry of `before` is still there, unchanged, and new ones follow. */
async function assertLogGrew(accountId: string, before: Map<number, string>): Promise<void> {
  const after = await logEntries(accountId);
  for (const [seq, digest] of before) assert.is(after.get(seq), digest, `log entry ${seq} is still there, unchanged`);
  assert.ok(after.size > before.size, `new entries were written (${before.size} -> ${after.size})`);
  assert.ok(Math.min(...after.keys()) <= Math.min(...before.keys()), "nothing was removed from the log's start");
}

/** The replica on MS2 caught up, verifyReplicas finds it equal, and its rows equal the primary's. */
async function assertReplicaEqual(name: string, accountId: string): Promise<void> {
  await waitReplicaCaughtUp(sys, name, MS2);
  const v = await sys.admin("verifyReplicas", { accounts: name });
  assert.is(v.equal, 1, JSON.stringify(v));
  const diff = firstDifference(store(MS1).dumpAccount(accountId), store(MS2).dumpAccount(accountId));
  assert.is(diff, undefined, `the replica differs at ${diff}`);
}

const appliedSeq = (accountId: string): number => store().replicaState(accountId)!.appliedSeq;

const refusal = (params: Record<string, unknown>): Promise<RpcError> => restoreRefusal(sys, params);

/** A replicated account with folders, subfolders, flagged items and keywords. */
async function populated(name: string): Promise<{ id: string; items: number[] }> {
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await addReplicas(sys, [name], MS2, 10);
  for (const path of ["Work", "Work/Sub", "Vault", "Vault/Y2026"]) await sys.mailbox("createFolder", { account: name, path });
  const items: number[] = [];
  let n = 0;
  for (const [folder, flags] of [
    ["Inbox", ["seen"]],
    ["Inbox", []],
    ["Work", ["flagged", "ProjectX"]],
    ["Work/Sub", ["seen"]],
    ["Vault", []],
    ["Vault/Y2026", ["answered", "Old"]],
  ] as const) {
    const r = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(n++, name), folder, flags: [...flags] });
    items.push(r.itemId);
  }
  await new MailWorkload(sys, name, prng(seed), { firstMessage: 100 }).run(40, 1);
  return { id, items };
}

/** Deletes, moves, flag changes, folder renames, moves and deletes, a folder re-created at a known path, new deliveries. */
async function scramble(name: string, items: number[]): Promise<void> {
  await sys.mailbox("deleteItems", { account: name, ids: [items[0]!] });
  await sys.mailbox("moveItems", { account: name, ids: [items[1]!], folder: "Work/Sub" });
  await sys.mailbox("setFlags", { account: name, ids: [items[2]!], flags: ["Later"] });
  await sys.mailbox("renameFolder", { account: name, path: "Work", newPath: "Ventures" });
  await sys.mailbox("deleteFolder", { account: name, path: "Vault" });
  await sys.mailbox("createFolder", { account: name, path: "Vault" });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(900, name), folder: "Vault" });
  await sys.mailbox("createFolder", { account: name, path: "Fresh" });
  await sys.mailbox("renameFolder", { account: name, path: "Ventures/Sub", newPath: "Fresh/Sub" });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(901, name), flags: ["Newer"] });
  await new MailWorkload(sys, name, prng(seed + 1), { firstMessage: 1000 }).run(40, 1);
}

test("restore over - at a seq: the account equals its state then, like a restore into a new account; the replica follows; the log only grew", async () => {
  const name = "live.seq@example.com";
  const { id, items } = await populated(name);
  const point = { seq: appliedSeq(id), content: content(id), tags: store().dumpAccount(id).tags };
  await scramble(name, items);
  const before = { seq: appliedSeq(id), content: content(id), log: await logEntries(id) };

  const r = await sys.admin("restoreAccount", { account: name, seq: point.seq, overwrite: true });
  assert.is(r.overwrite, true);
  assert.is(r.accountId, id);
  assert.is(r.intoId, id);
  assert.is(r.sequence, point.seq);
  assert.ok(r.passes >= 1, JSON.stringify(r));
  for (const k of ["itemsDeleted", "itemsRecreated", "itemsUpdated", "foldersCreated", "foldersRemoved", "foldersRenamed"]) {
    assert.ok(r.changes[k] >= 1, `changes.${k}: ${JSON.stringify(r.changes)}`);
  }
  assertContent(point.content, id, "the account after the restore");
  const tags = store().dumpAccount(id).tags;
  for (const t of point.tags) assert.ok(tags.includes(t), `keyword ${t} of the point is known`);
  assert.is(r.items, (point.content as { items: unknown[] }).items.length);

  // Rebuilt independently: the same point restored into a new account holds the same content.
  const copy = await sys.admin("restoreAccount", { account: name, into: "live.seq.copy@example.com", seq: point.seq });
  assert.is(firstDifference(content(copy.intoId), content(id)), undefined, "the restore into a new account equals the account restored over itself");

  await assertLogGrew(id, before.log);
  await assertReplicaEqual(name, id);

  // The log only grew, so the state just before the restore is itself still a point to go back to.
  const undo = await sys.admin("restoreAccount", { account: name, seq: before.seq, overwrite: true });
  assert.is(undo.sequence, before.seq);
  assertContent(before.content, id, "the account restored to just before the first restore");
  await assertReplicaEqual(name, id);

  // The account works as before: writable, and restoring to where it is writes nothing.
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2000, name) });
  const head = appliedSeq(id);
  const again = await sys.admin("restoreAccount", { account: name, seq: head, overwrite: true });
  assert.is(again.passes, 0, JSON.stringify(again));
  assert.equal(Object.values(again.changes), [0, 0, 0, 0, 0, 0, 0]);
  assert.is(appliedSeq(id), head, "nothing written");
});

test("restore over - at a time (ISO 8601): the state after the last entry stored at or before it", async () => {
  const name = "live.time@example.com";
  const { id, items } = await populated(name);
  const point = { seq: appliedSeq(id), content: content(id) };
  const t = Date.now();
  await pastMs(t);
  await scramble(name, items);
  const log = await logEntries(id);
  const r = await sys.admin("restoreAccount", { account: name, at: new Date(t).toISOString(), overwrite: true });
  assert.is(r.sequence, point.seq);
  assertContent(point.content, id, "the account after the restore");
  await assertLogGrew(id, log);
  await assertReplicaEqual(name, id);
});

test("restore over - while clients write: it ends or refuses RESTORE_CONFLICT (retryable), never half-applied; then without writers the point exactly", async () => {
  const name = "live.busy@example.com";
  const { id, items } = await populated(name);
  const point = { seq: appliedSeq(id), content: content(id) };
  await scramble(name, items);
  const log = await logEntries(id);
  let writing = true;
  const writer = new MailWorkload(sys, name, prng(seed + 2), { firstMessage: 5000 }).run(100_000, 2, () => !writing);
  const r = await sys.admin("restoreAccount", { account: name, seq: point.seq, overwrite: true }).then(
    (v) => v,
    (e: unknown) => e,
  );
  writing = false;
  await writer;
  if (r instanceof RpcError) assert.is(r.appCode, "RESTORE_CONFLICT", r.message);
  else assert.ok(r.passes >= 1, JSON.stringify(r));
  // Whatever the writes did meanwhile, the next restore starts from the state then.
  await sys.admin("restoreAccount", { account: name, seq: point.seq, overwrite: true });
  assertContent(point.content, id, "the account after the restore without writers");
  await assertLogGrew(id, log);
  await assertReplicaEqual(name, id);
});

test("restore over - refusals: without overwrite the account itself is refused naming the flag; bad combinations; nothing changed", async () => {
  const name = "live.refused@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  const point = appliedSeq(id);
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2, name) });
  const before = { seq: appliedSeq(id), content: content(id) };

  const itself = await refusal({ account: name, into: name, seq: point });
  assert.is(itself.appCode, "ACCOUNT_EXISTS");
  assert.match(itself.message, /overwrite true/);
  const byId = await refusal({ account: name, into: id, seq: point });
  assert.is(byId.appCode, "ACCOUNT_EXISTS");
  const neither = await refusal({ account: name, seq: point });
  assert.is(neither.code, -32602);
  assert.match(neither.message, /into .*overwrite true/);
  const other = await refusal({ account: name, into: "live.other@example.com", seq: point, overwrite: true });
  assert.is(other.code, -32602);
  assert.match(other.message, /overwrite restores/);
  assert.is((await refusal({ account: name, overwrite: true })).code, -32602);
  const late = await refusal({ account: name, seq: before.seq + 1_000_000, overwrite: true });
  assert.is(late.appCode, "RESTORE_POINT_UNAVAILABLE", late.message);

  assert.is(appliedSeq(id), before.seq, "nothing was written");
  assertContent(before.content, id, "the refused account");
  assert.is(await sys.supervisor!.directory.find("live.other@example.com"), undefined, "no account was created");
  // With the flag (and into naming the account itself, allowed) it goes through.
  const r = await sys.admin("restoreAccount", { account: name, into: name, seq: point, overwrite: true });
  assert.is(r.changes.itemsDeleted, 1);
});

test("restore over - an item whose body is gone from centralized storage: BLOB_MISSING before anything is written", async () => {
  const name = "live.blob@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  const kept = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  const gone = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2, name) });
  const point = appliedSeq(id);
  await sys.mailbox("deleteItems", { account: name, ids: [gone.itemId] });
  await sys.mailbox("moveItems", { account: name, ids: [kept.itemId], folder: "Trash" });
  await sys.inProcess.get(MS1)!.blobs.delete(gone.blob);
  const before = { seq: appliedSeq(id), content: content(id) };
  const e = await refusal({ account: name, seq: point, overwrite: true });
  assert.is(e.appCode, "BLOB_MISSING", e.message);
  assert.match(e.message, /nothing was changed/);
  assert.is(appliedSeq(id), before.seq, "nothing was written");
  assertContent(before.content, id, "the refused account");
});

test("restore over - the CLI: restoreAccount ACCOUNT seq N overwrite true", async () => {
  const name = "live.cli@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.mailbox("createFolder", { account: name, path: "Keep" });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name), folder: "Keep" });
  const point = { seq: appliedSeq(id), content: content(id) };
  await sys.mailbox("deleteFolder", { account: name, path: "Keep" });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2, name) });
  const env = { MR_SERVERS: sys.nats.url };
  const missing = await runCliWithEnv(["restoreAccount", name, "seq", String(point.seq)], env, tempDir("mr-pitr-live-"));
  assert.is.not(missing.code, 0);
  assert.match(missing.err, /overwrite true/);
  const r = await runCliWithEnv(["--json", "restoreAccount", name, "seq", String(point.seq), "overwrite", "true"], env, tempDir("mr-pitr-live-"));
  assert.is(r.code, 0, r.err);
  const out = JSON.parse(r.out) as { overwrite: boolean; changes: { foldersCreated: number; itemsRecreated: number; itemsDeleted: number } };
  assert.is(out.overwrite, true);
  assert.equal([out.changes.foldersCreated, out.changes.itemsRecreated, out.changes.itemsDeleted], [1, 1, 1]);
  assertContent(point.content, id, "the account restored by the CLI");
});

test.run();
