// kill -9 of a primary (docs/architecture.md, Write path and Promotion): ms1, the primary, runs as a child
// process and is killed in the middle of a burst of concurrent deliveries. A write is
// acknowledged to its caller only after JetStream stored it, so every delivery whose call
// returned an itemId must be in the account log, and the replica ms2 must hold it once it has
// applied the log to its head. Calls that failed or timed out may be either present or absent.
// Done twice (ms1 restarted in between, killed at another point), then ms1 must carry on
// from the log. A failure prints its seed; MR_TEST_SEED replays the same kill points.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import type { MessageDeliveredEvent } from "../src/mail/index.js";
import {
  errorCode,
  firstDifference,
  intIn,
  logHead,
  prng,
  readAccountLog,
  readerKeyring,
  stopBounded,
  testSeed,
  waitReplicaCaughtUp,
} from "./helpers/workload.js";

const SEED = testSeed();
const seedNote = `(seed ${SEED}; replay with MR_TEST_SEED=${SEED})`;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ACCOUNT = "burst@example.com";
const BURST = 500;
const IN_FLIGHT = 64;

let sys: TestSystem;
let accountId = "";
const rand = prng(SEED);
/** every acknowledged delivery of every round: itemId -> { blob, n } (n: the rawMessage number) */
const acknowledged = new Map<number, { blob: string; n: number; round: number }>();
let nextMessage = 0;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  await sys.spawnMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startSupervisor();
  accountId = (await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 })).id;
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: [ACCOUNT] });
  await waitReplicaCaughtUp(sys, ACCOUNT, MS2);
});
test.after(async () => {
  await stopBounded(sys);
});

interface RoundResult {
  acked: number;
  failed: Record<string, number>;
  notSent: number;
  ackedAfterKill: number;
  killedAtAck: number;
}

/**
 * Sends BURST deliveries, IN_FLIGHT at a time, and kill -9s ms1 as soon as `killAt` of them
 * were acknowledged. Half the calls go through mr.rpc.mailbox (either mailstore takes them and
 * routes them to ms1), half straight to ms1's own subject.
 */
async function burstAndKill(round: number, killAt: number): Promise<RoundResult> {
  const res: RoundResult = { acked: 0, failed: {}, notSent: 0, ackedAfterKill: 0, killedAtAck: -1 };
  let killed: Promise<void> | undefined;
  let started = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, w) => {
      while (started < BURST) {
        if (killed) {
          res.notSent = BURST - started;
          return;
        }
        started++;
        const n = nextMessage++;
        const subject = (n + w) % 2 === 0 ? "mr.rpc.mailbox" : `mr.node.${MS1}.mailbox`;
        try {
          const r = await rpcCall<{ itemId: number; blob: string; folder: string }>(
            sys.nc,
            subject,
            "deliverMessage",
            { account: ACCOUNT, raw: rawMessage(n, ACCOUNT) },
            { timeoutMs: 4_000 },
          );
          assert.ok(Number.isInteger(r.itemId) && r.itemId > 0, `acknowledged delivery without an itemId: ${JSON.stringify(r)}`);
          assert.not.ok(
            acknowledged.has(r.itemId),
            `item id ${r.itemId} acknowledged twice (round ${round}, message ${n} and ${acknowledged.get(r.itemId)?.n}) ${seedNote}`,
          );
          acknowledged.set(r.itemId, { blob: r.blob, n, round });
          res.acked++;
          if (killed) res.ackedAfterKill++;
          if (!killed && res.acked >= killAt) {
            res.killedAtAck = res.acked;
            killed = sys.kill9(MS1);
          }
        } catch (e) {
          if ((e as Error).name === "Assertion") throw e;
          const code = errorCode(e);
          res.failed[code] = (res.failed[code] ?? 0) + 1;
        }
      }
    }),
  );
  await killed;
  return res;
}

