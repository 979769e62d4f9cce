import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.start({ hosts: ["ms1.example.com", "ms2.example.com"] });
  // ms2 starts before ms1 has registered its key: it must learn the key when it needs it.
  await sys.startMailstore("ms2.example.com");
  await sys.startMailstore("ms1.example.com");
  await sys.startSupervisor();
});
test.after(async () => {
  await sys?.stop();
});

test("replication - a replica added later seeds from the log and reports the account's sequence", async () => {
  const acct = await sys.mailbox("createAccount", { name: "alice@example.com", mailHost: "ms1.example.com" });
  for (let i = 0; i < 5; i++) await sys.mailbox("deliverMessage", { account: "alice@example.com", raw: rawMessage(i) });
  const set = await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: ["alice@example.com"] });
  assert.type(set.operationId, "string");
  const status = await waitFor("replica available and caught up", async () => {
    const s = await sys.admin("getAccountStatus", { accounts: "alice@example.com" });
    const a = s.accounts[0];
    const r = a?.replicas[0];
    return r && r.available && r.sequence === a.sequence ? a : undefined;
  });
  assert.is(status.accountId, acct.id);
  assert.is(status.replicas[0].lagEvents, 0);
  assert.is(status.replicas[0].itemId, status.itemId);
  const op = await waitFor("operation ends", async () => {
    const m = await sys.admin("monitor", { operation_uuid: set.operationId });
    return m.state !== "running" ? m : undefined;
  });
  assert.is(op.state, "successful");
});

test("replication - new writes reach the live replica", async () => {
  await sys.mailbox("createFolder", { account: "alice@example.com", path: "Archive" });
  await sys.mailbox("deliverMessage", { account: "alice@example.com", raw: rawMessage(99), folder: "Archive", flags: ["seen", "work"] });
  const ms1 = sys.inProcess.get("ms1.example.com")!.store;
  const ms2 = sys.inProcess.get("ms2.example.com")!.store;
  const id = (await sys.admin("getAccountStatus", { accounts: "alice@example.com" })).accounts[0].accountId;
  await waitFor("replica equal to primary", () => JSON.stringify(ms2.dumpAccount(id)) === JSON.stringify(ms1.dumpAccount(id)));
});

test.run();
