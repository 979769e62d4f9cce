// The active supervisor dies in the middle of promoteAccounts (docs/architecture.md, Promotion and Directory and operations; the lease in
// actors/supervisor/lease.ts): two supervisors run as child processes, the first holds the lease and the
// second stands by. ~300 accounts with replicas are promoted with one thread, and the active
// supervisor is killed -9 while monitor shows 0 < done < total. The standby must take the
// lease within a few lease TTLs (mr.rpc.admin answers again), resume the operation and end it,
// and no account may be left half promoted: for every account the directory and the log's
// newest Promoted agree, and each one is either promoted to the replica at epoch 2 or reported
// failed. A failure prints its seed; MR_TEST_SEED replays the kill point.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem } from "./helpers/system.js";
import { sleep, waitFor } from "./helpers/processes.js";
import { intIn, prng, readAccountLog, readerKeyring, stopBounded, testSeed } from "./helpers/workload.js";
import { addReplicas, createAccounts, directoryRecord, promotedEntries, waitOperationEnd } from "./helpers/promotion.js";
import { Kvm } from "@nats-io/kv";

const SEED = testSeed();
const seedNote = `(seed ${SEED}; replay with MR_TEST_SEED=${SEED})`;
const ACCOUNTS = 300;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const NAMES = Array.from({ length: ACCOUNTS }, (_, i) => `fo${i}@example.com`);

let sys: TestSystem;
const rand = prng(SEED);
let ids = new Map<string, string>();

interface Supervisors {
  active: string[];
  standby: string[];
}

async function supervisors(): Promise<Supervisors> {
  const services = (await sys.admin("getServices", {}, 3_000)).services as Array<{ host: string; role: string; alive: boolean; info?: { active?: boolean } }>;
  const sups = services.filter((s) => s.role === "supervisor" && s.alive);
  return { active: sups.filter((s) => s.info?.active === true).map((s) => s.host), standby: sups.filter((s) => s.info?.active === false).map((s) => s.host) };
}

test.before(async () => {
  // One account per promoteMany call (the supervisors are child processes: set in their
  // configuration), so the kill lands at a random point of one account's promotion.
  sys = await TestSystem.start({ hosts: [MS1, MS2], licence: 10_000, config: (c) => void (c.supervisor.promoteBatchSize = 1) });
  await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  // Set-up through an in-process supervisor (its quota raised), stopped before the real ones start.
  await sys.startSupervisor("setup");
  ids = await createAccounts(sys, NAMES, MS1);
  await addReplicas(sys, NAMES, MS2, 10);
  await sys.supervisor!.stop();
});
test.after(async () => {
  await stopBounded(sys);
});

