// A replica seeded again from the start of its account's log (restartReplicas) meets every
// Promoted entry of the account's history, also those naming itself from a time it was
// primary. Only the newest entry of the log can make a mailstore primary: an old Promoted
// followed by a promotion away must not turn the copy into a "primary" that stops applying
// (found by the JSON-RPC fuzzer: the replica stayed at the old Promoted's seq for good).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { promote } from "./helpers/promotion.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2] });
});
test.after(async () => {
  await sys?.stop();
});

async function caughtUp(name: string): Promise<void> {
  await waitFor(`${name}: its replica available at the head`, async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
    return a.replicas.length === 1 && a.replicas[0].available && a.replicas[0].sequence === a.sequence;
  });
}

test("replica re-seeding - an old Promoted naming the replica, followed by a promotion away, does not make it primary; it applies to the head", async () => {
  const name = "reseed@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1) });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await caughtUp(name);
  // ms1 -> ms2 (epoch 2), a write there, then back ms2 -> ms1 (epoch 3): ms2 is a replica again.
  assert.is((await promote(sys, { accounts: [name] })).state, "successful");
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2) });
  await caughtUp(name);
  assert.is((await promote(sys, { accounts: [name] })).state, "successful");
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(3) });
  await caughtUp(name);

  // Seed ms2's copy again from seq 1: it applies Promoted{epoch 2, ms2} on the way.
  await sys.admin("restartReplicas", { accounts: name });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(4) });
  const primary = sys.inProcess.get(MS1)!.store;
  const replica = sys.inProcess.get(MS2)!.store;
  await waitFor("the re-seeded replica equal to the primary, with the newest write", () => {
    const a = JSON.stringify(primary.dumpAccount(id));
    return a.includes("message 4") && a === JSON.stringify(replica.dumpAccount(id));
  });
  const rs = replica.replicaState(id)!;
  assert.is(rs.role, "replica");
  assert.is(rs.epoch, 3);
  assert.is(rs.primaryHost, MS1);
  const st = (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
  assert.is(st.accountMailHost, MS1);
  assert.is(st.epoch, 3);
});

test.run();
