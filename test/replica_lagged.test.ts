// Lagged replicas (setAccountDestination ... delay) against a real system: nats-server, three
// mailstores with their SQLite files, a supervisor. No outcome depends on timing: a replica
// with a delay of an hour cannot have applied an entry written during the test, and one with a
// delay of 2 s is only required to reach the head eventually.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findAdminCommand } from "../src/cli/admin/definitions.js";
import { CliUsageError } from "../src/cli/errors.js";
import { MAX_REPLICA_DELAY_S } from "../src/directory/types.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { refusedProtocol } from "./helpers/refused.js";
import { agentConsumerName } from "../actors/mailstore/replica_agent.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const HOUR = 3_600;

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning();
});
test.after(async () => {
  await sys?.stop();
});

const store = (host: string) => sys.inProcess.get(host)!.store;

async function status(name: string): Promise<any> {
  return (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
}

const replicaOn = (st: any, host: string): any => st.replicas.find((r: { destination: string }) => r.destination === host);

/** Item ids of every acknowledged deliverMessage, per account. */
const written = new Map<string, number[]>();
let nextMessage = 0;

async function deliver(name: string): Promise<number> {
  const { itemId } = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(nextMessage++, name) });
  written.set(name, [...(written.get(name) ?? []), itemId]);
  return itemId;
}

/** Waits for the operation to end and returns its record. */
async function operationEnd(operationId: string): Promise<any> {
  return waitFor(
    `operation ${operationId} ends`,
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: operationId });
      return m.state !== "running" ? m : undefined;
    },
    30_000,
  );
}

async function setDestination(params: Record<string, unknown>): Promise<any> {
  const r = await sys.admin("setAccountDestination", params);
  const m = await operationEnd(r.operationId);
  assert.is(m.state, "successful", JSON.stringify(m.results));
  return { started: r, done: m };
}

/** The destination's agent follows the record's delay once its directory watch delivered it. */
async function destinationKnowsDelay(host: string, accountId: string, delay: number): Promise<void> {
  await waitFor(`${host} knows the delay ${delay} of ${accountId}`, async () => {
    const rec = await sys.inProcess.get(host)!.accountRecord(accountId);
    return (rec.replicas.find((r) => r.destination === host)?.delay ?? 0) === delay;
  });
}

/** An account on MS1 with `messages` messages delivered. */
async function account(name: string, messages: number): Promise<string> {
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  for (let i = 0; i < messages; i++) await deliver(name);
  return id;
}

/** Waits until the replica on `host` has applied the account's log head. */
async function atHead(name: string, host: string, timeoutMs = 30_000): Promise<any> {
  return waitFor(
    `${name} at its head on ${host}`,
    async () => {
      const st = await status(name);
      const r = replicaOn(st, host);
      return r && r.status === "available" && r.sequence === st.sequence ? st : undefined;
    },
    timeoutMs,
  );
}

async function promote(params: Record<string, unknown>): Promise<any> {
  const { operationId } = await sys.admin("promoteAccounts", params);
  return operationEnd(operationId);
}

test("lagged replicas - a bad delay is refused, naming what is allowed, and nothing changes", async () => {
  const id = await account("lag0@example.com", 1);
  await setDestination({ destination: MS2, priority: 10, accounts: "lag0@example.com" });
  const before = JSON.stringify((await sys.supervisor!.directory.byId(id))!.value);
  for (const bad of [-1, 1.5, "60", MAX_REPLICA_DELAY_S + 1, true]) {
    for (const destination of [MS2, MS3]) {
      const e = await refusedProtocol(sys.admin("setAccountDestination", { destination, priority: 5, accounts: "lag0@example.com", delay: bad }), -32602);
      assert.match(e.message, /"delay"/);
      assert.match(e.message, `an integer from 0 to ${MAX_REPLICA_DELAY_S}`);
    }
  }
  assert.is(JSON.stringify((await sys.supervisor!.directory.byId(id))!.value), before, "the record is unchanged");
  assert.is(store(MS3).replicaState(id), undefined, "no replica was started");

  // The CLI (and the REPL) take the word from the same spec, with the same bounds.
  const cmd = findAdminCommand("setAccountDestination")!;
  assert.equal(cmd.toParams([MS3, "5", "accounts", "lag0@example.com", "delay", "3600"], process.cwd()), {
    destination: MS3,
    priority: 5,
    accounts: ["lag0@example.com"],
    delay: 3600,
  });
  for (const bad of ["-1", "1.5", "soon", String(MAX_REPLICA_DELAY_S + 1)]) {
    assert.throws(
      () => cmd.toParams([MS3, "5", "accounts", "lag0@example.com", "delay", bad], process.cwd()),
      (e: unknown) => e instanceof CliUsageError,
    );
  }
});

