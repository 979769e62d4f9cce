// Failover with the source dead (docs/architecture.md, Promotion): ms1, the primary of a few
// accounts, runs as a child process and is killed -9 in the middle of a concurrent write load
// (deliveries and flag changes, sent both through mr.rpc.mailbox and straight to ms1). Once its
// heartbeat is gone, promoteAccounts source_mail_host ms1 moves every account to ms2 (priority
// 10, before ms3 at 20). Every write acknowledged before the kill must be on the new primary;
// writes resume there with growing item ids; and ms1, restarted, comes back as a replica that
// catches up to the same rows. A failure prints its seed; MR_TEST_SEED replays the kill point.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { sleep, waitFor } from "./helpers/processes.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { errorCode, firstDifference, intIn, logHead, prng, readAccountLog, readerKeyring, stopBounded, testSeed } from "./helpers/workload.js";
import { addReplicas, createAccounts, promote, promotedEntries, waitAlive, waitRoutesTo, waitStoreFile, withStoreFile } from "./helpers/promotion.js";

const SEED = testSeed();
const seedNote = `(seed ${SEED}; replay with MR_TEST_SEED=${SEED})`;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const NAMES = Array.from({ length: 4 }, (_, i) => `dead${i}@example.com`);
const WORKERS_PER_ACCOUNT = 4;

let sys: TestSystem;
const rand = prng(SEED);
/** name -> account id */
let ids = new Map<string, string>();

interface Delivered {
  account: string;
  itemId: number;
  blob: string;
  n: number;
}
/** acknowledged deliveries, by `<account>:<itemId>` */
const delivered = new Map<string, Delivered>();
/** acknowledged setFlags (each item is flagged at most once): `<account>:<itemId>` -> keyword */
const flagged = new Map<string, string>();
const failures: Record<string, number> = {};
let killedAtAck = -1;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2, MS3] });
  await sys.spawnMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startMailstore(MS3);
  await sys.startSupervisor();
  ids = await createAccounts(sys, NAMES, MS1, { messages: 2 });
  await addReplicas(sys, NAMES, MS2, 10);
  await addReplicas(sys, NAMES, MS3, 20);
});
test.after(async () => {
  await stopBounded(sys);
});

const key = (account: string, itemId: number) => `${account}:${itemId}`;

/**
 * WORKERS_PER_ACCOUNT workers per account deliver messages and flag some of the delivered
 * items, half the calls through mr.rpc.mailbox and half straight to ms1; ms1 is killed -9 once
 * `killAt` writes were acknowledged, and the load stops shortly after.
 */
async function loadAndKill(killAt: number): Promise<{ acked: number; ackedAfterKill: number }> {
  let acked = 0;
  let ackedAfterKill = 0;
  let killed: Promise<void> | undefined;
  let killDone = false;
  let stop = false;
  let messageNo = 1_000;
  const call = async (method: string, params: Record<string, unknown>): Promise<any> => {
    const subject = rand() < 0.5 ? "mr.rpc.mailbox" : `mr.node.${MS1}.mailbox`;
    try {
      const r = await rpcCall<any>(sys.nc, subject, method, params, { timeoutMs: 4_000 });
      acked++;
      if (killDone) ackedAfterKill++;
      if (!killed && acked >= killAt) {
        killedAtAck = acked;
        killed = sys.kill9(MS1).then(() => {
          killDone = true;
        });
      }
      return r;
    } catch (e) {
      const code = errorCode(e);
      failures[code] = (failures[code] ?? 0) + 1;
      return undefined;
    }
  };
  const workers = NAMES.flatMap((account) =>
    Array.from({ length: WORKERS_PER_ACCOUNT }, async () => {
      while (!stop) {
        const n = messageNo++;
        const d = await call("deliverMessage", { account, raw: rawMessage(n, account) });
        if (!d) {
          await sleep(20);
          continue;
        }
        assert.ok(Number.isInteger(d.itemId) && d.itemId > 0, `acknowledged delivery without an item id: ${JSON.stringify(d)}`);
        assert.not.ok(delivered.has(key(account, d.itemId)), `item ${d.itemId} of ${account} acknowledged twice ${seedNote}`);
        delivered.set(key(account, d.itemId), { account, itemId: d.itemId, blob: d.blob, n });
        if (rand() < 0.5) {
          const word = `k${n}`;
          const f = await call("setFlags", { account, ids: [d.itemId], flags: ["seen", word] });
          if (f) flagged.set(key(account, d.itemId), word);
        }
      }
    }),
  );
  const stopper = (async () => {
    await waitFor("ms1 killed", () => killedAtAck > 0, 60_000, 10);
    await killed;
    await sleep(500);
    stop = true;
  })();
  await Promise.all([...workers, stopper]);
  return { acked, ackedAfterKill };
}

