// Replication under a mixed, concurrent write load (docs/architecture.md, Write path and Replication path): one account replicated
// live while 2,000 random mailbox writes run 32 at a time on its primary (so batches group
// several commands), and a second account whose replica is added only after its writes, so
// it seeds from the log. Both replicas must end with rows identical to the primary's.
// A failure prints its seed; MR_TEST_SEED=<seed> replays the same command sequence.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem } from "./helpers/system.js";
import type { MetadataStore } from "../src/store/index.js";
import { MailWorkload, firstDifference, logHead, prng, readAccountLog, readerKeyring, stopBounded, testSeed, waitReplicaCaughtUp } from "./helpers/workload.js";

const SEED = testSeed();
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const LIVE_TX = 2_000;
const SEEDED_TX = 400;
const IN_FLIGHT = 32;

let sys: TestSystem;
let ms2File: MetadataStore | undefined;
const ids = new Map<string, string>();
const loads = new Map<string, MailWorkload>();

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2] });
});
test.after(async () => {
  ms2File?.close();
  await stopBounded(sys);
});

const seedNote = `(seed ${SEED}; replay with MR_TEST_SEED=${SEED})`;

/** Compares the replica's SQLite file with the primary's for one account, row by row. */
async function assertReplicaEqualsPrimary(name: string): Promise<void> {
  const id = ids.get(name)!;
  const primary = sys.inProcess.get(MS1)!.store;
  // ms2 read through its own SQLite file (mailbox reads always go to the primary).
  ms2File ??= sys.openStore(MS2);
  const replica = ms2File;
  const head = await logHead(sys, id);
  const rs = replica.replicaState(id);
  assert.ok(rs, `ms2 has no replica_state row for ${name} ${seedNote}`);
  assert.is(rs!.role, "replica", `role of ${name} on ms2 ${seedNote}`);
  assert.is(rs!.status, "available", `status of ${name} on ms2: ${rs!.error} ${seedNote}`);
  assert.is(rs!.appliedSeq, head, `applied seq of ${name} on ms2 vs log head ${seedNote}`);
  assert.is(primary.replicaState(id)!.appliedSeq, head, `applied seq of ${name} on ms1 vs log head ${seedNote}`);

  const want = primary.dumpAccount(id);
  const got = replica.dumpAccount(id);
  assert.ok(want.account !== null && want.items.length > 0, `primary dump of ${name} is empty ${seedNote}`);
  const diff = firstDifference(got, want);
  assert.is(diff, undefined, `ms2's rows of ${name} differ from ms1's ${seedNote}: ${diff}`);

  // listItems totals: the account's and every folder's, primary (JSON-RPC) vs replica (SQLite).
  const all = await sys.mailbox("listItems", { account: name, limit: 1 });
  assert.is(replica.listItems(id, { limit: 1 }).total, all.total, `listItems total of ${name} ${seedNote}`);
  assert.is(all.total, want.items.length);
  const { folders } = await sys.mailbox("listFolders", { account: name });
  assert.equal(
    replica.listFolders(id).map((f) => [f.path, f.itemCount]),
    folders.map((f: { path: string; itemCount: number }) => [f.path, f.itemCount]),
    `folders and their item counts of ${name} ${seedNote}`,
  );
  for (const f of folders as Array<{ path: string }>) {
    const p = await sys.mailbox("listItems", { account: name, folder: f.path, limit: 1 });
    assert.is(replica.listItems(id, { folder: f.path, limit: 1 }).total, p.total, `listItems total of ${name} folder ${f.path} ${seedNote}`);
  }
}

