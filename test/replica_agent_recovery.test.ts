// The replica agent recovers by itself from a lost steady consumer and from a failed
// catch-up, without waiting for the account's next entry. The replica mailstore talks to
// nats-server through a TCP proxy, so the fault windows are held open deterministically.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MailstoreNode, nodeMailboxSubject } from "../actors/mailstore/node.js";
import { agentConsumerName } from "../actors/mailstore/replica_agent.js";
import { covers, filterOfConfig } from "../actors/mailstore/steady_filter.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { jetstreamManager } from "@nats-io/jetstream";

const PRIMARY = "ms1.example.com";
const REPLICA = "ms2.example.com";
let sys: TestSystem;
let proxy: TcpProxy;
const logs: string[] = [];

/** Whether one of the replica's JSON log lines matches. */
function logged(match: (e: Record<string, unknown>) => boolean): true | undefined {
  return logs.some((l) => match(JSON.parse(l) as Record<string, unknown>)) ? true : undefined;
}

async function startReplicaThroughProxy(): Promise<MailstoreNode> {
  return sys.startMailstore(REPLICA, { servers: [proxy.url], log: sys.nodeLog((l) => void logs.push(l)) });
}

/** Writes on the primary's own subject: the replica (whose traffic may be held) never routes it. */
function deliver(account: string, n: number): Promise<{ id: number }> {
  return rpcCall(sys.nc, nodeMailboxSubject(PRIMARY), "deliverMessage", { account, raw: rawMessage(n) }, { timeoutMs: 15_000 });
}

async function head(account: string): Promise<number> {
  return (await sys.admin("getAccountStatus", { accounts: account })).accounts[0].sequence;
}

function applied(accountId: string): number {
  return sys.inProcess.get(REPLICA)!.store.replicaState(accountId)?.appliedSeq ?? 0;
}

async function caughtUp(account: string, accountId: string, timeoutMs = 20_000): Promise<void> {
  const target = await head(account);
  await waitFor(`${account} applied on ${REPLICA} up to seq ${target}`, () => applied(accountId) >= target, timeoutMs);
  const primary = sys.inProcess.get(PRIMARY)!.store.dumpAccount(accountId);
  assert.equal(sys.inProcess.get(REPLICA)!.store.dumpAccount(accountId), primary);
}

async function replicatedAccount(name: string): Promise<string> {
  const acct = await sys.mailbox("createAccount", { name, mailHost: PRIMARY });
  await deliver(name, 1);
  await sys.admin("setAccountDestination", { destination: REPLICA, priority: 10, accounts: [name] });
  await caughtUp(name, acct.id);
  return acct.id;
}

test.before(async () => {
  sys = await TestSystem.start({ hosts: [PRIMARY, REPLICA] });
  proxy = await TcpProxy.start(sys.nats.spec.port);
  await sys.startMailstore(PRIMARY);
  await startReplicaThroughProxy();
  await sys.startSupervisor();
});
test.after(async () => {
  await sys?.stop();
  await proxy?.stop();
});

test("replica agent - a deleted steady consumer is recreated, logged, and what was written meanwhile is applied", async () => {
  const idleId = await replicatedAccount("idle@example.com");
  const busyId = await replicatedAccount("busy@example.com");
  const jsm = await jetstreamManager(sys.nc);
  const stream = sys.config.jetstream.streams.tx;
  const durable = agentConsumerName(REPLICA);
  // The replica creates its durable (and lists a new account in it) in a filter sync that may
  // land after the account's first catch-up: deleted only once it reads both accounts.
  await waitFor(`${durable} lists both accounts`, async () => {
    const f = filterOfConfig((await jsm.consumers.info(stream, durable)).config);
    return covers(f, idleId) && covers(f, busyId);
  });
  // Hold what the server sends the replica, so the write below is acknowledged while its
  // durable is certainly missing (the replica cannot have recreated it yet).
  proxy.stall("toClient");
  try {
    await jsm.consumers.delete(stream, durable);
    await deliver("idle@example.com", 2);
  } finally {
    proxy.resume("toClient");
  }
  const line = "steady consumer was deleted; recreated";
  await waitFor(`the replica logs "${line}" for ${durable}`, () => logged((e) => e.msg === line && e.consumer === durable), 20_000);
  assert.ok(await jsm.consumers.info(stream, durable));
  // The idle account gets no further entry: its catch-up after the recreation applies it.
  await caughtUp("idle@example.com", idleId);
  // New entries flow through the recreated steady consumer.
  await deliver("busy@example.com", 3);
  await caughtUp("busy@example.com", busyId);
});

test("replica agent - a catch-up that failed is retried without waiting for a new entry", async () => {
  const name = "quiet@example.com";
  const acct = await sys.mailbox("createAccount", { name, mailHost: PRIMARY });
  for (let i = 0; i < 3; i++) await deliver(name, 10 + i);
  // The replica hears the directory change but its requests to the server hang, so the
  // catch-up that the new replica starts fails (its read times out).
  proxy.stall("toServer");
  try {
    await sys.admin("setAccountDestination", { destination: REPLICA, priority: 10, accounts: [name] });
    await waitFor(
      `the replica logs that the catch-up of ${acct.id} failed`,
      () => logged((e) => e.msg === "catch-up failed; retrying" && e.accountId === acct.id),
      30_000,
    );
    assert.is(applied(acct.id), 0);
  } finally {
    proxy.resume("toServer");
  }
  // No new entry is written: only a retry of the catch-up can bring the replica to the head.
  await caughtUp(name, acct.id, 30_000);
});

test.run();
