// kill -9 of a replica (docs/architecture.md, Replication path): the destination mailstore ms2 runs as a child process and
// is killed while it applies, twice: once while it follows the live writes, once while it
// catches up on restart. The primary keeps writing meanwhile. After the last restart the
// replica must hold exactly the primary's rows: nothing missing, nothing applied twice, and
// its applied seq at the log head. A failure prints its seed; MR_TEST_SEED replays it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { TestSystem } from "./helpers/system.js";
import { sleep, spawnCli, waitFor } from "./helpers/processes.js";
import type { MetadataStore } from "../src/store/index.js";
import { MailWorkload, firstDifference, intIn, logHead, prng, stopBounded, testSeed, waitReplicaCaughtUp } from "./helpers/workload.js";

const SEED = testSeed();
const seedNote = `(seed ${SEED}; replay with MR_TEST_SEED=${SEED})`;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ACCOUNT = "crash@example.com";

let sys: TestSystem;
let ms2File: MetadataStore | undefined;
let accountId = "";

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  await sys.startMailstore(MS1);
  await sys.spawnMailstore(MS2);
  await sys.startSupervisor();
});
test.after(async () => {
  ms2File?.close();
  await stopBounded(sys);
});

/** ms2's applied seq of the account, read from its SQLite file (0 before the row exists). */
function appliedOnMs2(): number {
  ms2File ??= sys.openStore(MS2);
  return ms2File.replicaState(accountId)?.appliedSeq ?? 0;
}

/** Polls ms2's file until its applied seq changes twice in a row (it is applying now), below `below` when given. */
async function waitApplying(what: string, below = Number.POSITIVE_INFINITY, timeoutMs = 20_000): Promise<number> {
  let prev = appliedOnMs2();
  let moves = 0;
  return waitFor(
    what,
    () => {
      const now = appliedOnMs2();
      if (now !== prev && now < below) moves++;
      else if (now === prev) moves = 0;
      prev = now;
      return moves >= 2 ? now : 0;
    },
    timeoutMs,
    2,
  );
}

/**
 * Starts ms2 as a child process like TestSystem.spawnMailstore, but returns at once instead of
 * waiting for "started": a mailstore catches up on its accounts before it says so, and this
 * test kills it in the middle of that.
 */
function spawnWithoutWaiting(host: string): { child: ChildProcess; output: () => string } {
  // The very environment TestSystem gives its children, so both starts match.
  const env = sys.childEnv();
  const child = spawnCli(["mailstore", "--host", host, "--data", sys.dataDir(host)], { env });
  let out = "";
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  sys.processes.set(host, child); // so sys.kill9 and sys.stop handle it
  return { child, output: () => out };
}

