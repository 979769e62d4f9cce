// Promotions and a lost nats-server node of a 3-node cluster (kill -9). First, a promotion
// while the node that led MR_TX is down: the cluster keeps its quorum, so promoteAccounts
// moves every account to its replica, writes go to the new primary, the old primary refuses,
// and every write acknowledged before and after is on the new primary. Second, the node
// leading the directory bucket dies while a promotion runs: the promotion waits the leader
// election out and every account is promoted, none failed and the operation ends. Third, the
// node a promote request is passing through dies with it (core NATS drops it silently): the
// supervisor asks again instead of waiting its whole promoteTimeoutMs and failing the account,
// and the account is promoted once. That window is held open deterministically: the target
// mailstore talks to that node only, through a TCP proxy that holds what the node sends it
// until the test has seen the promote request on the wire.
// Heartbeats and the lease live longer than an election here (30 s), so what is tested is the
// promotion's own steps, not a mailstore that looks dead for a few seconds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { waitClusterReady } from "./helpers/nats.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { addReplicas, createAccounts, directoryRecord, promote, promotedEntries, waitAlive, waitOperationEnd } from "./helpers/promotion.js";
import { errorCode, readAccountLog, readerKeyring, waitReplicaCaughtUp } from "./helpers/workload.js";
import { rpcCall } from "../src/jsonrpc/index.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const NAMES = ["p1@example.com", "p2@example.com", "p3@example.com", "p4@example.com"];

let sys: TestSystem | undefined;
let proxy: TcpProxy | undefined;

test.after(async () => {
  proxy?.resume();
  await sys?.stop();
  await proxy?.stop();
});

/** Writes one message, retried while the cluster elects leaders; its item id. */
async function deliver(s: TestSystem, account: string, n: number): Promise<number> {
  return waitFor(
    `a delivery to ${account} to be acknowledged`,
    async () =>
      (
        await s.mailbox<{ itemId: number }>(
          "deliverMessage",
          { account, raw: rawMessage(n, account), requestId: `${account.replace(/[^A-Za-z0-9]/g, "_")}-${n}` },
          5_000,
        )
      ).itemId,
    60_000,
    100,
  );
}

test("cluster promotion - promoteAccounts with one nats-server node down moves every account, and nothing acknowledged is lost", async () => {
  sys = await TestSystem.start({
    hosts: [MS1, MS2, MS3],
    cluster: "ready",
    config: (c) => {
      c.node.heartbeatTtlMs = 30_000;
      c.supervisor.leaseTtlMs = 30_000;
      c.supervisor.failoverAfterMs = 60_000;
    },
  });
  const s = sys;
  const cluster = s.cluster!;
  const children = new Map([
    [MS1, await s.spawnMailstore(MS1)],
    [MS2, await s.spawnMailstore(MS2)],
    ["sup1", await s.spawnSupervisor("sup1")],
  ]);
  const ids = await createAccounts(s, NAMES, MS1, { messages: 2 });
  await addReplicas(s, NAMES, MS2, 10);
  const before = new Map<string, number[]>();
  for (const name of NAMES) before.set(name, [await deliver(s, name, 100)]);

  const jsm = await jetstreamManager(s.nc);
  const leader = (await jsm.streams.info(s.config.jetstream.streams.tx)).cluster?.leader;
  const victim = cluster.nodes.find((n) => n.spec.name === leader);
  assert.ok(victim, `MR_TX has a leader among the nodes (${leader})`);
  await victim!.kill9();
  // Deliveries are acknowledged again once MR_TX has a new leader (two nodes keep the quorum).
  for (const name of NAMES) before.get(name)!.push(await deliver(s, name, 101));
  // The node stays down; the promotion runs once every stream and bucket has a leader again
  // on the two nodes left and both mailstores heartbeat (a node loss is survived first).
  const assets = [
    s.config.jetstream.streams.tx,
    s.config.jetstream.streams.notify,
    `KV_${s.config.jetstream.buckets.directory}`,
    `KV_${s.config.jetstream.buckets.nodes}`,
    `OBJ_${s.config.jetstream.buckets.blobs}`,
  ];
  await waitFor(
    "every asset to have a leader on the two nodes left",
    async () => {
      for (const a of assets) if (!(await jsm.streams.info(a)).cluster?.leader) return false;
      return true;
    },
    60_000,
    100,
  );
  await waitAlive(s, MS1, true, 60_000);
  await waitAlive(s, MS2, true, 60_000);

  const m = await promote(s, { accounts: NAMES }, 120_000);
  assert.is(m.state, "successful", `${JSON.stringify(m.failed)}\n${s.log("sup1")}`);
  assert.is(m.promoted.length, NAMES.length);
  for (const p of m.promoted) assert.is(p.to, MS2, `${p.account} promoted to ${MS2}`);

  // Writes now go to the new primary; the old one refuses to write for these accounts.
  const after = new Map<string, number>();
  for (const name of NAMES) after.set(name, await deliver(s, name, 102));
  for (const name of NAMES) {
    const refused = await rpcCall(
      s.nc,
      `mr.node.${MS1}.mailbox`,
      "deliverMessage",
      { account: ids.get(name), raw: rawMessage(103, name) },
      { timeoutMs: 10_000 },
    ).then(
      () => "ok",
      (e) => errorCode(e),
    );
    assert.is(refused, "NOT_PRIMARY", `${name}: a write sent straight to the old primary`);
  }

  await victim!.restart();
  await waitClusterReady(cluster.nodes);
  for (const name of NAMES) {
    const listed = await s.mailbox<{ items: { id: number }[] }>("listItems", { account: name, limit: 1000 });
    const have = new Set(listed.items.map((i) => i.id));
    for (const id of [...before.get(name)!, after.get(name)!]) assert.ok(have.has(id), `${name}: acknowledged item ${id} is on the new primary`);
  }
  for (const [who, c] of children) assert.is(c.exitCode ?? c.signalCode, null, `${who} still runs:\n${s.log(who)}`);
});