/** Checks every acknowledged delivery against the log and against ms2's store. */
async function checkAcknowledgedDurable(label: string): Promise<void> {
  // 1. In the log: opened with ms2's keyring, which trusts ms1's key from its key file.
  const batches = await readAccountLog(sys, accountId, readerKeyring(sys, MS2));
  const logged = new Map<number, MessageDeliveredEvent>();
  for (const { seq, batch } of batches) {
    assert.is(batch.account, accountId);
    for (const ev of batch.events) {
      if (ev.t !== "message.delivered") continue;
      assert.not.ok(logged.has(ev.itemId), `${label}: item id ${ev.itemId} delivered twice in the log (again at seq ${seq}) ${seedNote}`);
      logged.set(ev.itemId, ev);
    }
  }
  const missingInLog = [...acknowledged].filter(([id, a]) => logged.get(id)?.blob !== a.blob).map(([id]) => id);
  assert.equal(missingInLog, [], `${label}: acknowledged deliveries missing from the log (or with another blob) ${seedNote}`);

  // 2. In ms2's store, once ms2 has applied the log to its head.
  const head = await logHead(sys, accountId);
  assert.is(head, batches[batches.length - 1]!.seq);
  const ms2 = sys.inProcess.get(MS2)!;
  await waitFor(`${label}: ms2 applied the log to its head ${head}`, () => {
    const rs = ms2.store.replicaState(accountId);
    if (rs?.status === "unavailable") throw new Error(`ms2's replica is unavailable: ${rs.error}`);
    return rs !== undefined && rs.appliedSeq === head;
  });
  const missingOnMs2: number[] = [];
  for (const [id, a] of acknowledged) {
    try {
      const item = ms2.store.getItem(accountId, id);
      if (item.blob !== a.blob || item.folder !== "Inbox" || item.subject !== `message ${a.n}`) missingOnMs2.push(id);
    } catch {
      missingOnMs2.push(id);
    }
  }
  assert.equal(missingOnMs2, [], `${label}: acknowledged deliveries missing on ms2 ${seedNote}`);
  // ms2 holds exactly what the log holds, no more.
  const onMs2 = ms2.store
    .dumpAccount(accountId)
    .items.map((i) => i.id)
    .sort((x, y) => x - y);
  assert.equal(
    onMs2,
    [...logged.keys()].sort((x, y) => x - y),
    `${label}: ms2's items vs the log's deliveries ${seedNote}`,
  );
  // The bodies are in centralized storage (put before the batch that references them).
  const sample = [...acknowledged].filter((_, i) => i % 25 === 0);
  for (const [id, a] of sample) {
    const body = new TextDecoder().decode(await ms2.blobs.get(a.blob));
    assert.is(body, rawMessage(a.n, ACCOUNT), `${label}: body of item ${id} in centralized storage`);
  }
}

function describe(r: RoundResult): string {
  return `${r.acked} acknowledged (${r.ackedAfterKill} after the kill was sent at ${r.killedAtAck}), failed ${JSON.stringify(r.failed)}, ${r.notSent} not sent`;
}

test(`replication primary crash - every delivery acknowledged before a kill -9 of the primary is in the log and on the replica ${seedNote}`, async () => {
  const r = await burstAndKill(1, intIn(rand, 50, BURST - IN_FLIGHT));
  console.log(`  round 1: ${describe(r)}`);
  assert.ok(r.killedAtAck > 0, `ms1 was never killed: ${describe(r)}`);
  await checkAcknowledgedDurable("round 1");
});

test(`replication primary crash - a restarted primary carries on from the log, and a second kill loses nothing either ${seedNote}`, async () => {
  await sys.spawnMailstore(MS1);
  // Its first write replays what it had not applied yet, so item ids continue after the log's.
  const maxLogged = Math.max(
    ...(await readAccountLog(sys, accountId, readerKeyring(sys, MS2))).flatMap((b) => b.batch.events.map((e) => (e.t === "message.delivered" ? e.itemId : 0))),
  );
  const first = await waitFor(
    "ms1 takes writes again",
    async () => {
      try {
        const n = nextMessage++;
        const res = await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(n, ACCOUNT) }, 10_000);
        acknowledged.set(res.itemId, { blob: res.blob, n, round: 2 });
        return res;
      } catch (e) {
        throw new Error(`${(e as Error).message}; ms1 log:\n${sys.log(MS1)}`);
      }
    },
    30_000,
    200,
  );
  assert.ok(first.itemId > maxLogged, `restarted ms1 gave item id ${first.itemId}, not above the logged ${maxLogged} ${seedNote}`);

  const r = await burstAndKill(2, intIn(rand, 20, BURST - IN_FLIGHT));
  console.log(`  round 2: ${describe(r)}`);
  assert.ok(r.killedAtAck > 0, `ms1 was never killed: ${describe(r)}`);
  await checkAcknowledgedDurable("round 2");

  // Back once more: ms1 applies what it missed and ends with ms2's rows.
  await sys.spawnMailstore(MS1);
  const n = nextMessage++;
  const last = await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(n, ACCOUNT) }, 20_000);
  acknowledged.set(last.itemId, { blob: last.blob, n, round: 3 });
  await waitReplicaCaughtUp(sys, ACCOUNT, MS2);
  await checkAcknowledgedDurable("after restart");
  const ms1File = sys.openStore(MS1);
  try {
    const head = await logHead(sys, accountId);
    assert.is(ms1File.replicaState(accountId)?.appliedSeq, head, `ms1's applied seq after restart ${seedNote}`);
    const diff = firstDifference(sys.inProcess.get(MS2)!.store.dumpAccount(accountId), ms1File.dumpAccount(accountId));
    assert.is(diff, undefined, `ms2's rows differ from the restarted ms1's ${seedNote}: ${diff}`);
  } finally {
    ms1File.close();
  }
});

test.run();
