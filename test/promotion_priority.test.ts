import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning();
});
test.after(async () => {
  await sys?.stop();
});

/** An account on `primary` with replicas (destination, priority), all caught up. */
async function account(name: string, primary: string, replicas: Array<[string, number]>): Promise<string> {
  const { id } = await sys.mailbox("createAccount", { name, mailHost: primary });
  for (let i = 0; i < 3; i++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  for (const [dest, prio] of replicas) await sys.admin("setAccountDestination", { destination: dest, priority: prio, accounts: name });
  await waitFor(`${name} replicas caught up`, async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
    return a.replicas.length === replicas.length && a.replicas.every((r: { available: boolean; sequence: number }) => r.available && r.sequence === a.sequence);
  });
  return id;
}

async function promote(params: Record<string, unknown>): Promise<any> {
  const { operationId } = await sys.admin("promoteAccounts", params);
  return waitFor(
    "promotion ends",
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: operationId });
      return m.state !== "running" ? m : undefined;
    },
    30_000,
  );
}

async function expectEqualCopies(id: string, hosts: string[]): Promise<void> {
  await waitFor(`copies of ${id} equal on ${hosts.join(", ")}`, () => {
    const dumps = hosts.map((h) => JSON.stringify(sys.inProcess.get(h)!.store.dumpAccount(id)));
    return dumps.every((d) => d === dumps[0]);
  });
}

test("promotion - goes to the replica with the lowest priority number; writes resume there; the old primary becomes a replica", async () => {
  const id = await account("p1@example.com", "ms1.example.com", [
    ["ms2.example.com", 20],
    ["ms3.example.com", 10],
  ]);
  const m = await promote({ accounts: "p1@example.com" });
  assert.is(m.state, "successful", JSON.stringify(m.failed));
  assert.is(m.promoted[0].to, "ms3.example.com");
  assert.is(m.promoted[0].from, "ms1.example.com");
  assert.is(m.promoted[0].epoch, 2);
  const st = (await sys.admin("getAccountStatus", { accounts: "p1@example.com" })).accounts[0];
  assert.is(st.accountMailHost, "ms3.example.com");
  assert.is(st.epoch, 2);
  assert.equal(st.replicas.map((r: { destination: string }) => r.destination).sort(), ["ms1.example.com", "ms2.example.com"]);
  const d = await sys.mailbox("deliverMessage", { account: "p1@example.com", raw: rawMessage(10) });
  assert.ok(d.itemId > 259, "item ids keep growing on the new primary");
  await expectEqualCopies(id, ["ms1.example.com", "ms2.example.com", "ms3.example.com"]);
  assert.is(sys.inProcess.get("ms1.example.com")!.store.replicaState(id)!.role, "replica");
  assert.is(sys.inProcess.get("ms3.example.com")!.store.replicaState(id)!.role, "primary");
});

test("promotion - with destination given, goes there", async () => {
  const id = await account("p2@example.com", "ms1.example.com", [
    ["ms2.example.com", 20],
    ["ms3.example.com", 10],
  ]);
  const m = await promote({ accounts: ["p2@example.com"], destination: "ms2.example.com" });
  assert.is(m.state, "successful", JSON.stringify(m.failed));
  assert.is(m.promoted[0].to, "ms2.example.com");
  await sys.mailbox("setFlags", { account: "p2@example.com", ids: [257], flags: ["seen"] });
  await expectEqualCopies(id, ["ms1.example.com", "ms2.example.com", "ms3.example.com"]);
});

test("promotion - failback is another promoteAccounts", async () => {
  const id = (await sys.admin("getAccountStatus", { accounts: "p1@example.com" })).accounts[0].accountId;
  const m = await promote({ accounts: "p1@example.com", destination: "ms1.example.com" });
  assert.is(m.state, "successful", JSON.stringify(m.failed));
  assert.is(m.promoted[0].epoch, 3);
  await sys.mailbox("deliverMessage", { account: "p1@example.com", raw: rawMessage(11) });
  await expectEqualCopies(id, ["ms1.example.com", "ms2.example.com", "ms3.example.com"]);
});

test("promotion - with the best replica's mailstore down, goes to the next one; refusals are reported per account", async () => {
  const id = await account("p3@example.com", "ms1.example.com", [
    ["ms2.example.com", 20],
    ["ms3.example.com", 10],
  ]);
  await sys.inProcess.get("ms3.example.com")!.stop();
  sys.inProcess.delete("ms3.example.com");
  await waitFor("ms3 seen dead", async () => {
    const s = (await sys.admin("getServices")).services.find((x: { host: string }) => x.host === "ms3.example.com");
    return s && !s.alive;
  });
  await sys.mailbox("createAccount", { name: "lonely@example.com", mailHost: "ms1.example.com" });
  const m = await promote({ accounts: "p3@example.com,lonely@example.com" });
  assert.is(m.state, "failed", "one account had no replica");
  assert.is(m.promoted.length, 1);
  assert.is(m.promoted[0].to, "ms2.example.com");
  assert.is(m.failed[0].account, "lonely@example.com");
  assert.is(m.failed[0].code, "REPLICA_UNAVAILABLE");
  await sys.mailbox("deliverMessage", { account: "p3@example.com", raw: rawMessage(12) });
  await expectEqualCopies(id, ["ms1.example.com", "ms2.example.com"]);
});

test.run();