/** Every node running and the cluster formed: a test that failed before restarting its victim does not leave the next one a node short. */
async function wholeCluster(s: TestSystem): Promise<void> {
  const nodes = s.cluster!.nodes;
  for (const n of nodes) if (!n.running) await n.start();
  await waitClusterReady(nodes);
}

/** The operation followed to its end; when it does not end, the supervisor's log says why. */
async function endOf(s: TestSystem, operationId: string): Promise<any> {
  return waitOperationEnd(s, operationId, 180_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${s.log("sup1")}`);
  });
}

/** Asks the stream's leader to step down until `node` no longer leads it. */
async function moveLeaderOff(s: TestSystem, stream: string, node: string): Promise<void> {
  const jsm = await jetstreamManager(s.nc);
  for (let i = 0; i < 10 && (await jsm.streams.info(stream)).cluster?.leader === node; i++) {
    await s.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, "", { timeout: 5_000 }).catch(() => undefined);
    await waitFor(`${stream} to have a leader`, async () => !!(await jsm.streams.info(stream)).cluster?.leader, 30_000, 50);
  }
}

test("cluster promotion - the directory bucket's leader killed while promoteAccounts runs: it waits the election out, and no account fails", async () => {
  const s = sys!;
  const cluster = s.cluster!;
  await wholeCluster(s);
  const names = Array.from({ length: 60 }, (_, i) => `q${i}@example.com`);
  await createAccounts(s, names, MS1);
  await addReplicas(s, names, MS2, 10);
  const jsm = await jetstreamManager(s.nc);
  const dirStream = `KV_${s.config.jetstream.buckets.directory}`;
  const victimName = (await jsm.streams.info(dirStream)).cluster?.leader;
  const victim = cluster.nodes.find((n) => n.spec.name === victimName);
  assert.ok(victim, `${dirStream} has a leader among the nodes (${victimName})`);
  // Only the directory's election is under test: MR_TX is led elsewhere.
  await moveLeaderOff(s, s.config.jetstream.streams.tx, victim!.spec.name);

  // The accounts go to ms2 in promoteMany calls: the victim dies once the first is on its way,
  // so the directory records of the batch meet the election.
  const seen: string[] = [];
  const wire = s.nc.subscribe(`mr.node.${MS2}.admin`, {
    callback: (_e, m) => {
      try {
        seen.push(String((JSON.parse(new TextDecoder().decode(m.data)) as { method?: string }).method));
      } catch {
        /* not JSON-RPC */
      }
    },
  });
  let operationId: string;
  try {
    operationId = (await s.admin("promoteAccounts", { accounts: names, threads: 2 })).operationId;
    await waitFor("the promotion to be under way", () => (seen.includes("promoteMany") ? true : undefined), 60_000, 20);
  } finally {
    wire.unsubscribe();
  }
  await victim!.kill9();
  const m = await endOf(s, operationId);
  assert.is(m.state, "successful", `${JSON.stringify(m.failed)}\n${s.log("sup1")}`);
  assert.is(m.promoted.length, names.length);
  for (const p of m.promoted) assert.is(p.to, MS2, `${p.account} promoted to ${MS2}`);
  await victim!.restart();
  await waitClusterReady(cluster.nodes);
});

test("cluster promotion - the node a promote request passes through is killed with it: the supervisor asks again, and the account is promoted once", async () => {
  const s = sys!;
  const cluster = s.cluster!;
  await wholeCluster(s);
  const jsm = await jetstreamManager(s.nc);
  // The victim leads the directory bucket, as above; ms3, the target, reaches NATS only through
  // it, so the promote request the victim holds for ms3 when it dies is lost with it.
  const dirStream = `KV_${s.config.jetstream.buckets.directory}`;
  const victimName = (await jsm.streams.info(dirStream)).cluster?.leader;
  const victim = cluster.nodes.find((n) => n.spec.name === victimName);
  assert.ok(victim, `${dirStream} has a leader among the nodes (${victimName})`);
  proxy = await TcpProxy.start(victim!.spec.port);
  // Only the proxy: once the victim is gone, ms3 reconnects to the nodes its INFO named.
  await s.startMailstore(MS3, { servers: [proxy.url] });
  await moveLeaderOff(s, s.config.jetstream.streams.tx, victim!.spec.name);
  const name = "r1@example.com";
  const id = (await createAccounts(s, [name], MS1, { messages: 2 })).get(name)!;
  await addReplicas(s, [name], MS3, 10);
  await waitReplicaCaughtUp(s, name, MS3, 60_000);
  await waitAlive(s, MS3, true, 60_000);

  const seen: string[] = [];
  const wire = s.nc.subscribe(`mr.node.${MS3}.admin`, {
    callback: (_e, m) => {
      try {
        seen.push(String((JSON.parse(new TextDecoder().decode(m.data)) as { method?: string }).method));
      } catch {
        /* not JSON-RPC */
      }
    },
  });
  try {
    // ms3 hears nothing until the promote request is on its way to it, held by the victim's link.
    proxy.stall("toClient");
    const { operationId } = await s.admin("promoteAccounts", { accounts: name, destination: MS3 });
    // promoteAccounts sends its accounts in promoteMany calls (one account here).
    await waitFor("the promote request sent to ms3", () => (seen.includes("promoteMany") ? true : undefined), 60_000, 20);
    await victim!.kill9();
    // What the dead node had not delivered yet is gone with it; ms3 reconnects elsewhere.
    proxy.cut();
    proxy.resume();
    const m = await endOf(s, operationId);
    assert.is(m.state, "successful", `${JSON.stringify(m.failed)}\n${s.log("sup1")}`);
    assert.equal(
      m.promoted.map((p: { to: string }) => p.to),
      [MS3],
    );
  } finally {
    wire.unsubscribe();
  }
  await victim!.restart();
  await waitClusterReady(cluster.nodes);
  // Asked more than once, promoted once: one Promoted entry, for the next epoch. (Read once the
  // cluster is whole again: a read creates a consumer, which waits for a meta leader.)
  const batches = await waitFor(`the log of ${name} read`, () => readAccountLog(s, id, readerKeyring(s, MS1)), 60_000, 500);
  assert.equal(
    promotedEntries(batches).map((p) => [p.epoch, p.host]),
    [[2, MS3]],
  );
  const rec = await directoryRecord(s, id);
  assert.equal([rec.mailHost, rec.epoch], [MS3, 2]);
});

test.run();
