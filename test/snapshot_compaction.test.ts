// Snapshots, fast seeding and compaction against a real system (nats-server, three in-process
// mailstores, the supervisor). Nothing is automatic here (snapshots.* and
// retention.compactEveryMs are 0): each test takes snapshots and compacts by calling them, so
// what each step sees is certain.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { MailWorkload, firstDifference, prng, testSeed, waitReplicaCaughtUp } from "./helpers/workload.js";
import { directoryRecord } from "./helpers/promotion.js";
import { waitFor } from "./helpers/processes.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { nodeAdminSubject } from "../src/protocol/subjects.js";
import type { TakenSnapshot } from "../src/protocol/node_api.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { sealSnapshot } from "../src/snapshot/snapshot_codec.js";
import { encode } from "../src/codec/index.js";
import { snapshotOf } from "../src/snapshot/account_snapshot.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
let sys: TestSystem;
const seed = testSeed();

test.before(async () => {
  sys = await TestSystem.startRunning({
    hosts: [MS1, MS2, MS3],
    config: (c) => {
      c.snapshots = { everyEntries: 0, everyMs: 0 };
      c.retention = { keepDays: 0, compactEveryMs: 0 };
    },
  });
});
test.after(async () => {
  await sys?.stop();
});

function snapshot(host: string, accountId: string): Promise<TakenSnapshot> {
  return rpcCall<TakenSnapshot>(sys.nc, nodeAdminSubject(host), "snapshotAccount", { account: accountId }, { timeoutMs: 30_000 });
}

/** The first seq the account's log still holds. */
async function firstLogSeq(accountId: string): Promise<number> {
  const jsm = await jetstreamManager(sys.nc);
  const m = await jsm.direct.getMessage(sys.config.jetstream.streams.tx, { next_by_subj: `mr.tx.${accountId}` });
  return m?.seq ?? 0;
}

function dump(host: string, accountId: string): unknown {
  return sys.inProcess.get(host)!.store.dumpAccount(accountId);
}

function assertEqualCopies(accountId: string, a: string, b: string): void {
  const diff = firstDifference(dump(a, accountId), dump(b, accountId));
  assert.is(diff, undefined, `${a} and ${b} differ at ${diff}`);
}

async function workload(name: string, calls: number, rand: () => number, firstMessage: number): Promise<void> {
  const w = new MailWorkload(sys, name, rand, { firstMessage });
  await w.run(calls, 4);
  assert.ok(w.stats.ok > calls / 2, w.summary());
}

test("snapshot - a replica seeded from a snapshot plus the tail equals one that replayed the whole log (mixed workload, request records)", async () => {
  const name = "snap-mixed@example.com";
  const rand = prng(seed);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await workload(name, 120, rand, 0);
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(9001, name), requestId: "snap-req-1" });
  const taken = await snapshot(MS1, id);
  assert.is(taken.existing, false);
  assert.ok((taken.items ?? 0) > 0, JSON.stringify(taken));
  assert.is(taken.seq, sys.inProcess.get(MS1)!.store.replicaState(id)!.appliedSeq);
  // Asked again at the same seq: the stored one is named, nothing new is written.
  assert.is((await snapshot(MS1, id)).existing, true);
  await workload(name, 60, rand, 1000);

  const seededBefore = sys.inProcess.get(MS3)!.agent.stats.seeded;
  await sys.admin("setAccountDestination", { destination: MS3, priority: 20, accounts: name });
  await waitReplicaCaughtUp(sys, name, MS3);
  await waitReplicaCaughtUp(sys, name, MS2);
  assert.is(sys.inProcess.get(MS3)!.agent.stats.seeded, seededBefore + 1, "ms3 was seeded from the snapshot");
  assertEqualCopies(id, MS1, MS3);
  assertEqualCopies(id, MS2, MS3);
  // The request record came with the snapshot: a retry is answered from it on the new copy too.
  assert.ok(sys.inProcess.get(MS3)!.store.recordedRequest(id, "snap-req-1"), "request record in the seeded copy");
  const verified = await sys.admin("verifyReplicas", { accounts: name });
  assert.ok(
    verified.accounts[0].replicas.every((r: { equal: boolean }) => r.equal),
    JSON.stringify(verified),
  );
});

