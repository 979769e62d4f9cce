// Whole-cluster restart: every nats-server node of a 3-node cluster is killed (-9) and
// started again on the same ports and store folders, while two mailstores and a supervisor
// (child processes) keep running, and a second supervisor is started while every node is
// down. None of them exits or is restarted; afterwards writes are
// acknowledged again, heartbeats are fresh, the supervisor serves, the directory watch and the
// replica agent follow new changes (a new account gets a replica), and every write
// acknowledged before or after the restart is on the primary and on the replica.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { waitHeartbeatsAfter } from "./helpers/promotion.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { waitClusterReady } from "./helpers/nats.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";

let sys: TestSystem | undefined;

test.after(async () => {
  await sys?.stop();
});

test("cluster restart - every process survives all nats-server nodes killed and restarted, and carries on", async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2], cluster: "ready" });
  const s = sys;
  const cluster = s.cluster!;
  const children = await s.spawnAll();

  const a = await s.mailbox<{ id: string }>("createAccount", { name: "before@example.com", mailHost: MS1 });
  await s.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["before@example.com"] });
  const before: number[] = [];
  for (let i = 0; i < 3; i++)
    before.push((await s.mailbox<{ itemId: number }>("deliverMessage", { account: a.id, raw: rawMessage(i), requestId: `b-${i}` })).itemId);
  await waitFor("the replica to hold the writes made before the restart", () => s.storeHolds(MS2, a.id, before), 30_000, 200);

  for (const n of cluster.nodes) await n.kill9();
  // A second supervisor started while no node runs (as a service manager would restart one)
  // waits for NATS instead of exiting.
  let sup2Failed: unknown;
  const sup2 = s.spawnSupervisor("sup2");
  sup2.catch((e: unknown) => (sup2Failed = e ?? "failed"));
  await waitFor("sup2 to wait for NATS (or exit)", () => sup2Failed !== undefined || s.log("sup2").includes("waiting for JetStream"), 30_000, 100);
  assert.is(sup2Failed, undefined, `sup2 started during the outage waits instead of exiting:\n${s.log("sup2")}`);
  const restartedAt = Date.now();
  await Promise.all(cluster.nodes.map((n) => n.start()));
  await waitClusterReady(cluster.nodes, 60_000);
  children.set("sup2", await sup2);

  // Writes are acknowledged again (retried with one requestId: stored at most once).
  const first = await waitFor(
    "writes to be acknowledged after the restart",
    async () => {
      try {
        return await s.mailbox<{ itemId: number }>("deliverMessage", { account: a.id, raw: rawMessage(10), requestId: "after-0" }, 10_000);
      } catch {
        return undefined;
      }
    },
    60_000,
    250,
  );
  const after = [first.itemId];
  for (let i = 1; i < 3; i++)
    after.push((await s.mailbox<{ itemId: number }>("deliverMessage", { account: a.id, raw: rawMessage(10 + i), requestId: `after-${i}` })).itemId);

  await waitHeartbeatsAfter(s, [`node.${MS1}`, `node.${MS2}`, "supervisor.sup1", "supervisor.sup2"], restartedAt);

  // The supervisor serves, and a change made now reaches the mailstores (their directory
  // watch and the replica agent's consumer outlived the restart).
  const b = await waitFor(
    "the supervisor and ms1 to take a new account",
    async () => {
      try {
        const acct = await s.mailbox<{ id: string }>("createAccount", { name: "after@example.com", mailHost: MS1, requestId: "new-acct" }, 10_000);
        await s.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["after@example.com"] }, 10_000);
        return acct;
      } catch {
        return undefined;
      }
    },
    60_000,
    250,
  );
  const bItem = (await s.mailbox<{ itemId: number }>("deliverMessage", { account: b.id, raw: rawMessage(20), requestId: "b-after" })).itemId;

  const listed = await s.mailbox<{ items: { id: number }[]; total: number }>("listItems", { account: a.id, limit: 1000 });
  const ids = listed.items.map((i) => i.id);
  for (const id of [...before, ...after]) assert.ok(ids.includes(id), `acknowledged item ${id} is on the primary (has ${ids.join(",")})`);
  assert.is(listed.total, before.length + after.length, "nothing stored twice");
  await waitFor("the replica to hold every acknowledged write", () => s.storeHolds(MS2, a.id, [...before, ...after]), 60_000, 250);
  await waitFor("the new account's write to reach its replica", () => s.storeHolds(MS2, b.id, [bItem]), 60_000, 250);

  for (const [who, c] of children) assert.is(c.exitCode ?? c.signalCode, null, `${who} was never restarted:\n${s.log(who)}`);
});

test.run();
