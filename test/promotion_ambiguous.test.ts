// Promotions with an ambiguous or failed outcome (issue 7, defects 3 and 6; docs/architecture.md, Promotion):
// - the target appends Promoted{epoch+1} but its reply never reaches the supervisor (the
//   supervisor's connection runs through a TCP proxy that drops what comes back to it): the
//   supervisor asks the log after its promote call times out, and the directory follows it;
// - a Promoted the directory never heard of (its target died after the append, no supervisor
//   ran), applied by another replica, is found by the reconciler, the directory repaired and
//   the Global Admin told;
// - a promotion that fails leaves the old primary writing at once, not after stopWriting's 60 s;
// - a target that died right after appending Promoted (the entry is written here with the
//   target's own keys, exactly as promotion_target.ts writes it, and never applied by the
//   target): the target's replica agent meets the entry, the mailstore takes over and has the
//   directory moved (asking a supervisor with the entry's grant; no one promotes and the
//   reconciler is off, so nothing else moves it);
// - a promote asked again for the same epoch (what the supervisor does when no answer came),
//   while the first runs and after it ended, gets the first's answer and appends no second
//   Promoted;
// - a target that cannot reach JetStream (its connection cut and refused) answers UNAVAILABLE,
//   which the supervisor asks again on, not an internal error; asked again once it is back,
//   it promotes.
// Fault windows are made deterministic: the target's inbound traffic is held until the test has
// seen the promote request on the wire, and the supervisor's inbound traffic is dropped until it
// asks the log (which it only does once its promote call has failed).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { stopBounded, errorCode, logHead, readAccountLog, readerKeyring } from "./helpers/workload.js";
import { createAccounts, addReplicas, directoryRecord, promotedEntries, waitOperationEnd } from "./helpers/promotion.js";
import { rpcCall, toErrorObject } from "../src/jsonrpc/index.js";
import { promoteHere } from "../actors/mailstore/promotion_target.js";
import type { PromoteHereResult } from "../src/protocol/node_api.js";
import { MailstoreNode } from "../actors/mailstore/node.js";
import { seal, signPromotionGrant } from "../src/envelope/index.js";
import { loadSigningKey } from "../src/keys/index.js";
import { SubjectLog } from "../src/runtime/subject_log.js";
import type { TxBatch } from "../src/mail/index.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const dec = new TextDecoder();

let sys: TestSystem;
let ms2Proxy: TcpProxy;
let ids = new Map<string, string>();

/** ms2 in this process, connected to nats-server through `proxy`. */
async function startBehind(host: string, proxy: TcpProxy): Promise<MailstoreNode> {
  return sys.startMailstore(host, { servers: [proxy.url] });
}

/**
 * Appends Promoted{epoch 2, host} at the head of the account's log, sealed with `host`'s own
 * keys: the entry promotion_target.ts writes, as a target that died right after appending
 * leaves it.
 */
async function appendPromoted(accountId: string, head: number, host: string): Promise<{ seq: number }> {
  // As promoteHere writes it: with the grant a trusted supervisor signed for this promotion.
  sys.ensureSupervisorKey("sup1");
  const grant = signPromotionGrant(loadSigningKey({ dir: sys.config.keys.dir, host: "sup1" }), { account: accountId, epoch: 2, host });
  const batch: TxBatch = {
    v: 1,
    account: accountId,
    epoch: 2,
    writer: host,
    at: Date.now(),
    prev: head,
    events: [{ t: "promoted", epoch: 2, host, from: MS1, grant }],
  };
  const log = new SubjectLog(jetstream(sys.nc), await jetstreamManager(sys.nc), sys.config.jetstream.streams.tx, `mr.tx.${accountId}`);
  return log.append(seal(readerKeyring(sys, host), batch), { expectedLastSeq: head, msgId: `test-promoted-${accountId}` });
}

/** Methods of the requests sent to a mailstore's admin subject, as seen on the wire. */
function watchAdminRequests(host: string): { methods: string[]; stop(): void } {
  const methods: string[] = [];
  const sub = sys.nc.subscribe(`mr.node.${host}.admin`, {
    callback: (_e, m) => {
      try {
        methods.push(String((JSON.parse(dec.decode(m.data)) as { method?: string }).method));
      } catch {
        /* not JSON-RPC */
      }
    },
  });
  return { methods, stop: () => sub.unsubscribe() };
}