test("compaction - the log below the snapshot is removed during writes; a new replica seeds from the snapshot and equals the primary", async () => {
  const name = "snap-compact@example.com";
  const rand = prng(seed + 1);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await workload(name, 80, rand, 0);
  const taken = await snapshot(MS1, id);
  // Writes go on while the supervisor compacts.
  const writing = workload(name, 60, rand, 1000);
  const compacted = await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id));
  await writing;
  assert.ok(compacted, "compacted");
  assert.is(compacted!.seq, taken.seq);
  assert.ok(compacted!.entries > 0, JSON.stringify(compacted));
  assert.is(await firstLogSeq(id), taken.seq, "the log starts at the snapshot's entry");
  // The primary keeps writing after the compaction (its last entry is still in the log).
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(9100, name) });

  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await waitReplicaCaughtUp(sys, name, MS2);
  assertEqualCopies(id, MS1, MS2);
  // A second snapshot and compaction removes the first snapshot.
  await workload(name, 20, rand, 2000);
  const second = await snapshot(MS1, id);
  const again = await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id));
  assert.is(again?.seq, second.seq);
  assert.is(again?.snapshotsRemoved, 1);
  assert.equal(
    (await sys.inProcess.get(MS1)!.assets.snapshots.list(id)).map((s) => s.seq),
    [second.seq],
  );
});

test("compaction - during a re-seeding catch-up, with writes going on: the replica ends equal to the primary", async () => {
  const name = "snap-during@example.com";
  const rand = prng(seed + 5);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await workload(name, 80, rand, 0);
  await snapshot(MS1, id);
  await waitReplicaCaughtUp(sys, name, MS2);
  // The replica drops its copy and seeds again while the primary writes, snapshots and the log is compacted.
  await Promise.all([
    sys.admin("restartReplicas", { accounts: name, destination: MS2 }),
    (async () => {
      await workload(name, 30, rand, 1000);
      await snapshot(MS1, id);
      await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id));
      await workload(name, 20, rand, 2000);
    })(),
  ]);
  await waitReplicaCaughtUp(sys, name, MS2);
  assertEqualCopies(id, MS1, MS2);
});

test("compaction - a replica down across a compaction seeds itself from the snapshot when it comes back", async () => {
  const name = "snap-down@example.com";
  const rand = prng(seed + 2);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.admin("setAccountDestination", { destination: MS3, priority: 10, accounts: name });
  await workload(name, 30, rand, 0);
  await waitReplicaCaughtUp(sys, name, MS3);
  await sys.inProcess.get(MS3)!.stop();
  sys.inProcess.delete(MS3);

  await workload(name, 60, rand, 1000);
  const taken = await snapshot(MS1, id);
  await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id));
  assert.is(await firstLogSeq(id), taken.seq);
  await workload(name, 20, rand, 2000);

  const ms3 = await sys.startMailstore(MS3);
  await waitReplicaCaughtUp(sys, name, MS3);
  assert.ok(ms3.agent.stats.seeded >= 1, "seeded from the snapshot");
  assert.is(ms3.store.replicaState(id)!.status, "available");
  assertEqualCopies(id, MS1, MS3);
});

