// A replica never reports `available` over a log whose entries it did not see: an account
// whose log start was removed (retention, or by hand) cannot be seeded, and the operation and
// getAccountStatus say so instead of showing a caught-up replica at sequence 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ReplicaAgent } from "../actors/mailstore/replica_agent.js";
import { assetOptions } from "../src/jetstream/asset_options.js";
import { ensureAssets, txSubject } from "../src/jetstream/assets.js";
import { loadKeyring } from "../src/keys/index.js";
import { MetadataStore } from "../src/store/index.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { tempDir, waitFor } from "./helpers/processes.js";
import { jetstreamManager } from "@nats-io/jetstream";

const PRIMARY = "ms1.example.com";
const REPLICA = "ms2.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [PRIMARY, REPLICA, "ms3.example.com"] });
  await sys.startMailstore(PRIMARY);
  await sys.startMailstore(REPLICA);
  // The operation waits this long for an empty log's first entry (a brand-new account).
  await sys.startSupervisor("sup1", { initTimeoutMs: 3_000 });
});
test.after(async () => {
  await sys?.stop();
});

async function purgedAccount(name: string, keep?: number): Promise<string> {
  const acct = await sys.mailbox("createAccount", { name, mailHost: PRIMARY });
  for (let i = 0; i < 3; i++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i) });
  const jsm = await jetstreamManager(sys.nc);
  await jsm.streams.purge(sys.config.jetstream.streams.tx, { filter: txSubject(acct.id), ...(keep ? { keep } : {}) });
  return acct.id;
}

async function operationEnd(operationId: string): Promise<any> {
  return waitFor(
    "operation ends",
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: operationId });
      return m.state !== "running" ? m : undefined;
    },
    20_000,
  );
}

async function replicaView(name: string): Promise<any> {
  return (await sys.admin("getAccountStatus", { accounts: name })).accounts[0].replicas[0];
}

test("replica seeding - an account whose log was emptied is not reported ready at sequence 0, and shows unavailable with the reason", async () => {
  const name = "emptied@example.com";
  await purgedAccount(name);
  const set = await sys.admin("setAccountDestination", { destination: REPLICA, priority: 10, accounts: [name] });
  const op = await operationEnd(set.operationId);
  assert.is(op.state, "failed", JSON.stringify(op));
  const r = op.results.find((x: any) => x.account === name);
  assert.is(r.ok, false, JSON.stringify(r));
  assert.is(r.code, "REPLICA_UNAVAILABLE");
  assert.ok(/account\.created/.test(r.message) && /empty/.test(r.message), r.message);
  const view = await replicaView(name);
  assert.is(view.available, false, JSON.stringify(view));
  assert.is(view.status, "unavailable");
  assert.ok(/account\.created/.test(view.error ?? ""), JSON.stringify(view));
  const unavailable = await sys.admin("getAccountStatus", { accounts: name, replicaStatus: "unavailable" });
  assert.is(unavailable.accounts.length, 1);
});

test("replica seeding - a log whose start was removed (first entry does not follow 0) makes the replica unavailable", async () => {
  const name = "truncated@example.com";
  await purgedAccount(name, 1);
  const set = await sys.admin("setAccountDestination", { destination: REPLICA, priority: 10, accounts: [name] });
  const op = await operationEnd(set.operationId);
  const r = op.results.find((x: any) => x.account === name);
  assert.is(r.ok, false, JSON.stringify(r));
  const view = await replicaView(name);
  assert.is(view.available, false, JSON.stringify(view));
  assert.is(view.status, "unavailable");
  assert.ok(/missing from the log/.test(view.error ?? ""), JSON.stringify(view));
});

test("replica agent - a replica at seq 0 over an account log that stays empty becomes unavailable itself, with the reason", async () => {
  const name = "agent-emptied@example.com";
  const id = await purgedAccount(name);
  // A real agent (real store, NATS, keys) with a short grace for the first entry to appear.
  const host = "ms3.example.com";
  const store = MetadataStore.open(join(tempDir("mr-agent-empty-"), "metadata.sqlite"));
  const agent = new ReplicaAgent({
    host,
    store,
    keyring: loadKeyring({ dir: sys.config.keys.dir, host }),
    assets: await ensureAssets(sys.nc, assetOptions(sys.config)),
    notify: () => {},
    emptyLogGraceMs: 1_000,
    // No snapshot exists for it: the directory's view is never asked.
    directory: () => undefined,
  });
  try {
    agent.setReplicated(id, { paused: false });
    const st = await waitFor(
      "the agent marks the replica unavailable",
      () => (store.replicaState(id)?.status === "unavailable" ? store.replicaState(id) : undefined),
      10_000,
    );
    assert.is(st.appliedSeq, 0);
    assert.ok(/account\.created/.test(st.error ?? ""), st.error ?? "no error");
  } finally {
    await agent.stop();
    store.close();
  }
});

test.run();