test.before(async () => {
  sys = await TestSystem.start({
    hosts: [MS1, MS2, MS3],
    // Faults below hold a connection for seconds: heartbeats and the lease must outlast them.
    config: (c) => {
      c.node.heartbeatTtlMs = 60_000;
      c.supervisor.leaseTtlMs = 60_000;
    },
  });
  ms2Proxy = await TcpProxy.start(sys.nats.spec.port);
  await sys.startMailstore(MS1);
  await startBehind(MS2, ms2Proxy);
  await sys.startMailstore(MS3);
  await sys.startSupervisor("setup");
  ids = await createAccounts(
    sys,
    ["lost@example.com", "quiet@example.com", "failed@example.com", "orphan@example.com", "again@example.com", "unreachable@example.com"],
    MS1,
    { messages: 2 },
  );
  await addReplicas(sys, [...ids.keys()], MS2, 10);
  await addReplicas(sys, ["quiet@example.com"], MS3, 20);
  await sys.supervisor!.stop();
  sys.supervisor = undefined;
});
test.after(async () => {
  ms2Proxy?.resume();
  await stopBounded(sys);
  await ms2Proxy?.stop();
});

test("promotion ambiguous - the promote reply is lost after the target appended Promoted: the supervisor asks the log and the directory names the new primary", async () => {
  const id = ids.get("lost@example.com")!;
  const supProxy = await TcpProxy.start(sys.nats.spec.port);
  const wire = watchAdminRequests(MS2);
  try {
    await sys.startSupervisor("sup1", { servers: [supProxy.url], promoteTimeoutMs: 3_000, reconcileEveryMs: 0 });
    // ms2 gets nothing until the promote request is on its way to it.
    ms2Proxy.stall("toClient");
    const { operationId } = await sys.admin("promoteAccounts", { accounts: "lost@example.com", destination: MS2 });
    // promoteAccounts sends its accounts in promoteMany calls (one account here).
    await waitFor("the promote request sent to ms2", () => (wire.methods.includes("promoteMany") ? true : undefined));
    // From now on the supervisor hears nothing: the promote reply will be lost.
    supProxy.drop("toClient");
    ms2Proxy.resume("toClient");
    // The supervisor asks the log only after its promote call failed; then it may hear again.
    void waitFor("the supervisor to ask the log", () => (wire.methods.includes("logHead") ? true : undefined), 120_000).then(
      () => supProxy.resume("toClient"),
      () => {},
    );
    const rec = await waitFor(
      "the directory to name ms2 at epoch 2",
      async () => {
        const r = await directoryRecord(sys, id);
        return r.mailHost === MS2 && r.epoch === 2 ? r : undefined;
      },
      25_000,
    );
    assert.ok(
      rec.replicas.some((r) => r.destination === MS1),
      "the old primary stays listed as a replica",
    );
    supProxy.resume("toClient");
    const m = await waitOperationEnd(sys, operationId, 30_000);
    assert.is(m.state, "successful", JSON.stringify(m.failed));
    // Writes reach the new primary and succeed.
    const d = await sys.mailbox("deliverMessage", { account: "lost@example.com", raw: rawMessage(100, "lost@example.com") });
    assert.ok(d.itemId ?? d.id ?? d, "the write after the promotion was acknowledged");
  } finally {
    wire.stop();
    supProxy.resume();
    await sys.supervisor?.stop();
    sys.supervisor = undefined;
    await supProxy.stop();
  }
});

