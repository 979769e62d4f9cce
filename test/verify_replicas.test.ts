// verifyReplicas against a real system: nats-server, three in-process mailstores with their
// SQLite files, a supervisor. Equal copies after a mixed workload, a copy changed behind the
// system's back (its SQLite file edited directly), a stopped mailstore, and refusals.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { refused } from "./helpers/refused.js";
import { join } from "node:path";
import Database from "better-sqlite3";
import { accountDigest } from "../src/store/account_digest.js";
import { DEFAULT_VERIFY_OPTIONS, verifyReplicas } from "../actors/supervisor/verify_replicas.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { logHead, stopBounded, waitReplicaCaughtUp } from "./helpers/workload.js";
import { promote } from "./helpers/promotion.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning();
});
test.after(async () => {
  await stopBounded(sys);
});

const store = (host: string) => sys.inProcess.get(host)!.store;

/** An account on MS1 with a mixed workload, replicated on MS2 and MS3, both caught up. Returns its id and item ids. */
async function mixedAccount(name: string): Promise<{ id: string; items: number[] }> {
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  // Replicas first, so the workload also reaches them through the steady consumer.
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 20, accounts: name });
  const items: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name), ...(i % 2 ? { flags: ["seen", "urgent"] } : {}) });
    items.push(r.itemId);
  }
  await sys.mailbox("createFolder", { account: name, path: "Archive" });
  await sys.mailbox("createFolder", { account: name, path: "Archive/2026" });
  await sys.mailbox("createFolder", { account: name, path: "Old" });
  await sys.mailbox("setFlags", { account: name, ids: [items[0], items[2]], flags: ["flagged", "project-x"] });
  await sys.mailbox("moveItems", { account: name, ids: [items[1], items[2]], folder: "Archive/2026" });
  await sys.mailbox("deleteItems", { account: name, ids: [items[3]] });
  await sys.mailbox("renameFolder", { account: name, path: "Archive", newPath: "Archive-2026" });
  await sys.mailbox("moveItems", { account: name, ids: [items[4]], folder: "Old" });
  await sys.mailbox("deleteFolder", { account: name, path: "Old" });
  await waitReplicaCaughtUp(sys, name, MS2);
  await waitReplicaCaughtUp(sys, name, MS3);
  return { id, items };
}

let mixed: { id: string; items: number[] };

test("verifyReplicas - equal copies after a mixed workload: every replica equal, same digest, same sequence", async () => {
  mixed = await mixedAccount("mixed@example.com");
  const head = await logHead(sys, mixed.id);
  const r = await sys.admin("verifyReplicas", { accounts: "mixed@example.com" });
  assert.equal(
    { total: r.total, equal: r.equal, different: r.different, unverified: r.unverified },
    { total: 1, equal: 1, different: 0, unverified: 0 },
    JSON.stringify(r),
  );
  const a = r.accounts[0];
  assert.is(a.account, "mixed@example.com");
  assert.is(a.accountId, mixed.id);
  assert.is(a.primary, MS1);
  assert.is(a.equal, true);
  assert.is(a.sequence, head, "compared at the log head");
  // The digest is of the primary's rows (not a constant): the same as computed here from its store.
  assert.is(a.digest, accountDigest(store(MS1).dumpAccount(mixed.id)).digest);
  assert.equal(
    a.replicas.map((x: any) => [x.destination, x.equal, x.sequence, x.digest, x.firstDifference, x.error]),
    [
      [MS2, true, head, a.digest, null, undefined],
      [MS3, true, head, a.digest, null, undefined],
    ],
  );
});