test(`replication mixed - 2,000 concurrent mixed writes reach a live replica as identical rows ${seedNote}`, async () => {
  const rand = prng(SEED);
  for (const name of ["live@example.com", "seeded@example.com"]) {
    const acct = await sys.mailbox("createAccount", { name, mailHost: MS1 });
    ids.set(name, acct.id);
  }
  // The replica of live@ exists before the load: ms2 applies it as it is written.
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["live@example.com"] });
  const live = new MailWorkload(sys, "live@example.com", prng(rand() * 2 ** 32), { firstMessage: 0 });
  const seeded = new MailWorkload(sys, "seeded@example.com", prng(rand() * 2 ** 32), { firstMessage: 1_000_000 });
  loads.set("live@example.com", live);
  loads.set("seeded@example.com", seeded);
  // Both loads at once, so the stream interleaves the two accounts' entries.
  await Promise.all([live.run(LIVE_TX, IN_FLIGHT), seeded.run(SEEDED_TX, 8)]);
  console.log(`  ${live.summary()}\n  ${seeded.summary()}`);

  for (const w of [live, seeded]) {
    const total = w.stats.sent;
    assert.is(total, w === live ? LIVE_TX : SEEDED_TX);
    // Refusals come only from commands racing each other (an item deleted meanwhile...).
    assert.ok(w.stats.ok >= total * 0.6, `only ${w.stats.ok} of ${total} writes succeeded: ${w.summary()} ${seedNote}`);
    for (const code of Object.keys(w.stats.errors)) {
      assert.ok(["ITEM_NOT_FOUND", "FOLDER_NOT_FOUND", "FOLDER_EXISTS"].includes(code), `unexpected refusal ${code}: ${w.summary()} ${seedNote}`);
    }
    for (const op of ["deliverMessage", "setFlags", "moveItems", "deleteItems", "createFolder", "renameFolder", "deleteFolder"]) {
      assert.ok((w.stats.byOp[op]?.ok ?? 0) > 0, `no ${op} succeeded: ${w.summary()} ${seedNote}`);
    }
  }

  // Group commit happened: fewer log entries than acknowledged writes.
  const liveId = ids.get("live@example.com")!;
  const batches = await readAccountLog(sys, liveId, readerKeyring(sys, MS2));
  const events = batches.reduce((n, b) => n + b.batch.events.length, 0);
  console.log(`  live@: ${batches.length} log entries, ${events} events, largest batch ${Math.max(...batches.map((b) => b.batch.events.length))} events`);
  assert.ok(batches.length < live.stats.ok, `${batches.length} log entries for ${live.stats.ok} acknowledged writes: no group commit ${seedNote}`);
  for (let i = 1; i < batches.length; i++) assert.is(batches[i]!.batch.prev, batches[i - 1]!.seq, `prev of entry ${batches[i]!.seq}`);

  const { account, replica } = await waitReplicaCaughtUp(sys, "live@example.com", MS2);
  assert.is(replica.itemId, account.itemId, `last item id on ms2 vs ms1 ${seedNote}`);
  assert.is(account.sequence, batches[batches.length - 1]!.seq);
  await assertReplicaEqualsPrimary("live@example.com");
});

test(`replication mixed - a replica added after the writes seeds from the log into identical rows ${seedNote}`, async () => {
  const id = ids.get("seeded@example.com")!;
  assert.ok(ids.has("seeded@example.com") && loads.get("seeded@example.com")!.stats.ok > 0, "the first test wrote the account");
  // Nothing of it on ms2 yet: its entries went by while ms2 did not replicate it.
  assert.is(sys.inProcess.get(MS2)!.store.replicaState(id), undefined, "ms2 holds nothing of seeded@ before its replica is added");
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["seeded@example.com"] });
  const { account, replica } = await waitReplicaCaughtUp(sys, "seeded@example.com", MS2);
  assert.is(replica.itemId, account.itemId, `last item id on ms2 vs ms1 ${seedNote}`);
  await assertReplicaEqualsPrimary("seeded@example.com");

  // And it keeps up live after seeding; the live account stays equal too.
  const more = loads.get("seeded@example.com")!;
  await more.run(100, 8);
  await waitReplicaCaughtUp(sys, "seeded@example.com", MS2);
  await assertReplicaEqualsPrimary("seeded@example.com");
  await assertReplicaEqualsPrimary("live@example.com");
});

test.run();
