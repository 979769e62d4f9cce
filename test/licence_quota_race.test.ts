// The quota check and the replica change are one compare-and-set on the quota ledger: many
// concurrent setAccountDestination calls, or two supervisors' ledgers at once, never enable
// more accounts than the quota; a crash leaves the ledger counting too much and the
// reconciler recounts it from the records.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RpcError } from "../src/jsonrpc/index.js";
import { AppError } from "../src/jsonrpc/index.js";
import { HOLD_STALE_MS, QUOTA_LEDGER_KEY, QuotaLedger, isEnabled, type LedgerValue } from "../actors/supervisor/quota_ledger.js";
import { TestSystem } from "./helpers/system.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const N = 110;
const QUOTA = 100;

let sys: TestSystem;

const name = (i: number): string => `q${String(i).padStart(3, "0")}@example.com`;

async function enabledInDirectory(): Promise<number> {
  return (await sys.supervisor!.directory.listAccounts()).filter(isEnabled).length;
}

test("quota - 110 concurrent setAccountDestination calls against a quota of 100 enable exactly 100", async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  assert.is(sys.config.licence.defaultQuota, QUOTA);
  for (const h of sys.hosts) await sys.startMailstore(h);
  await sys.startSupervisor();
  for (let i = 0; i < N; i++) await sys.mailbox("createAccount", { name: name(i), mailHost: MS1 });

  const results = await Promise.allSettled(
    Array.from({ length: N }, (_, i) => sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name(i) })),
  );
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const refusals = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as Error);
  for (const e of refusals) {
    assert.instance(e, RpcError, e.message);
    assert.is((e as RpcError).appCode, "LICENCE_EXCEEDED", e.message);
    assert.match(e.message, /allows 100 accounts with replicas/);
  }
  assert.is(ok, QUOTA);
  assert.is(refusals.length, N - QUOTA);

  // The directory agrees: 100 records with a replica, the ledger says 100 with no hold left.
  assert.is(await enabledInDirectory(), QUOTA);
  const ledger = await sys.supervisor!.licence.ledger.read();
  assert.ok(ledger);
  assert.is(ledger!.value.enabled, QUOTA);
  assert.equal(ledger!.value.holds, {});
  assert.is((await sys.admin("getLicenseInfo")).accountsEnabled, QUOTA);
});

test("quota - two ledgers (two supervisors) taking holds at once never pass the quota", async () => {
  // Each QuotaLedger serializes only its own changes: two of them race only through the CAS.
  const kv = sys.supervisor!.directory.kv;
  const count = async () => enabledInDirectory();
  const a = new QuotaLedger(kv, () => Date.now(), count);
  const b = new QuotaLedger(kv, () => Date.now(), count);
  const quota = QUOTA + 20;
  const refuse = (counted: number, adding: number) => (counted + adding > quota ? new AppError("LICENCE_EXCEEDED", `over ${quota}`, {}) : undefined);
  const tries = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).hold("enable", 1, refuse)));
  const held = tries.filter((t) => t.status === "fulfilled").length;
  assert.is(held, 20, "exactly the 20 free places were held");
  for (const t of tries) if (t.status === "rejected") assert.is((t.reason as AppError).code, "LICENCE_EXCEEDED");
  // Settling holds that enabled nothing gives everything back.
  for (const t of tries) if (t.status === "fulfilled") await t.value.settle();
  const after = await a.read();
  assert.is(after!.value.enabled, QUOTA);
  assert.equal(after!.value.holds, {});
});