test(`promotion source dead - every write acknowledged before a kill -9 of the primary is on the new primary after promoteAccounts source_mail_host ${seedNote}`, async () => {
  const killAt = intIn(rand, 30, 150);
  const r = await loadAndKill(killAt);
  console.log(
    `  load: ${r.acked} acknowledged (kill at ${killedAtAck}, ${r.ackedAfterKill} after it), ${delivered.size} deliveries, ${flagged.size} flag changes; failures ${JSON.stringify(failures)}`,
  );
  assert.ok(killedAtAck > 0, "ms1 was killed during the load");

  await waitAlive(sys, MS1, false);
  const m = await promote(sys, { source_mail_host: MS1 });
  assert.is(m.state, "successful", `promotion failed: ${JSON.stringify(m.failed)} ${seedNote}`);
  assert.is(m.total, NAMES.length);
  assert.equal(m.failed, []);
  assert.equal(m.promoted.map((p) => p.account).sort(), [...NAMES].sort());
  for (const p of m.promoted) {
    assert.is(p.to, MS2, `${p.account} goes to the replica with the lowest priority number`);
    assert.is(p.from, MS1);
    assert.is(p.epoch, 2);
  }
  const st = await sys.admin("getAccountStatus", { accounts: NAMES });
  for (const a of st.accounts) {
    assert.is(a.accountMailHost, MS2, `directory primary of ${a.accountName}`);
    assert.is(a.epoch, 2, `directory epoch of ${a.accountName}`);
    assert.equal(a.replicas.map((x: { destination: string }) => x.destination).sort(), [MS1, MS3], `${a.accountName}: ms1 stays listed as a replica`);
  }

  const ms2 = sys.inProcess.get(MS2)!;
  const keyring = readerKeyring(sys, MS2);
  for (const name of NAMES) {
    const id = ids.get(name)!;
    const rs = ms2.store.replicaState(id)!;
    assert.is(rs.role, "primary", `${name}: ms2's role`);
    assert.is(rs.epoch, 2, `${name}: ms2's epoch`);
    // The log: one Promoted, by ms2, at the head it drained; every acknowledged write before it.
    const batches = await readAccountLog(sys, id, keyring);
    const promoted = promotedEntries(batches);
    assert.is(promoted.length, 1, `${name}: one Promoted in the log`);
    assert.equal([promoted[0]!.epoch, promoted[0]!.host, promoted[0]!.writer], [2, MS2, MS2]);
    assert.is(rs.appliedSeq, promoted[0]!.seq, `${name}: ms2 applied up to its Promoted`);
    const logged = new Map<number, number>();
    for (const { seq, batch } of batches) for (const e of batch.events) if (e.t === "message.delivered") logged.set(e.itemId, seq);
    const mine = [...delivered.values()].filter((d) => d.account === name);
    const notBefore = mine.filter((d) => !(logged.get(d.itemId)! < promoted[0]!.seq)).map((d) => d.itemId);
    assert.equal(notBefore, [], `${name}: acknowledged deliveries not in the log before Promoted ${seedNote}`);
    // The new primary's rows: every acknowledged delivery and flag change, and nothing the log lacks.
    const missing: string[] = [];
    for (const d of mine) {
      try {
        const item = ms2.store.getItem(id, d.itemId);
        if (item.blob !== d.blob || item.subject !== `message ${d.n}`) missing.push(`${d.itemId} (other content)`);
        const word = flagged.get(key(name, d.itemId));
        if (word && !(item.flags.includes("seen") && item.tags.includes(word)))
          missing.push(`${d.itemId} (flags ${JSON.stringify(item.flags)}, tags ${JSON.stringify(item.tags)}; set seen, ${word})`);
      } catch (e) {
        missing.push(`${d.itemId} (${(e as Error).message})`);
      }
    }
    assert.equal(missing, [], `${name}: acknowledged writes missing on the new primary ${seedNote}`);
    const onMs2 = ms2.store
      .dumpAccount(id)
      .items.map((i) => i.id)
      .sort((a, b) => a - b);
    assert.equal(
      onMs2,
      [...logged.keys()].sort((a, b) => a - b),
      `${name}: ms2's items are the log's deliveries ${seedNote}`,
    );
  }
});

