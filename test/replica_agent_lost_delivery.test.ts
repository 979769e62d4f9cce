// Entries a steady durable delivered that never reached the replica (they were on their way
// when its connection broke) are redelivered only after ack_wait, and not at all once
// compaction removed them: the replica must not wait for the account's next entry to notice.
// Its traffic goes through a TCP proxy, so the deliveries are held and then lost on purpose.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nodeMailboxSubject } from "../actors/mailstore/node.js";
import { agentConsumerName } from "../actors/mailstore/replica_agent.js";
import { covers, filterOfConfig } from "../actors/mailstore/steady_filter.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";

const PRIMARY = "ms1.example.com";
const REPLICA = "ms2.example.com";
let sys: TestSystem;
let proxy: TcpProxy;
let jsm: JetStreamManager;
const logs: string[] = [];

function logged(match: (e: Record<string, unknown>) => boolean): true | undefined {
  return logs.some((l) => match(JSON.parse(l) as Record<string, unknown>)) ? true : undefined;
}

/** Written through the primary's own subject on the test's connection, which never goes through the proxy. */
function deliver(account: string, n: number): Promise<{ id: number }> {
  return rpcCall(sys.nc, nodeMailboxSubject(PRIMARY), "deliverMessage", { account, raw: rawMessage(n, account) }, { timeoutMs: 15_000 });
}

function primarySeq(accountId: string): number {
  return sys.inProcess.get(PRIMARY)!.store.replicaState(accountId)!.appliedSeq;
}

function applied(accountId: string): number {
  return sys.inProcess.get(REPLICA)!.store.replicaState(accountId)?.appliedSeq ?? 0;
}

async function caughtUp(accountId: string, timeoutMs = 20_000): Promise<void> {
  const target = primarySeq(accountId);
  await waitFor(`${accountId} applied on ${REPLICA} up to seq ${target}`, () => applied(accountId) >= target, timeoutMs);
  assert.equal(sys.inProcess.get(REPLICA)!.store.dumpAccount(accountId), sys.inProcess.get(PRIMARY)!.store.dumpAccount(accountId));
}

test.before(async () => {
  sys = await TestSystem.start({
    hosts: [PRIMARY, REPLICA],
    // Nothing automatic: the test snapshots and compacts when it means to.
    config: (c) => {
      c.snapshots = { everyEntries: 0, everyMs: 0 };
      c.retention = { keepDays: 0, compactEveryMs: 0 };
    },
  });
  proxy = await TcpProxy.start(sys.nats.spec.port);
  await sys.startMailstore(PRIMARY);
  await sys.startMailstore(REPLICA, { servers: [proxy.url], log: sys.nodeLog((l) => void logs.push(l)) });
  await sys.startSupervisor();
  jsm = await jetstreamManager(sys.nc);
});
test.after(async () => {
  await sys?.stop();
  await proxy?.stop();
});

test("replica agent - entries delivered into a broken connection and then compacted away are applied without a further entry", async () => {
  const name = "lost@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: PRIMARY });
  await deliver(name, 1);
  await sys.admin("setAccountDestination", { destination: REPLICA, priority: 10, accounts: [name] });
  await caughtUp(id);
  const stream = sys.config.jetstream.streams.tx;
  const durable = agentConsumerName(REPLICA);
  await waitFor(`${durable} lists ${name}`, async () => covers(filterOfConfig((await jsm.consumers.info(stream, durable)).config), id));
  const before = applied(id);

  // What the server sends the replica is held from here on; its pulls still reach the server.
  proxy.stall("toClient");
  try {
    for (let i = 0; i < 3; i++) await deliver(name, 2 + i);
    // The durable delivered them (into the held bytes): the server counts them as waiting for
    // an ack. A pull is always there within two heartbeats (the client pulls again when it
    // misses them), so this holds sooner or later, never by luck.
    await waitFor(
      `${durable} delivered the 3 new entries`,
      async () => {
        const ci = await jsm.consumers.info(stream, durable);
        return ci.num_pending === 0 && ci.num_ack_pending >= 3;
      },
      30_000,
    );
    // Snapshot at the head and compact: the delivered entries leave the stream, so the server
    // can never deliver them again.
    const out = await sys.admin("snapshotAccounts", { accounts: name, compact: true });
    assert.is(out.accounts[0].error ?? null, null, JSON.stringify(out));
    assert.ok((out.accounts[0].compactedTo ?? 0) >= before + 3, JSON.stringify(out));
    // The connection breaks with the deliveries still on their way: they are lost.
    proxy.cut();
  } finally {
    proxy.resume("toClient");
  }
  // No new entry is written: the replica must notice by itself (reconnected, heartbeats
  // missed) and seed from the snapshot. Within ack_wait (30 s), which would not help anyway.
  await caughtUp(id, 25_000);
  assert.ok(logged((e) => e.msg === "steady consumer may have lost deliveries; catching every replicated account up"));
  // And the durable goes on delivering.
  await deliver(name, 10);
  await caughtUp(id);
});

test.run();