test("lagged replicas - a replica with a delay holds back new entries while the others of the account apply them; getAccountStatus shows the delay", async () => {
  const id = await account("lag1@example.com", 2);
  await setDestination({ destination: MS2, priority: 10, accounts: "lag1@example.com" });
  await setDestination({ destination: MS3, priority: 5, accounts: "lag1@example.com" });
  const seeded = await atHead("lag1@example.com", MS3);

  // An existing replica becomes lagged; its copy stays where it is.
  const { started, done } = await setDestination({ destination: MS3, priority: 5, accounts: "lag1@example.com", delay: HOUR });
  assert.is(started.accounts[0].delay, HOUR);
  assert.is(done.params.delay, HOUR);
  await destinationKnowsDelay(MS3, id, HOUR);
  const held = store(MS3).replicaState(id)!.appliedSeq;
  assert.is(held, seeded.sequence);

  await deliver("lag1@example.com");
  await sys.mailbox("setFlags", { account: "lag1@example.com", ids: [written.get("lag1@example.com")![0]], flags: ["seen"] });
  const st = await atHead("lag1@example.com", MS2);
  // MS3's agent has handled both entries once its consumer acked them (it acks after handling).
  const node = sys.inProcess.get(MS3)!;
  await waitFor("MS3's agent handled the new entries", async () => {
    const ci = await node.assets.jsm.consumers.info(node.assets.opts.txStream, agentConsumerName(MS3));
    return ci.ack_floor.stream_seq >= st.sequence;
  });

  assert.is(store(MS3).replicaState(id)!.appliedSeq, held, "the lagged replica applied nothing written after its delay was set");
  assert.ok(st.sequence > held);
  const now = await status("lag1@example.com");
  const lagged = replicaOn(now, MS3);
  assert.is(lagged.delay, HOUR);
  assert.is(lagged.status, "available");
  assert.is(lagged.sequence, held);
  assert.is(lagged.lagEvents, 2, "both new entries wait");
  assert.is(replicaOn(now, MS2).delay, 0);
  assert.is(replicaOn(now, MS2).sequence, now.sequence);

  // setAccountDestination without delay keeps it (a priority change does not end the lag).
  await setDestination({ destination: MS3, priority: 6, accounts: "lag1@example.com" });
  assert.is(replicaOn(await status("lag1@example.com"), MS3).delay, HOUR);
  assert.is(replicaOn(await status("lag1@example.com"), MS3).priority, 6);
});

test("lagged replicas - the delay survives a restart of the destination: what it held back is still held, none of it lost", async () => {
  const id = (await status("lag1@example.com")).accountId;
  const held = store(MS3).replicaState(id)!.appliedSeq;
  await sys.inProcess.get(MS3)!.stop();
  sys.inProcess.delete(MS3);
  await sys.startMailstore(MS3);
  await deliver("lag1@example.com");
  const st = await atHead("lag1@example.com", MS2);
  const node = sys.inProcess.get(MS3)!;
  await waitFor("MS3's agent handled the new entry", async () => {
    const ci = await node.assets.jsm.consumers.info(node.assets.opts.txStream, agentConsumerName(MS3));
    return ci.ack_floor.stream_seq >= st.sequence;
  });
  const lagged = replicaOn(await status("lag1@example.com"), MS3);
  assert.is(lagged.sequence, held, "the restarted replica applied nothing younger than its delay");
  assert.is(lagged.status, "available");
  assert.is(lagged.lagEvents, 3, "the two entries held before the restart and the new one wait");
});

test("lagged replicas - a replica with a small delay reaches the head, entry by entry as each is old enough", async () => {
  const id = await account("lag2@example.com", 2);
  const { started } = await setDestination({ destination: MS2, priority: 10, accounts: "lag2@example.com", delay: 2 });
  assert.is(started.accounts[0].delay, 2);
  await atHead("lag2@example.com", MS2);
  await destinationKnowsDelay(MS2, id, 2);
  // Entries that reach the replica while it is at the head wait too, then are applied.
  await deliver("lag2@example.com");
  await deliver("lag2@example.com");
  const st = await atHead("lag2@example.com", MS2);
  assert.is(replicaOn(st, MS2).delay, 2);
  assert.equal(
    store(MS2)
      .dumpAccount(id)
      .items.map((i) => i.id),
    written.get("lag2@example.com"),
  );
});

test("lagged replicas - delay 0 ends the lag: what was held back is applied at once", async () => {
  const id = await account("lag4@example.com", 2);
  await setDestination({ destination: MS2, priority: 10, accounts: "lag4@example.com", delay: HOUR });
  await destinationKnowsDelay(MS2, id, HOUR);
  assert.ok(replicaOn(await status("lag4@example.com"), MS2).sequence < (await status("lag4@example.com")).sequence);
  await setDestination({ destination: MS2, priority: 10, accounts: "lag4@example.com", delay: 0 });
  const st = await atHead("lag4@example.com", MS2);
  assert.is(replicaOn(st, MS2).delay, 0);
  assert.is((await sys.supervisor!.directory.byId(id))!.value.replicas[0]!.delay, undefined, "a replica that is not lagged is stored as before");
});