test(`promotion source dead - writes resume on the new primary with growing item ids; the other replica follows it ${seedNote}`, async () => {
  const ms2 = sys.inProcess.get(MS2)!;
  await waitRoutesTo(sys, ids.values(), MS2);
  for (const name of NAMES) {
    const id = ids.get(name)!;
    const before = ms2.store.accountSummary(id)!.lastItemId ?? 0;
    const d = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(90_000, name) });
    assert.ok(d.itemId > before, `${name}: new item id ${d.itemId} above the last one ${before}`);
    const again = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(90_001, name) });
    assert.ok(again.itemId > d.itemId, `${name}: item ids keep growing`);
    await sys.mailbox("setFlags", { account: name, ids: [d.itemId], flags: ["flagged"] });
    assert.equal(ms2.store.getItem(id, d.itemId).flags, ["flagged"]);
    const head = await logHead(sys, id);
    assert.is(ms2.store.replicaState(id)!.appliedSeq, head, `${name}: ms2 writes the log head`);
  }
  const ms3 = sys.inProcess.get(MS3)!;
  for (const id of ids.values()) {
    await waitFor(`ms3's copy of ${id} equals ms2's`, () => JSON.stringify(ms3.store.dumpAccount(id)) === JSON.stringify(ms2.store.dumpAccount(id)));
    assert.is(ms3.store.replicaState(id)!.epoch, 2);
  }
});

test(`promotion source dead - the restarted old primary becomes a replica and catches up to the new primary's rows ${seedNote}`, async () => {
  await sys.spawnMailstore(MS1);
  const ms2 = sys.inProcess.get(MS2)!;
  // A write after its return must reach it too, as a replica.
  for (const name of NAMES) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(90_002, name) });
  const heads = new Map<string, number>();
  for (const id of ids.values()) heads.set(id, await logHead(sys, id));
  await waitStoreFile(
    sys,
    MS1,
    "ms1 applied every account log to its head",
    (s) => [...ids.values()].every((id) => s.replicaState(id)?.appliedSeq === heads.get(id)),
    30_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; ms1 log:\n${sys.log(MS1).slice(-3000)}`);
  });
  withStoreFile(sys, MS1, (s) => {
    for (const [name, id] of ids) {
      const rs = s.replicaState(id)!;
      assert.is(rs.role, "replica", `${name}: ms1's role`);
      assert.is(rs.epoch, 2, `${name}: ms1's epoch`);
      assert.is(rs.status, "available", `${name}: ms1's replica status (${rs.error})`);
      const diff = firstDifference(ms2.store.dumpAccount(id), s.dumpAccount(id));
      assert.is(diff, undefined, `${name}: ms1's rows differ from ms2's: ${diff} ${seedNote}`);
    }
  });
  // Nothing in any log after the Promoted was written by ms1.
  const keyring = readerKeyring(sys, MS2);
  for (const [name, id] of ids) {
    const batches = await readAccountLog(sys, id, keyring);
    const p = promotedEntries(batches)[0]!;
    const late = batches.filter((b) => b.seq > p.seq && (b.batch.writer === MS1 || b.batch.epoch < 2)).map((b) => b.seq);
    assert.equal(late, [], `${name}: entries after Promoted written by ms1 or with an older epoch`);
  }
  const st = await sys.admin("getAccountStatus", { accounts: NAMES });
  for (const a of st.accounts) {
    const r = a.replicas.find((x: { destination: string }) => x.destination === MS1);
    assert.ok(r?.available, `${a.accountName}: ms1's replica available in getAccountStatus: ${JSON.stringify(r)}`);
  }
});

test.run();