test(`replication replica crash - kill -9 of the replica while it applies, live and during catch-up, loses and duplicates nothing ${seedNote}`, async () => {
  const rand = prng(SEED);
  accountId = (await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 })).id;
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: [ACCOUNT] });
  await waitReplicaCaughtUp(sys, ACCOUNT, MS2);

  // Writes go straight to the primary's own subject: ms2 also serves mr.rpc.mailbox, and a
  // request it was routing when killed would only time out, which is not what this tests.
  const load = new MailWorkload(sys, ACCOUNT, prng(rand() * 2 ** 32), { subject: `mr.node.${MS1}.mailbox` });
  let writing = true;
  let inFlight = 8;
  // A steady load on the primary for the whole test; a few writers, so batches stay small and
  // the log gets many entries to apply.
  const running = Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      while (writing) {
        if (i >= inFlight) {
          await sleep(5);
          continue;
        }
        await load.one();
      }
    }),
  );
  const acked = () => load.stats.ok;
  const notes: string[] = [];
  try {
    // 1. Kill while ms2 follows the live writes.
    const first = intIn(rand, 50, 400);
    await waitFor(`${first} writes acknowledged`, () => acked() >= first, 20_000);
    const at1 = await waitApplying("ms2 applying live writes");
    await sys.kill9(MS2);
    const after1 = appliedOnMs2();
    notes.push(`kill 1 (live): applied seq ${at1} seen, ${after1} after the kill, log head ${await logHead(sys, accountId)}`);

    // Writes go on while ms2 is down: a backlog for its catch-up. Fewer writers now, so more entries.
    inFlight = 2;
    const backlog = intIn(rand, 400, 700);
    const okBefore = acked();
    await waitFor(`${backlog} more writes while ms2 is down`, () => acked() >= okBefore + backlog, 30_000);
    inFlight = 4;

    // 2. Kill while ms2 catches up on restart (before it even says it started).
    const headAtRestart = await logHead(sys, accountId);
    const from = appliedOnMs2();
    const restarted = spawnWithoutWaiting(MS2);
    const skip = intIn(rand, 1, Math.max(1, Math.floor((headAtRestart - from) / 40)));
    let at2: number;
    try {
      at2 = await waitApplying("ms2 applying its backlog after the restart", Number.POSITIVE_INFINITY, 30_000);
      // Let it apply a seeded number of entries more before the kill.
      const target = at2 + skip;
      await waitFor("a few more entries applied", () => appliedOnMs2() >= target || restarted.child.exitCode !== null, 10_000, 2);
    } catch (e) {
      throw new Error(`${(e as Error).message}; ms2 output:\n${restarted.output()}`);
    }
    const started = restarted.output().includes(`mailstore ${MS2} started`);
    const at2b = appliedOnMs2();
    await sys.kill9(MS2);
    notes.push(
      `kill 2 (${at2b < headAtRestart ? "catch-up" : "live"}${started ? ", after start" : ", before start"}): applied seq ${from} at restart, ${at2b} at the kill, ${appliedOnMs2()} after it; log head at restart ${headAtRestart}`,
    );

    // A little more writing while ms2 is down again, then ms2 comes back for good.
    const okBefore2 = acked();
    await waitFor("more writes while ms2 is down", () => acked() >= okBefore2 + intIn(rand, 20, 100), 30_000);
    await sys.spawnMailstore(MS2);
    const okBefore3 = acked();
    await waitFor("writes with ms2 back", () => acked() >= okBefore3 + 100, 30_000);
  } finally {
    writing = false;
    await running;
  }
  console.log(`  ${load.summary()}\n  ${notes.join("\n  ")}`);
  assert.ok(load.stats.ok >= load.stats.sent * 0.6, `the load mostly failed: ${load.summary()} ${seedNote}`);
  for (const code of Object.keys(load.stats.errors)) {
    assert.ok(["ITEM_NOT_FOUND", "FOLDER_NOT_FOUND", "FOLDER_EXISTS"].includes(code), `unexpected refusal ${code}: ${load.summary()} ${seedNote}`);
  }

  const { account, replica } = await waitReplicaCaughtUp(sys, ACCOUNT, MS2, 30_000);
  assert.is(replica.status, "available", `${replica.error} ${seedNote}`);
  assert.is(replica.itemId, account.itemId, `last item id on ms2 vs ms1 ${seedNote}`);

  const head = await logHead(sys, accountId);
  assert.is(account.sequence, head);
  const rs = ms2File!.replicaState(accountId)!;
  assert.is(rs.appliedSeq, head, `ms2's applied seq vs the log head ${seedNote}`);
  assert.is(rs.status, "available", `ms2's replica status: ${rs.error} ${seedNote}`);

  const want = sys.inProcess.get(MS1)!.store.dumpAccount(accountId);
  const got = ms2File!.dumpAccount(accountId);
  // No missing and no duplicate row: the sets of ids, then every column.
  const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id);
  const itemIds = ids(got.items);
  assert.is(new Set(itemIds).size, itemIds.length, `duplicate item ids on ms2 ${seedNote}`);
  assert.equal(
    itemIds.filter((i) => !ids(want.items).includes(i)),
    [],
    `items on ms2 that ms1 does not have ${seedNote}`,
  );
  assert.equal(
    ids(want.items).filter((i) => !itemIds.includes(i)),
    [],
    `items of ms1 missing on ms2 ${seedNote}`,
  );
  assert.equal(ids(got.folders), ids(want.folders), `folder ids on ms2 vs ms1 ${seedNote}`);
  assert.ok(want.items.length > 0);
  const diff = firstDifference(got, want);
  assert.is(diff, undefined, `ms2's rows differ from ms1's ${seedNote}: ${diff}`);
});

test.run();