test("compaction - without a snapshot nothing is removed, and a replica whose missing entries no snapshot covers is unavailable, never available over them", async () => {
  const name = "snap-none@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  for (let i = 0; i < 5; i++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  assert.is(await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id)), undefined);
  const first = await firstLogSeq(id);
  assert.ok(first > 0);
  // Removed by hand below the head (no snapshot): a new replica must not report available.
  const jsm = await jetstreamManager(sys.nc);
  const head = sys.inProcess.get(MS1)!.store.replicaState(id)!.appliedSeq;
  await jsm.streams.purge(sys.config.jetstream.streams.tx, { filter: `mr.tx.${id}`, seq: head });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name }).catch(() => undefined);
  await waitFor("the replica unavailable, naming the missing entries", () => {
    const rs = sys.inProcess.get(MS2)!.store.replicaState(id);
    return rs?.status === "unavailable" && /missing from the log/.test(rs.error ?? "") ? rs : undefined;
  });
});

test("snapshot - a half-written snapshot and one sealed by another trusted mailstore are never loaded nor compacted below; the older good one is", async () => {
  const name = "snap-forged@example.com";
  const rand = prng(seed + 3);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await workload(name, 30, rand, 0);
  const good = await snapshot(MS1, id);
  await workload(name, 10, rand, 1000);
  const head = sys.inProcess.get(MS1)!.store.replicaState(id)!.appliedSeq;
  const snapshots = sys.inProcess.get(MS1)!.assets.snapshots;
  // ms2 is a trusted mailstore but not the account's primary: it seals a snapshot claiming to be.
  const ms2 = sys.inProcess.get(MS2)!;
  const exported = sys.inProcess.get(MS1)!.store.exportAccountState(id)!;
  const forged = snapshotOf(
    id,
    MS2,
    Date.now(),
    { ...exported.state, account: { ...exported.state.account, mailHost: MS2 } },
    { ...exported.position, primaryHost: MS2 },
  );
  await snapshots.write(id, head, sealSnapshot(ms2.keyring, forged));
  // A writer that died half-way: a manifest announcing two chunks, and one chunk.
  const js = jetstream(sys.nc);
  const half = `mr.snap.${id}.${head + 1}`;
  await js.publish(half, encode({ v: 1, bytes: 10, chunks: 2, sha256: "00".repeat(32) }), { expect: { lastSubjectSequence: 0 } });
  await js.publish(half, new Uint8Array(5));
  assert.equal(
    (await snapshots.list(id)).map((s) => s.seq),
    [good.seq, head, head + 1],
  );

  // The compactor stops at the good snapshot: the forged one is not the primary's.
  const compacted = await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id));
  assert.is(compacted?.seq, good.seq);
  // A new replica skips both and seeds from the good one, then applies the tail.
  await sys.admin("setAccountDestination", { destination: MS3, priority: 10, accounts: name });
  await waitReplicaCaughtUp(sys, name, MS3);
  assertEqualCopies(id, MS1, MS3);
});

test("compaction - a primary whose copy is older than the compacted log (an old backup, a lost data folder) starts from the snapshot and serves every acknowledged write", async () => {
  const name = "snap-primary-lost@example.com";
  const rand = prng(seed + 4);
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await workload(name, 20, rand, 0);
  const restart = async (change: () => void) => {
    await sys.inProcess.get(MS1)!.stop();
    sys.inProcess.delete(MS1);
    change();
    return sys.startMailstore(MS1);
  };
  const backup = join(sys.root, "ms1-backup");
  await restart(() => cpSync(sys.dataDir(MS1), backup, { recursive: true }));
  await workload(name, 20, rand, 1000);
  await snapshot(MS1, id);
  assert.ok(await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id)));
  await workload(name, 10, rand, 2000);
  const before = dump(MS1, id);

  // The backup: applied up to a seq the log no longer follows.
  let ms1 = await restart(() => {
    rmSync(sys.dataDir(MS1), { recursive: true, force: true });
    cpSync(backup, sys.dataDir(MS1), { recursive: true });
  });
  assert.equal(ms1.store.dumpAccount(id), before);
  // No data folder at all.
  ms1 = await restart(() => rmSync(sys.dataDir(MS1), { recursive: true, force: true }));
  assert.equal(ms1.store.dumpAccount(id), before);
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(9300, name) });
});

test.run();
