// Quorum loss then recovery on a real 3-node cluster (every asset at 3 replicas): two
// mailstores and a supervisor run as child processes connected to all three nodes; two of the
// three nats-server nodes are killed (-9). Writes are then refused (UNAVAILABLE or
// OUTCOME_UNKNOWN, never acknowledged) and no process exits. The nodes come back on the same
// ports and store folders: writes resume, heartbeats resume, the replica catches up, and
// every acknowledged write is on the primary and the replica.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { waitHeartbeatsAfter } from "./helpers/promotion.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { connectionNames, waitClusterReady } from "./helpers/nats.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ACCOUNT = "quorum.user@example.com";

let sys: TestSystem | undefined;

test.after(async () => {
  await sys?.stop();
});

function codeOf(e: unknown): string | undefined {
  const x = e as { code?: unknown; data?: { code?: unknown } };
  return typeof x.data?.code === "string" ? x.data.code : typeof x.code === "string" ? x.code : undefined;
}

test("cluster quorum - writes are refused without quorum, no process exits, and everything resumes when the nodes return", async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2], cluster: "ready" });
  const s = sys;
  const cluster = s.cluster!;
  const children = await s.spawnAll();

  const acct = await s.mailbox<{ id: string }>("createAccount", { name: ACCOUNT, mailHost: MS1 });
  await s.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: [ACCOUNT] });
  const acknowledged: number[] = [];
  for (let i = 0; i < 5; i++) {
    acknowledged.push((await s.mailbox<{ itemId: number }>("deliverMessage", { account: acct.id, raw: rawMessage(i), requestId: `before-${i}` })).itemId);
  }

  // Two of three nodes gone: no stream, no bucket has a quorum.
  await cluster.nodes[1]!.kill9();
  await cluster.nodes[2]!.kill9();
  // Every process has reconnected to the survivor (else the request meets no responder yet).
  await waitFor(
    "every process to reconnect to the surviving node",
    async () => {
      const names = await connectionNames(cluster.nodes[0]!);
      return [`mailstore ${MS1}`, `mailstore ${MS2}`, "supervisor sup1", "test client"].every((n) => names.includes(n));
    },
    30_000,
    100,
  );

  const refused = await s.mailbox("deliverMessage", { account: acct.id, raw: rawMessage(100), requestId: "during-0" }, 30_000).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (process.env.MR_TEST_LOG) process.stderr.write(`refused: ${codeOf(refused)} ${String(refused)}\n`);
  assert.ok(refused, "a write without quorum is not acknowledged");
  assert.ok(
    ["UNAVAILABLE", "OUTCOME_UNKNOWN"].includes(codeOf(refused) ?? ""),
    `refused with UNAVAILABLE or OUTCOME_UNKNOWN, got ${codeOf(refused)}: ${String(refused)}`,
  );
  // A write with no body to store goes straight to the account log: no acknowledgement either.
  const folder = await s.mailbox("createFolder", { account: acct.id, path: "Quorum", requestId: "folder-0" }, 30_000).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(folder, "a log append without quorum is not acknowledged");
  assert.ok(
    ["UNAVAILABLE", "OUTCOME_UNKNOWN"].includes(codeOf(folder) ?? ""),
    `createFolder refused with UNAVAILABLE or OUTCOME_UNKNOWN, got ${codeOf(folder)}: ${String(folder)}`,
  );
  for (const [who, c] of children) assert.is(c.exitCode ?? c.signalCode, null, `${who} still runs without quorum:\n${s.log(who)}`);

  const restartedAt = Date.now();
  await Promise.all([cluster.nodes[1]!.start(), cluster.nodes[2]!.start()]);
  await waitClusterReady(cluster.nodes, 60_000);

  // Writes resume (the one refused above is retried with its requestId: stored at most once).
  const retried = await waitFor(
    "writes to be acknowledged again",
    async () => {
      try {
        return await s.mailbox<{ itemId: number }>("deliverMessage", { account: acct.id, raw: rawMessage(100), requestId: "during-0" }, 10_000);
      } catch {
        return undefined;
      }
    },
    60_000,
    250,
  );
  acknowledged.push(retried.itemId);
  // The folder write whose outcome was unknown, retried with its requestId: exists once.
  await s.mailbox("createFolder", { account: acct.id, path: "Quorum", requestId: "folder-0" });
  const folders = await s.mailbox<{ folders: { path: string }[] }>("listFolders", { account: acct.id });
  assert.is(folders.folders.filter((f) => f.path === "Quorum").length, 1, "the retried folder exists once");
  for (let i = 0; i < 5; i++) {
    acknowledged.push((await s.mailbox<{ itemId: number }>("deliverMessage", { account: acct.id, raw: rawMessage(200 + i), requestId: `after-${i}` })).itemId);
  }

  // Heartbeats resume: every process writes a fresh one after the restart.
  await waitHeartbeatsAfter(s, [`node.${MS1}`, `node.${MS2}`, "supervisor.sup1"], restartedAt);
  if (process.env.MR_TEST_LOG) process.stderr.write(`--- ms1\n${s.log(MS1)}\n--- ms2\n${s.log(MS2)}\n--- sup1\n${s.log("sup1")}\n`);
  // The supervisor serves again (holds the lease).
  await waitFor("the supervisor to answer admin requests", async () => (await s.admin("getServices").catch(() => undefined)) !== undefined, 30_000, 250);

  // The mailstores' directory watch outlived the outage: a new account's replica is made.
  const b = await s.mailbox<{ id: string }>("createAccount", { name: "after.quorum@example.com", mailHost: MS1, requestId: "new-acct" });
  await s.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["after.quorum@example.com"] });
  const bItem = (await s.mailbox<{ itemId: number }>("deliverMessage", { account: b.id, raw: rawMessage(300), requestId: "b-0" })).itemId;
  await waitFor("the new account's write to reach its replica on ms2", () => s.storeHolds(MS2, b.id, [bItem]), 60_000, 250);

  // Every acknowledged write is on the primary, once, and reaches the replica.
  const listed = await s.mailbox<{ items: { id: number }[]; total: number }>("listItems", { account: acct.id, limit: 1000 });
  const ids = listed.items.map((i) => i.id);
  for (const id of acknowledged) assert.ok(ids.includes(id), `acknowledged item ${id} is on the primary (has ${ids.join(",")})`);
  assert.is(listed.total, acknowledged.length, "the retried write was stored once");
  await waitFor("the replica on ms2 to hold every acknowledged write", () => s.storeHolds(MS2, acct.id, acknowledged), 60_000, 250);
  for (const [who, c] of children) assert.is(c.exitCode ?? c.signalCode, null, `${who} was never restarted:\n${s.log(who)}`);
});

test.run();