test("verifyReplicas - a replica changed behind the system's back is equal: false, naming the item and both values; the other stays equal", async () => {
  const item = mixed.items[5]!; // delivered with seen + urgent, never changed since
  assert.equal(store(MS1).getItem(mixed.id, item).flags, ["seen", "urgent"]);
  // The only way to make a copy differ that the system itself never makes: edit its SQLite file.
  const db = new Database(join(sys.dataDir(MS3), "metadata.sqlite"), { timeout: 5_000 });
  try {
    assert.is(db.prepare("UPDATE items SET flags = ? WHERE account_id = ? AND id = ?").run('["flagged"]', mixed.id, item).changes, 1);
  } finally {
    db.close();
  }
  const r = await sys.admin("verifyReplicas", { accounts: ["mixed@example.com"] });
  assert.equal(
    { total: r.total, equal: r.equal, different: r.different, unverified: r.unverified },
    { total: 1, equal: 0, different: 1, unverified: 0 },
    JSON.stringify(r),
  );
  const a = r.accounts[0];
  assert.is(a.equal, false);
  const [ms2, ms3] = a.replicas;
  assert.is(ms2.destination, MS2);
  assert.is(ms2.equal, true);
  assert.is(ms3.destination, MS3);
  assert.is(ms3.equal, false);
  assert.is(ms3.sequence, a.sequence, "compared at the same sequence");
  assert.is.not(ms3.digest, a.digest);
  assert.equal(ms3.firstDifference, { kind: "item", id: item, primary: { flags: ["seen"] }, replica: { flags: ["flagged"] } });
  // Row hashes in pages of 3 (the item is many pages in): the same first difference.
  const rec = (await sys.supervisor!.directory.find("mixed@example.com"))!.value;
  const paged = await verifyReplicas(sys.supervisor!, [rec], MS3, { ...DEFAULT_VERIFY_OPTIONS, pageRows: 3 });
  assert.equal(paged.accounts[0]!.replicas[0]!.firstDifference, ms3.firstDifference);

  // replicaServer: only that replica is compared.
  const only2 = await sys.admin("verifyReplicas", { replicaServer: MS2 });
  assert.equal(
    only2.accounts.map((x: any) => [x.account, x.equal, x.replicas.map((y: any) => [y.destination, y.equal])]),
    [["mixed@example.com", true, [[MS2, true]]]],
  );
  const only3 = await sys.admin("verifyReplicas", { replicaServer: MS3 });
  assert.equal(
    only3.accounts[0].replicas.map((y: any) => [y.destination, y.equal, y.firstDifference?.id]),
    [[MS3, false, item]],
  );

  // A missing row is named too: a folder deleted from MS2's file.
  const archive = store(MS1)
    .listFolders(mixed.id)
    .find((f) => f.path === "Archive-2026/2026")!;
  const db2 = new Database(join(sys.dataDir(MS2), "metadata.sqlite"), { timeout: 5_000 });
  try {
    db2.pragma("foreign_keys = OFF");
    assert.is(db2.prepare("DELETE FROM folders WHERE account_id = ? AND id = ?").run(mixed.id, archive.id).changes, 1);
  } finally {
    db2.close();
  }
  const again = await sys.admin("verifyReplicas", { accounts: "mixed@example.com", replicaServer: MS2 });
  assert.equal(again.accounts[0].replicas[0].firstDifference, {
    kind: "folder",
    id: archive.id,
    path: "Archive-2026/2026",
    primary: { path: "Archive-2026/2026", parentId: archive.parentId },
    replica: null,
  });
});

test("verifyReplicas - an account named with no replica is listed unverified, with its primary's digest", async () => {
  const { id } = await sys.mailbox("createAccount", { name: "alone@example.com", mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: "alone@example.com", raw: rawMessage(1, "alone@example.com") });
  const r = await sys.admin("verifyReplicas", { accounts: "alone@example.com" });
  assert.equal({ total: r.total, unverified: r.unverified }, { total: 1, unverified: 1 });
  const a = r.accounts[0];
  assert.equal([a.equal, a.replicas, a.sequence], [null, [], await logHead(sys, id)]);
  assert.is(a.digest, accountDigest(store(MS1).dumpAccount(id)).digest);
  // Without names only accounts with a replica are verified.
  assert.not.ok((await sys.admin("verifyReplicas")).accounts.some((x: any) => x.account === "alone@example.com"));
});

test("verifyReplicas - unknown account or replicaServer is refused with its code and nothing changes", async () => {
  const before = JSON.stringify([
    (await sys.supervisor!.directory.find("mixed@example.com"))?.value,
    store(MS2).replicaState(mixed.id),
    store(MS3).replicaState(mixed.id),
  ]);
  const ghost = await refused(sys.admin("verifyReplicas", { accounts: "mixed@example.com,ghost@example.com" }), "ACCOUNT_UNKNOWN");
  assert.match(ghost.message, /ghost@example\.com/);
  const host = await refused(sys.admin("verifyReplicas", { replicaServer: "nosuch.example.com" }), "MAILSTORE_UNKNOWN");
  assert.match(host.message, /nosuch\.example\.com/);
  assert.match(host.message, /ms1\.example\.com/, "names the known mailstores");
  await refused(sys.admin("verifyReplicas", { accounts: "m*@example.com" }), "UNSUPPORTED_ACCOUNT_PATTERN");
  const after = JSON.stringify([
    (await sys.supervisor!.directory.find("mixed@example.com"))?.value,
    store(MS2).replicaState(mixed.id),
    store(MS3).replicaState(mixed.id),
  ]);
  assert.is(after, before);
});

test("verifyReplicas - a replica whose module is stopped is not compared and the reason says how to start it; started, it is waited for and equal", async () => {
  const name = "lagging@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 10, accounts: name });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  await waitReplicaCaughtUp(sys, name, MS3);
  await sys.admin("doStopService", { service_name: "module", host: MS3 });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2, name) });
  const head = await logHead(sys, id);
  assert.ok(store(MS3).replicaState(id)!.appliedSeq < head, "the replica is behind the log");

  const stopped = await sys.admin("verifyReplicas", { accounts: name });
  const r3 = stopped.accounts[0].replicas[0];
  assert.is(r3.equal, null);
  assert.ok(r3.error.includes(`doStartService module host ${MS3}`), r3.error);
  assert.is(stopped.unverified, 1);
  assert.is(store(MS3).replicaState(id)!.appliedSeq < head, true, "verifying applied nothing");

  await sys.admin("doStartService", { service_name: "module", host: MS3 });
  const started = await sys.admin("verifyReplicas", { accounts: name });
  assert.equal(
    started.accounts[0].replicas.map((x: any) => [x.destination, x.equal, x.sequence]),
    [[MS3, true, head]],
    JSON.stringify(started),
  );
  assert.is(started.accounts[0].sequence, head);
});

