import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { sleep, waitFor } from "./helpers/processes.js";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.start({
    hosts: ["ms1.example.com", "ms2.example.com"],
    config: (c) => {
      c.supervisor.autoFailover = true;
      c.supervisor.failoverAfterMs = 3_000;
    },
  });
  await sys.spawnMailstore("ms1.example.com");
  await sys.startMailstore("ms2.example.com");
  await sys.startSupervisor();
});
test.after(async () => {
  await sys?.stop();
});

test("auto failover - kill -9 of a mailstore promotes its accounts without a command; a healthy one is left alone", async () => {
  const names = ["af1@example.com", "af2@example.com", "af3@example.com"];
  const acked: Array<{ account: string; itemId: number }> = [];
  for (const n of names) {
    await sys.mailbox("createAccount", { name: n, mailHost: "ms1.example.com" });
    await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: n });
    for (let i = 0; i < 5; i++) acked.push({ account: n, itemId: (await sys.mailbox("deliverMessage", { account: n, raw: rawMessage(i, n) })).itemId });
  }
  // Healthy for longer than failoverAfterMs: nothing moves.
  await sleep(4_000);
  let st = (await sys.admin("getAccountStatus", { accounts: names })).accounts;
  assert.ok(st.every((a: { accountMailHost: string; epoch: number }) => a.accountMailHost === "ms1.example.com" && a.epoch === 1));

  await sys.kill9("ms1.example.com");
  st = await waitFor(
    "accounts promoted to ms2 without a command",
    async () => {
      const s = (await sys.admin("getAccountStatus", { accounts: names })).accounts;
      return s.every((a: { accountMailHost: string }) => a.accountMailHost === "ms2.example.com") ? s : undefined;
    },
    30_000,
    250,
  );
  assert.ok(st.every((a: { epoch: number }) => a.epoch === 2));
  const ms2 = sys.inProcess.get("ms2.example.com")!;
  for (const w of acked) {
    const id = st.find((a: { accountName: string }) => a.accountName === w.account).accountId;
    assert.ok(ms2.store.getItem(id, w.itemId), `acknowledged item ${w.itemId} of ${w.account} is on the new primary`);
  }
  // Writes go on at the new primary.
  const d = await sys.mailbox("deliverMessage", { account: names[0]!, raw: rawMessage(99) });
  assert.ok(d.itemId > 261);
});

test.run();