test("quota - removing a replica gives its place back, and a refused account can then be enabled", async () => {
  await sys.admin("removeAccountDestination", { destination: MS2, accounts: name(0) });
  assert.is((await sys.supervisor!.licence.ledger.read())!.value.enabled, QUOTA - 1);
  const refused = [];
  for (let i = 0; i < N; i++) {
    const rec = await sys.supervisor!.directory.find(name(i));
    if (i > 0 && rec!.value.replicas.length === 0) refused.push(name(i));
  }
  assert.is(refused.length, N - QUOTA);
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: refused[0]! });
  try {
    await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: refused[1]! });
    assert.unreachable("a 101st account was enabled");
  } catch (e) {
    assert.is((e as RpcError).appCode, "LICENCE_EXCEEDED");
  }
  assert.is(await enabledInDirectory(), QUOTA);
  assert.is((await sys.supervisor!.licence.ledger.read())!.value.enabled, QUOTA);
});

test("quota - a hold left by a crashed supervisor keeps counting until it is stale, then the reconciler recounts from the records", async () => {
  const kv = sys.supervisor!.directory.kv;
  const count = async () => enabledInDirectory();
  const ledger = sys.supervisor!.licence.ledger;
  await sys.admin("removeAccountDestination", { destination: MS2, accounts: name(1) });
  // What a supervisor that died after taking a hold leaves behind: a hold nobody refreshes.
  const cur = (await ledger.read())!;
  const dead: LedgerValue = { ...cur.value, holds: { "dead-hold": { kind: "enable", accounts: 1, owner: "a dead process", at: Date.now() } } };
  await kv.update(QUOTA_LEDGER_KEY, JSON.stringify(dead), cur.revision);
  let v = (await ledger.read())!.value;
  assert.is(v.enabled, QUOTA - 1);
  assert.is(Object.keys(v.holds).length, 1);
  // The hold still counts: the freed place is not given away twice.
  const free = (await sys.supervisor!.directory.listAccounts()).find((r) => r.type === "account" && r.replicas.length === 0 && r.mailHost === MS1)!;
  try {
    await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: free.name });
    assert.unreachable("the crashed hold's place was given away");
  } catch (e) {
    assert.is((e as RpcError).appCode, "LICENCE_EXCEEDED");
  }
  // While the hold is live, the reconciler leaves the ledger alone.
  await sys.supervisor!.reconciler.check();
  assert.is(Object.keys((await ledger.read())!.value.holds).length, 1);

  // Later (the crashed owner never refreshed it): the recount drops it and counts the records.
  const later = new QuotaLedger(kv, () => Date.now() + HOLD_STALE_MS + 1_000, count);
  const repair = await later.recount();
  assert.equal(repair, { from: QUOTA - 1, to: QUOTA - 1, staleHolds: 1 });
  v = (await later.read())!.value;
  assert.equal(v.holds, {});
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: free.name });
  assert.is(await enabledInDirectory(), QUOTA);
});

test("quota - a missing or wrong ledger is rebuilt from the records by the reconciler", async () => {
  const kv = sys.supervisor!.directory.kv;
  // Wrong in the unsafe direction (e.g. edited by hand): the reconciler recounts it.
  await kv.put(QUOTA_LEDGER_KEY, JSON.stringify({ enabled: 3, holds: {}, countedAt: 0 }));
  await sys.supervisor!.reconciler.check();
  assert.is((await sys.supervisor!.licence.ledger.read())!.value.enabled, QUOTA);
  // Deleted: the next change counts the records first, so the quota still holds.
  await kv.delete(QUOTA_LEDGER_KEY);
  const free = (await sys.supervisor!.directory.listAccounts()).find((r) => r.type === "account" && r.replicas.length === 0)!;
  try {
    await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: free.name });
    assert.unreachable("enabled past the quota after the ledger was deleted");
  } catch (e) {
    assert.is((e as RpcError).appCode, "LICENCE_EXCEEDED");
  }
  assert.is((await sys.supervisor!.licence.ledger.read())?.value.enabled, QUOTA, "the refused change counted the records first");
  await kv.delete(QUOTA_LEDGER_KEY);
  await sys.supervisor!.reconciler.check();
  assert.is((await sys.supervisor!.licence.ledger.read())?.value.enabled, QUOTA, "the reconciler rebuilt it");
});

test.after(async () => {
  await sys?.stop();
});

test.run();