test(`promotion supervisor failover - the first supervisor is active, the second stands by`, async () => {
  await sys.spawnSupervisor("supA");
  await sys.spawnSupervisor("supB");
  const s = await waitFor("supA active and supB standby in getServices", async () => {
    const x = await supervisors();
    return x.active.join() === "supA" && x.standby.join() === "supB" ? x : undefined;
  });
  assert.equal(s, { active: ["supA"], standby: ["supB"] });
  assert.match(sys.log("supA"), /supA started \(active/);
  assert.match(sys.log("supB"), /supB started \(standby/);
});

test(`promotion supervisor failover - kill -9 of the active supervisor mid-promotion: the standby takes over and ends the operation; no account half promoted ${seedNote}`, async () => {
  const started = await sys.admin("promoteAccounts", { source_mail_host: MS1, threads: 1 });
  assert.is(started.total, ACCOUNTS);
  const killAfter = intIn(rand, 5, 150);
  // Kill at a random point of an account's promotion, not right after a progress update.
  const delayMs = intIn(rand, 0, 25);
  const before = await waitFor(
    `${killAfter} accounts promoted`,
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: started.operationId }, 3_000);
      return m.done >= killAfter ? m : undefined;
    },
    60_000,
    10,
  );
  assert.is(before.state, "running", `the operation was still running at ${before.done} of ${before.total} ${seedNote}`);
  assert.is(before.owner, "supA");
  await sleep(delayMs);
  await sys.kill9("supA");
  const killedAt = Date.now();
  const atKill = await waitOperationSnapshot(started.operationId);
  console.log(`  killed supA after ${before.done} accounts (+${delayMs} ms; ${atKill.done + atKill.failed.length} recorded at the kill)`);
  assert.ok(atKill.done + atKill.failed.length < ACCOUNTS, "supA died with accounts left to promote");

  // The standby takes the lease once supA's expired: mr.rpc.admin answers again, from supB.
  const ttl = sys.config.supervisor.leaseTtlMs;
  await waitFor(
    "supB active",
    async () => {
      const x = await supervisors();
      return x.active.join() === "supB";
    },
    10 * ttl,
    50,
  );
  const tookMs = Date.now() - killedAt;
  console.log(`  supB active ${tookMs} ms after the kill (lease TTL ${ttl} ms)`);
  assert.ok(tookMs <= 5 * ttl, `the standby took over within a few lease TTLs (${tookMs} ms)`);

  const end = await waitOperationEnd(sys, started.operationId, 90_000);
  assert.is.not(end.state, "running");
  // (supB's log says "resuming operation", but the kept tail of its output may have lost that line)
  assert.is(end.owner, "supB", "the standby resumed and finished the operation");
  console.log(`  operation ${end.state}: ${end.promoted.length} promoted, ${end.failed.length} failed ${JSON.stringify(end.failed.slice(0, 2))}`);

  // Every account has exactly one outcome.
  const outcome = new Map<string, { ok: boolean; to?: string; epoch?: number; code?: string }>();
  for (const p of end.promoted) {
    assert.not.ok(outcome.has(p.accountId), `${p.account} reported twice ${seedNote}`);
    outcome.set(p.accountId, { ok: true, to: p.to, epoch: p.epoch });
  }
  for (const f of end.failed) {
    assert.ok(f.accountId, `failed entry with an account id: ${JSON.stringify(f)}`);
    assert.not.ok(outcome.has(f.accountId), `${f.account} reported twice ${seedNote}`);
    outcome.set(f.accountId, { ok: false, code: f.code });
  }
  assert.equal(new Set(outcome.keys()), new Set(ids.values()), "every account reported, as promoted or failed");
  assert.is(end.done, end.promoted.length);
  assert.is(end.state, end.failed.length > 0 ? "failed" : "successful");

  // None half done: the directory and the log's newest Promoted agree for every account, and a
  // promoted account is on the replica at epoch 2.
  const keyring = readerKeyring(sys, MS2);
  const ms2 = sys.inProcess.get(MS2)!;
  const problems: string[] = [];
  for (const [name, id] of ids) {
    const rec = await directoryRecord(sys, id);
    const promoted = promotedEntries(await readAccountLog(sys, id, keyring));
    const newest = promoted[promoted.length - 1];
    const logSays = newest ? { host: newest.host, epoch: newest.epoch } : { host: MS1, epoch: 1 };
    if (rec.mailHost !== logSays.host || rec.epoch !== logSays.epoch) {
      problems.push(`${name}: directory ${rec.mailHost}/${rec.epoch}, log ${logSays.host}/${logSays.epoch}`);
    }
    const o = outcome.get(id)!;
    if (o.ok && (o.to !== MS2 || o.epoch !== 2 || rec.mailHost !== MS2 || rec.epoch !== 2 || promoted.length !== 1)) {
      problems.push(
        `${name}: reported promoted to ${o.to}/${o.epoch}; directory ${rec.mailHost}/${rec.epoch}; ${promoted.length} Promoted in the log (${promoted.map((p) => `${p.host}/${p.epoch}`).join(", ")})`,
      );
    }
    if (rec.mailHost === MS2 && ms2.store.replicaState(id)?.role !== "primary")
      problems.push(`${name}: directory says ms2, ms2's role is ${ms2.store.replicaState(id)?.role}`);
  }
  assert.equal(problems, [], `accounts whose directory, log and report disagree ${seedNote}`);
});

/** One monitor snapshot, retried while no supervisor answers. */
async function waitOperationSnapshot(operationId: string): Promise<any> {
  // supA is dead; until supB is active nobody answers mr.rpc.admin, so read the record from the KV.
  const kv = await new Kvm(sys.nc).create(sys.config.jetstream.buckets.directory);
  const e = await kv.get(`op.${operationId}`);
  const op = JSON.parse(new TextDecoder().decode(e!.value)) as { done: number; results: Array<{ ok: boolean }> };
  return { done: op.done, failed: op.results.filter((r) => !r.ok) };
}

test.run();