test("promotion ambiguous - a Promoted the directory never heard of: the reconciler repairs the directory and tells the Global Admin", async () => {
  const id = ids.get("quiet@example.com")!;
  const notes: any[] = [];
  const sub = sys.nc.subscribe("mr.notify.directory.repaired", { callback: (_e, m) => void notes.push(JSON.parse(dec.decode(m.data))) });
  const ms2 = sys.inProcess.get(MS2)!;
  const ms3 = sys.inProcess.get(MS3)!;
  try {
    // ms2 appended Promoted and died before telling anyone (no supervisor runs, and ms2's
    // replica agent is stopped, so ms2 does not move the directory itself); ms3, another
    // replica, applies the entry: the directory is behind the log.
    const head = await logHead(sys, id);
    await waitFor("ms2 and ms3 at the log head", () => ([ms2, ms3].every((n) => (n.store.replicaState(id)?.appliedSeq ?? 0) >= head) ? true : undefined));
    await ms2.agent.stop();
    await appendPromoted(id, head, MS2);
    await waitFor("ms3 at epoch 2", () => (ms3.store.replicaState(id)?.epoch === 2 ? true : undefined));
    const before = await directoryRecord(sys, id);
    assert.equal([before.mailHost, before.epoch], [MS1, 1], "the directory is behind the log");
    await sys.startSupervisor("sup2", { reconcileEveryMs: 300 });
    const rec = await waitFor(
      "the reconciler to move the directory to ms2 at epoch 2",
      async () => {
        const x = await directoryRecord(sys, id);
        return x.mailHost === MS2 && x.epoch === 2 ? x : undefined;
      },
      20_000,
    );
    assert.ok(rec.replicas.some((x) => x.destination === MS1));
    const note = await waitFor("the directory.repaired notification", () => notes.find((n) => n.accountId === id));
    assert.equal(note.from, { host: MS1, epoch: 1 });
    assert.equal(note.to, { host: MS2, epoch: 2 });
    assert.is(note.account, "quiet@example.com");
    await ms2.agent.start();
    await sys.mailbox("deliverMessage", { account: "quiet@example.com", raw: rawMessage(101, "quiet@example.com") });
  } finally {
    sub.unsubscribe();
    await sys.supervisor?.stop();
    sys.supervisor = undefined;
  }
});

test("promotion ambiguous - a failed promotion leaves the old primary writing at once", async () => {
  const id = ids.get("failed@example.com")!;
  await sys.startSupervisor("sup3", { reconcileEveryMs: 0 });
  try {
    // A paused replica refuses to be promoted (after the old primary was asked to stop).
    await sys.admin("pauseReplicas", { accounts: "failed@example.com", destination: MS2 });
    await waitFor("ms2's replica paused", () => (sys.inProcess.get(MS2)!.store.replicaState(id)?.status === "paused" ? true : undefined));
    const { operationId } = await sys.admin("promoteAccounts", { accounts: "failed@example.com", destination: MS2 });
    const m = await waitOperationEnd(sys, operationId, 30_000);
    assert.is(m.state, "failed");
    assert.is(m.failed[0]?.code, "REPLICA_UNAVAILABLE", JSON.stringify(m.failed));
    const rec = await directoryRecord(sys, id);
    assert.equal([rec.mailHost, rec.epoch], [MS1, 1]);
    // One attempt, no retry: the old primary writes again right away.
    let code = "ok";
    await sys.mailbox("deliverMessage", { account: "failed@example.com", raw: rawMessage(102, "failed@example.com") }).catch((e) => (code = errorCode(e)));
    assert.is(code, "ok", "the old primary accepts the write at once");
  } finally {
    await sys.supervisor?.stop();
    sys.supervisor = undefined;
  }
});

test("promotion ambiguous - a Promoted entry the target never applied itself: on meeting it, the target becomes primary and the directory follows", async () => {
  const id = ids.get("orphan@example.com")!;
  // A supervisor writes the directory when ms2 asks (with the Promoted's grant); its reconciler
  // is off and nobody promotes, so only ms2's takeover can move the record.
  await sys.startSupervisor("sup4", { reconcileEveryMs: 0 });
  const ms2 = sys.inProcess.get(MS2)!;
  const head = await logHead(sys, id);
  await waitFor("ms2's copy at the log head", () => ((ms2.store.replicaState(id)?.appliedSeq ?? 0) >= head ? true : undefined));
  const promoted = await appendPromoted(id, head, MS2);
  const rec = await waitFor(
    "the directory to name ms2 at epoch 2",
    async () => {
      const r = await directoryRecord(sys, id);
      return r.mailHost === MS2 && r.epoch === 2 ? r : undefined;
    },
    20_000,
  );
  assert.ok(
    rec.replicas.some((x) => x.destination === MS1),
    "the old primary stays listed as a replica",
  );
  assert.is(ms2.store.replicaState(id)?.role, "primary");
  await sys.mailbox("deliverMessage", { account: "orphan@example.com", raw: rawMessage(103, "orphan@example.com") });
  assert.ok((ms2.store.replicaState(id)?.appliedSeq ?? 0) > promoted.seq, "the write was appended by ms2 after the Promoted entry");
  await sys.supervisor?.stop();
  sys.supervisor = undefined;
});

