import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { runBounded } from "../src/runtime/bounded_pool.js";
import { waitFor } from "./helpers/processes.js";
import { jetstreamManager } from "@nats-io/jetstream";

const ACCOUNTS = 1_000;
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: ["ms1.example.com", "ms2.example.com"], licence: 10_000 });
});
test.after(async () => {
  await sys?.stop();
});

async function consumerCount(): Promise<number> {
  const jsm = await jetstreamManager(sys.nc);
  let n = 0;
  for await (const _ of jsm.consumers.list("MR_TX")) n++;
  return n;
}

test(`replication scale - ${ACCOUNTS} accounts replicated to one destination keep the JetStream consumer count bounded`, async () => {
  const names = Array.from({ length: ACCOUNTS }, (_, i) => `user${i}@example.com`);
  await runBounded(names, 16, async (name, i) => {
    await sys.mailbox("createAccount", { name, mailHost: "ms1.example.com" });
    if (i % 10 === 0) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  });
  let maxSeen = await consumerCount();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxSeen = Math.max(maxSeen, await consumerCount());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const set = await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: names }, 120_000);
  const op = await waitFor(
    "all replicas initialized",
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: set.operationId });
      return m.state !== "running" ? m : undefined;
    },
    120_000,
    200,
  );
  sampling = false;
  await sampler;
  assert.is(op.state, "successful", JSON.stringify(op.results.filter((r: { ok: boolean }) => !r.ok).slice(0, 3)));
  assert.is(op.done, ACCOUNTS);
  // ms2's steady durables (1,000 accounts at 250 subjects per durable: 8 shards; while the
  // layout doubles, the old 4 too: actors/mailstore/steady_layout.ts) plus at most 8
  // short-lived catch-ups per mailstore: never one per account.
  assert.ok(maxSeen <= 8 + 4 + 2 * 8, `saw ${maxSeen} consumers on MR_TX while seeding ${ACCOUNTS} replicas`);
  // At steady state only the durable consumers remain: the catch-ups deleted theirs. All ms2's:
  // ms1 replicates nothing, so it has no durable.
  const ms2 = sys.inProcess.get("ms2.example.com")!;
  await waitFor("only durable consumers left", async () => ms2.agent.stats.consumers > 0 && (await consumerCount()) === ms2.agent.stats.consumers, 15_000);
  const durables = ms2.agent.stats.consumers;
  assert.ok(durables >= 4 && durables <= 8, `${durables} steady durables for ${ACCOUNTS} accounts`);
  const replicas = ms2.store.listReplicaStates().filter((r) => r.role === "replica");
  assert.is(replicas.length, ACCOUNTS);
  assert.ok(replicas.every((r) => r.status === "available" && r.appliedSeq > 0));
  // New writes to any of them flow through the same steady consumer.
  await sys.mailbox("deliverMessage", { account: names[999]!, raw: rawMessage(5_000, names[999]) });
  const id = (await sys.admin("getAccountStatus", { accounts: names[999]! })).accounts[0].accountId;
  const ms1 = sys.inProcess.get("ms1.example.com")!;
  await waitFor("live write replicated", () => JSON.stringify(ms2.store.dumpAccount(id)) === JSON.stringify(ms1.store.dumpAccount(id)));
  assert.is(await consumerCount(), durables);
});

test.run();
