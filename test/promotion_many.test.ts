// promoteAccounts over many accounts (docs/architecture.md, Promotion and Directory and operations): 1,000 accounts on ms1 with replicas on
// ms2 are promoted with source_mail_host and 4 threads. `monitor` must report the progress while
// it runs (total 1000, done growing, state running, then successful), the end must list every
// account as promoted to ms2 at epoch 2, and the directory must agree for all of them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { stopBounded } from "./helpers/workload.js";
import { addReplicas, createAccounts, waitOperationEnd, waitRoutesTo } from "./helpers/promotion.js";

const ACCOUNTS = 1_000;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const NAMES = Array.from({ length: ACCOUNTS }, (_, i) => `many${i}@example.com`);

let sys: TestSystem;
let ids = new Map<string, string>();

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2], licence: 10_000 });
  ids = await createAccounts(sys, NAMES, MS1);
  // Some accounts hold mail, so their logs have more than the creation entry.
  for (let i = 0; i < ACCOUNTS; i += 50) await sys.mailbox("deliverMessage", { account: NAMES[i]!, raw: rawMessage(i, NAMES[i]) });
  await addReplicas(sys, NAMES, MS2, 10, 180_000);
});
test.after(async () => {
  await stopBounded(sys);
});

test(`promotion many - ${ACCOUNTS} accounts promoted with source_mail_host and 4 threads; monitor reports the progress; the directory shows all of them on the replica at epoch 2`, async () => {
  const started = await sys.admin("promoteAccounts", { source_mail_host: MS1, threads: 4 });
  assert.is(started.total, ACCOUNTS);
  assert.is(started.state, "running");
  const snapshots: Array<{ state: string; done: number; failed: number; total: number; progress: number; promoted: number }> = [];
  const end = await waitOperationEnd(
    sys,
    started.operationId,
    120_000,
    (m) => snapshots.push({ state: m.state, done: m.done, failed: m.failed.length, total: m.total, progress: m.progress, promoted: m.promoted.length }),
    20,
  );
  const running = snapshots.filter((s) => s.state === "running");
  console.log(
    `  ${snapshots.length} monitor snapshots, ${running.length} while running; done seen while running: ${[...new Set(running.map((s) => s.done))].slice(0, 12).join(", ")}...`,
  );
  // Progress is reported: total fixed, done never goes back, seen strictly between 0 and total.
  assert.ok(
    snapshots.every((s) => s.total === ACCOUNTS),
    "total is the number of accounts in every snapshot",
  );
  for (let i = 1; i < snapshots.length; i++) {
    assert.ok(snapshots[i]!.done >= snapshots[i - 1]!.done, `done went back from ${snapshots[i - 1]!.done} to ${snapshots[i]!.done}`);
  }
  assert.ok(running.length >= 2, `monitor saw the operation running (${running.length} snapshots)`);
  const middle = running.filter((s) => s.done > 0 && s.done < ACCOUNTS);
  assert.ok(middle.length >= 1, "monitor reported partial progress while running");
  assert.ok(new Set(middle.map((s) => s.done)).size >= 2, "done grows while running");
  for (const s of running) {
    assert.is(s.promoted, s.done, "the promoted list follows done");
    assert.is(s.progress, Math.round(((s.done + s.failed) / ACCOUNTS) * 100), "progress is (done + failed) / total");
  }
  // The end: successful, every account promoted once, to ms2, at epoch 2.
  assert.is(end.state, "successful", JSON.stringify(end.failed.slice(0, 3)));
  assert.is(end.done, ACCOUNTS);
  assert.is(end.progress, 100);
  assert.equal(end.failed, []);
  assert.is(end.promoted.length, ACCOUNTS);
  assert.is(new Set(end.promoted.map((p: { accountId: string }) => p.accountId)).size, ACCOUNTS, "each account promoted once");
  assert.equal(new Set(end.promoted.map((p: { accountId: string }) => p.accountId)), new Set(ids.values()));
  const wrong = end.promoted.filter((p: { from: string; to: string; epoch: number }) => p.from !== MS1 || p.to !== MS2 || p.epoch !== 2);
  assert.equal(wrong.slice(0, 3), [], "every account from ms1 to ms2 at epoch 2");
  assert.ok(typeof end.endedAt === "number" && end.endedAt >= end.startedAt);

  // The directory: all of them on ms2 at epoch 2, ms1 kept as their replica.
  const st = await sys.admin("getAccountStatus", { mailHost: MS2 }, 120_000);
  assert.is(st.total, ACCOUNTS);
  const off = st.accounts.filter(
    (a: { epoch: number; accountMailHost: string; replicas: Array<{ destination: string }> }) =>
      a.epoch !== 2 || a.accountMailHost !== MS2 || a.replicas.map((r) => r.destination).join() !== MS1,
  );
  assert.equal(off.slice(0, 3), [], "directory: primary ms2, epoch 2, replica ms1");
  assert.is((await sys.admin("getAccountStatus", { mailHost: MS1 }, 120_000)).total, 0, "no account left on ms1");

  // Each side knows its new role.
  const ms1 = sys.inProcess.get(MS1)!;
  const ms2 = sys.inProcess.get(MS2)!;
  const ms1States = () => {
    const by: Record<string, number> = {};
    for (const id of ids.values()) {
      const rs = ms1.store.replicaState(id);
      const k = rs ? `${rs.role} epoch ${rs.epoch} ${rs.status}` : "missing";
      by[k] = (by[k] ?? 0) + 1;
      if (rs?.error && !Object.keys(by).some((x) => x.startsWith("first error"))) by[`first error: ${rs.error}`] = 1;
    }
    return by;
  };
  await waitFor("ms1 holds every account as a replica at epoch 2", () => ms1States()["replica epoch 2 available"] === ACCOUNTS).catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(ms1States())}`);
  });
  const notPrimary = [...ids.values()].filter((id) => {
    const rs = ms2.store.replicaState(id);
    return rs?.role !== "primary" || rs.epoch !== 2;
  });
  assert.equal(notPrimary.slice(0, 3), [], "ms2 is primary of every account at epoch 2");
  assert.is(ms1.primaryActorCount, 0, "ms1 runs no account actor any more");
});

test("promotion many - writes go to the new primary and the old one follows as a replica", async () => {
  const sample = NAMES.filter((_, i) => i % 100 === 7);
  await waitRoutesTo(
    sys,
    sample.map((n) => ids.get(n)!),
    MS2,
  );
  const ms1 = sys.inProcess.get(MS1)!;
  const ms2 = sys.inProcess.get(MS2)!;
  for (const name of sample) {
    const id = ids.get(name)!;
    const d = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(7_000, name) });
    assert.ok(d.itemId > 0);
    assert.is(ms2.store.getItem(id, d.itemId).blob, d.blob);
    await waitFor(`${name} replicated back to ms1`, () => JSON.stringify(ms1.store.dumpAccount(id)) === JSON.stringify(ms2.store.dumpAccount(id)));
  }
});

test.run();