test("verifyReplicas - after a promotion the new primary and the old one (now a replica) are equal", async () => {
  const name = "moved@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 10, accounts: name });
  const item = (await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name), flags: ["seen"] })).itemId;
  await waitReplicaCaughtUp(sys, name, MS3);
  const done = await promote(sys, { accounts: name, destination: MS3 });
  assert.is(done.promoted.length, 1, JSON.stringify(done));
  await sys.mailbox("setFlags", { account: name, ids: [item], flags: ["flagged"] });
  await waitReplicaCaughtUp(sys, name, MS1);
  const r = await sys.admin("verifyReplicas", { accounts: name });
  const a = r.accounts[0];
  assert.is(a.primary, MS3);
  assert.is(a.sequence, await logHead(sys, id));
  assert.equal(
    a.replicas.map((x: any) => [x.destination, x.equal, x.sequence, x.digest]),
    [[MS1, true, a.sequence, a.digest]],
    JSON.stringify(r),
  );
});

test("verifyReplicas - while writes continue, equal copies are never reported different (equal, or not compared with the reason)", async () => {
  const name = "busy@example.com";
  await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 20, accounts: name });
  await waitReplicaCaughtUp(sys, name, MS2);
  let writing = true;
  let written = 0;
  // Four writers: the primary groups their requests into batches, so the log keeps moving.
  const writer = Promise.all(
    [0, 1, 2, 3].map(async () => {
      while (writing) {
        await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1000 + written++, name) });
      }
    }),
  );
  try {
    // Whatever the interleaving: a replica is equal, or not compared because writes went on.
    for (let i = 0; i < 6; i++) {
      const r = await sys.admin("verifyReplicas", { accounts: name });
      for (const x of r.accounts[0].replicas) {
        assert.ok(x.equal === true || (x.equal === null && /writes continued|has applied seq/.test(x.error)), JSON.stringify(x));
      }
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.ok(written > 0);
  await waitReplicaCaughtUp(sys, name, MS2);
  await waitReplicaCaughtUp(sys, name, MS3);
  const quiet = await sys.admin("verifyReplicas", { accounts: name });
  assert.equal(
    quiet.accounts[0].replicas.map((x: any) => x.equal),
    [true, true],
    "once quiet, every replica is equal",
  );
});

test("verifyReplicas - a replica whose mailstore is stopped is equal: null with an error naming the host; the others are compared", async () => {
  const { id } = await sys.mailbox("createAccount", { name: "quiet@example.com", mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "quiet@example.com" });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 20, accounts: "quiet@example.com" });
  await sys.mailbox("deliverMessage", { account: "quiet@example.com", raw: rawMessage(1, "quiet@example.com") });
  await waitReplicaCaughtUp(sys, "quiet@example.com", MS2);
  await waitReplicaCaughtUp(sys, "quiet@example.com", MS3);
  // An account whose primary is the mailstore that stops.
  await sys.mailbox("createAccount", { name: "on2@example.com", mailHost: MS2 });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 10, accounts: "on2@example.com" });
  await waitReplicaCaughtUp(sys, "on2@example.com", MS3);
  await sys.inProcess.get(MS2)!.stop();
  sys.inProcess.delete(MS2);

  const r = await sys.admin("verifyReplicas", { accounts: "quiet@example.com" });
  assert.equal(
    { total: r.total, equal: r.equal, different: r.different, unverified: r.unverified },
    { total: 1, equal: 0, different: 0, unverified: 1 },
    JSON.stringify(r),
  );
  const a = r.accounts[0];
  assert.is(a.accountId, id);
  assert.is(a.equal, null);
  const [ms2, ms3] = a.replicas;
  assert.is(ms2.destination, MS2);
  assert.is(ms2.equal, null);
  assert.is(ms2.digest, null);
  assert.ok(typeof ms2.error === "string" && ms2.error.includes(MS2) && ms2.error.includes("does not answer"), ms2.error);
  assert.is(ms3.equal, true);
  assert.is(ms3.digest, a.digest);
  // Its primary stopped: nothing is compared, and the reason names the primary.
  const on2 = (await sys.admin("verifyReplicas", { accounts: "on2@example.com" })).accounts[0];
  assert.is(on2.equal, null);
  assert.is(on2.digest, null);
  assert.is(on2.replicas[0].equal, null);
  assert.ok(on2.replicas[0].error.startsWith(`the primary ${MS2} gave no digest: mailstore ${MS2} does not answer`), on2.replicas[0].error);
  // With no params: every account with a replica, the stopped one reported for each.
  const all = await sys.admin("verifyReplicas");
  assert.equal(
    all.accounts.map((x: any) => x.account),
    ["busy@example.com", "lagging@example.com", "mixed@example.com", "moved@example.com", "on2@example.com", "quiet@example.com"],
  );
  for (const x of all.accounts) {
    const ms2 = x.replicas.find((y: any) => y.destination === MS2);
    if (ms2) assert.is(ms2.equal, null, x.account);
  }
});

test.run();