test("lagged replicas - promoteAccounts skips a lagged replica even with the better priority, and refuses when only lagged ones remain", async () => {
  const m = await promote({ accounts: "lag1@example.com" });
  assert.is(m.state, "successful", JSON.stringify(m.failed));
  assert.is(m.promoted[0].to, MS2, "the lagged replica on MS3 (priority 6) is skipped for MS2 (priority 10)");
  assert.is(m.promoted[0].epoch, 2);

  // A new lagged replica of an account whose every entry is younger than its delay: the
  // operation ends when it has applied all it may (nothing), not at the head.
  await account("lag3@example.com", 2);
  const { done } = await setDestination({ destination: MS3, priority: 1, accounts: "lag3@example.com", delay: HOUR });
  assert.is(done.results[0].sequence, 0);
  const only = await promote({ accounts: "lag3@example.com" });
  assert.is(only.state, "failed");
  assert.is(only.failed[0].code, "REPLICA_UNAVAILABLE");
  assert.match(only.failed[0].message, /lagged/);
  assert.match(only.failed[0].message, /destination ms3\.example\.com/);
  assert.is((await status("lag3@example.com")).accountMailHost, MS1, "nothing moved");
});

test("lagged replicas - named as destination, a lagged replica is drained to the head first and holds every acknowledged write", async () => {
  // lag1: primary MS2 now, MS1 its old primary, MS3 lagged by an hour.
  const id = (await status("lag1@example.com")).accountId;
  await deliver("lag1@example.com");
  await sys.mailbox("setFlags", { account: "lag1@example.com", ids: [written.get("lag1@example.com")!.at(-1)!], flags: ["flagged"] });
  const before = await status("lag1@example.com");
  assert.ok(replicaOn(before, MS3).sequence < before.sequence, "the lagged replica is behind");

  const m = await promote({ accounts: "lag1@example.com", destination: MS3 });
  assert.is(m.state, "successful", JSON.stringify(m.failed));
  assert.is(m.promoted[0].to, MS3);
  assert.is(m.promoted[0].epoch, 3);
  const dump = store(MS3).dumpAccount(id);
  assert.equal(
    dump.items.map((i) => i.id),
    written.get("lag1@example.com"),
    "every acknowledged message",
  );
  assert.ok(dump.items[0]!.flags.includes("seen"));
  assert.ok(dump.items.at(-1)!.flags.includes("flagged"));
  // Writes go on on the new primary, and every copy agrees.
  await deliver("lag1@example.com");
  await waitFor("copies of lag1 equal", () => {
    const dumps = [MS1, MS2, MS3].map((h) => JSON.stringify(store(h).dumpAccount(id)));
    return dumps.every((d) => d === dumps[0]);
  });
  const after = await status("lag1@example.com");
  assert.is(after.accountMailHost, MS3);
  assert.ok(
    after.replicas.every((r: { delay: number }) => r.delay === 0),
    "the old primary is kept as a replica without delay",
  );

  // A lagged replica that applied nothing at all is drained from the start.
  const lag3 = await promote({ accounts: "lag3@example.com", destination: MS3 });
  assert.is(lag3.state, "successful", JSON.stringify(lag3.failed));
  const lag3Id = (await status("lag3@example.com")).accountId;
  assert.equal(
    store(MS3)
      .dumpAccount(lag3Id)
      .items.map((i) => i.id),
    written.get("lag3@example.com"),
  );
});

test("lagged replicas - automatic failover skips a lagged replica even with the better priority", async () => {
  const own = await TestSystem.start({
    hosts: [MS1, MS2, MS3],
    config: (c) => {
      c.supervisor.autoFailover = true;
      c.supervisor.failoverAfterMs = 3_000;
    },
  });
  try {
    await own.spawnMailstore(MS1);
    await own.startMailstore(MS2);
    await own.startMailstore(MS3);
    await own.startSupervisor();
    const name = "failover@example.com";
    const { id } = await own.mailbox("createAccount", { name, mailHost: MS1 });
    const acked: number[] = [];
    for (let i = 0; i < 3; i++) acked.push((await own.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) })).itemId);
    for (const [destination, priority, delay] of [
      [MS2, 1, HOUR],
      [MS3, 10, 0],
    ] as const) {
      const { operationId } = await own.admin("setAccountDestination", { destination, priority, accounts: name, delay });
      await waitFor(`replica on ${destination} ready`, async () => (await own.admin("monitor", { operation_uuid: operationId })).state === "successful");
    }
    await own.kill9(MS1);
    const st = await waitFor(
      "the account promoted without a command",
      async () => {
        const a = (await own.admin("getAccountStatus", { accounts: name })).accounts[0];
        return a.accountMailHost !== MS1 ? a : undefined;
      },
      30_000,
      250,
    );
    assert.is(st.accountMailHost, MS3, "not the lagged replica on MS2 (priority 1)");
    for (const itemId of acked) assert.ok(own.inProcess.get(MS3)!.store.getItem(id, itemId), `acknowledged item ${itemId} is on the new primary`);
    assert.is(replicaOn(st, MS2).delay, HOUR, "MS2 stays a lagged replica");
  } finally {
    await own.stop();
  }
});

test.run();