test("promotion ambiguous - a promote asked again for the same epoch, while it runs and after it ended, gets the same answer and appends one Promoted", async () => {
  const id = ids.get("again@example.com")!;
  const ms2 = sys.inProcess.get(MS2)!;
  const head = await logHead(sys, id);
  await waitFor("ms2's copy at the log head", () => ((ms2.store.replicaState(id)?.appliedSeq ?? 0) >= head ? true : undefined));
  // The supervisor's request, as it sends it again when no answer came: same epoch, same grant.
  sys.ensureSupervisorKey("sup1");
  const grant = signPromotionGrant(loadSigningKey({ dir: sys.config.keys.dir, host: "sup1" }), { account: id, epoch: 2, host: MS2 });
  const ask = () => rpcCall<PromoteHereResult>(sys.nc, `mr.node.${MS2}.admin`, "promote", { account: id, epoch: 2, from: MS1, grant }, { timeoutMs: 30_000 });
  const wire = watchAdminRequests(MS2);
  let together: PromoteHereResult[];
  try {
    // Held, then delivered at once: the second and third requests reach ms2 while the first runs.
    ms2Proxy.stall("toClient");
    const asked = [ask(), ask(), ask()];
    await waitFor("three promote requests sent to ms2", () => (wire.methods.filter((m) => m === "promote").length === 3 ? true : undefined));
    ms2Proxy.resume("toClient");
    together = await Promise.all(asked);
  } finally {
    ms2Proxy.resume("toClient");
    wire.stop();
  }
  assert.equal([together[0]!.host, together[0]!.epoch, together[0]!.alreadyPromoted], [MS2, 2, false]);
  for (const a of together) assert.equal(a, together[0], "every request of the running promotion gets its answer");
  const later = await ask();
  assert.equal([later.host, later.epoch, later.alreadyPromoted], [MS2, 2, true], "asked after it ended: already promoted, same epoch");
  const promoted = promotedEntries(await readAccountLog(sys, id, readerKeyring(sys, MS1)));
  assert.equal(
    promoted.map((p) => [p.seq, p.epoch, p.host]),
    [[together[0]!.seq, 2, MS2]],
    "one Promoted entry",
  );
  assert.is(ms2.store.replicaState(id)?.role, "primary");
});

test("promotion ambiguous - a target that cannot reach JetStream answers UNAVAILABLE (asked again, it promotes), not an internal error", async () => {
  const id = ids.get("unreachable@example.com")!;
  const ms2 = sys.inProcess.get(MS2)!;
  const head = await logHead(sys, id);
  await waitFor("ms2's copy at the log head", () => ((ms2.store.replicaState(id)?.appliedSeq ?? 0) >= head ? true : undefined));
  sys.ensureSupervisorKey("sup1");
  const grant = signPromotionGrant(loadSigningKey({ dir: sys.config.keys.dir, host: "sup1" }), { account: id, epoch: 2, host: MS2 });
  // ms2 loses its only nats-server and cannot connect again: its reads of the log time out.
  ms2Proxy.block();
  ms2Proxy.cut();
  let refusal: unknown;
  try {
    refusal = await promoteHere(ms2, id, 2, MS1, grant).then(
      () => undefined,
      (e: unknown) => e,
    );
  } finally {
    ms2Proxy.unblock();
  }
  // What the supervisor hears over JSON-RPC.
  const sent = toErrorObject(refusal).error;
  assert.is((sent.data as { code?: string } | undefined)?.code, "UNAVAILABLE", `${sent.message} ${JSON.stringify(sent.data)}`);
  assert.is(ms2.store.replicaState(id)?.role, "replica", "nothing was promoted");
  // Back on NATS, the same promote (as the supervisor asks again) promotes.
  const r = await waitFor("the promote asked again to succeed", () => promoteHere(ms2, id, 2, MS1, grant), 60_000, 500);
  assert.equal([r.host, r.epoch], [MS2, 2]);
  const promoted = promotedEntries(await readAccountLog(sys, id, readerKeyring(sys, MS1)));
  assert.equal(
    promoted.map((p) => [p.epoch, p.host]),
    [[2, MS2]],
    "one Promoted entry",
  );
});

test.run();
