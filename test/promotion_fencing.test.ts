// Fencing of a frozen old primary (docs/architecture.md, Write path and Promotion): ms1, the primary, runs
// as a child process and is frozen with SIGSTOP while writes are in flight; more writes are
// sent straight to it (mr.node.ms1.example.com.mailbox), so they wait in its socket. The
// account is promoted to ms2 while ms1 is frozen, then ms1 is let go with SIGCONT. Whatever ms1
// then tries to write must fail: the server refuses its appends (wrong last sequence) because
// ms2's Promoted is at the head. So no entry after the Promoted is ms1's or of an older epoch,
// every acknowledged write is in the log (ms1's before the Promoted) and on ms2, and ms1 ends
// as a replica at epoch 2 with ms2's rows. Done twice: once after ms1's heartbeat expired (the
// supervisor does not ask it to stop), once right away (the supervisor's stopWriting to the
// frozen ms1 times out, and reaches it only after SIGCONT).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { sleep } from "./helpers/processes.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { errorCode, firstDifference, intIn, logHead, prng, readAccountLog, readerKeyring, stopBounded, testSeed } from "./helpers/workload.js";
import { addReplicas, createAccounts, promote, promotedEntries, waitAlive, waitRoutesTo, waitStoreFile, withStoreFile } from "./helpers/promotion.js";

const SEED = testSeed();
const seedNote = `(seed ${SEED}; replay with MR_TEST_SEED=${SEED})`;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS1_SUBJECT = `mr.node.${MS1}.mailbox`;
/** client timeout of every write: longer than the freeze, so each call gets ms1's real answer */
const CALL_TIMEOUT_MS = 40_000;
/** how ms1's writes may fail once a newer primary exists */
// OUTCOME_UNKNOWN: a frozen primary's append whose ack it never saw. UNAVAILABLE: a delivery
// whose message-body put outlived its deadline while the primary was frozen (nothing of it was
// appended). Neither is ever an acknowledgement.
const FENCED_CODES = new Set(["FENCED", "NOT_PRIMARY", "TIMEOUT", "ASK_TIMEOUT", "OUTCOME_UNKNOWN", "UNAVAILABLE"]);

let sys: TestSystem;
const rand = prng(SEED);
let ids = new Map<string, string>();
let messageNo = 0;

interface Call {
  phase: "load" | "queued";
  subject: string;
  method: string;
  n: number;
  ok?: boolean;
  result?: any;
  code?: string;
  message?: string;
}

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  await sys.spawnMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startSupervisor();
  ids = await createAccounts(sys, ["fence1@example.com", "fence2@example.com"], MS1, { messages: 3 });
  await addReplicas(sys, [...ids.keys()], MS2, 10);
});
test.after(async () => {
  sys?.processes.get(MS1)?.kill("SIGCONT");
  await stopBounded(sys);
});

function send(calls: Call[], c: Omit<Call, "n">, params: Record<string, unknown>, n: number): { call: Call; done: Promise<void> } {
  const call: Call = { ...c, n };
  calls.push(call);
  const done = rpcCall<any>(sys.nc, c.subject, c.method, params, { timeoutMs: CALL_TIMEOUT_MS }).then(
    (result) => {
      call.ok = true;
      call.result = result;
    },
    (e: Error) => {
      call.ok = false;
      call.code = errorCode(e);
      const data = (e as { data?: unknown }).data;
      call.message = `${e.message}${data !== undefined ? ` ${JSON.stringify(data)}` : ""}`;
    },
  );
  return { call, done };
}

/**
 * Writes to `account` until ms1 is frozen (SIGSTOP once `freezeAt` were acknowledged), then
 * queues more writes straight to ms1; runs `whileFrozen`, lets ms1 go (SIGCONT) and waits for
 * every call's outcome.
 */
async function freezeDuringWrites(account: string, freezeAt: number, whileFrozen: () => Promise<void>): Promise<Call[]> {
  const calls: Call[] = [];
  const ms1 = sys.processes.get(MS1)!;
  let frozen = false;
  let freeze!: () => void;
  const frozenNow = new Promise<void>((r) => (freeze = r));
  let acked = 0;
  const pending: Promise<void>[] = [];
  const workers = Array.from({ length: 8 }, async (_, w) => {
    while (!frozen) {
      const n = messageNo++;
      const subject = (n + w) % 2 === 0 ? "mr.rpc.mailbox" : MS1_SUBJECT;
      const { call, done } = send(calls, { phase: "load", subject, method: "deliverMessage" }, { account, raw: rawMessage(n, account) }, n);
      pending.push(done);
      // Once frozen, in-flight calls stay pending; the worker stops sending.
      await Promise.race([done, frozenNow]);
      if (call.ok) acked++;
      if (!frozen && acked >= freezeAt) {
        ms1.kill("SIGSTOP");
        frozen = true;
        freeze();
      }
    }
  });
  await Promise.all(workers);
  // Queued in ms1's socket: deliveries and flag changes on items it acknowledged.
  const known = calls.filter((c) => c.ok && c.method === "deliverMessage").map((c) => c.result.itemId as number);
  for (let i = 0; i < 20; i++) {
    const n = messageNo++;
    pending.push(send(calls, { phase: "queued", subject: MS1_SUBJECT, method: "deliverMessage" }, { account, raw: rawMessage(n, account) }, n).done);
    if (known.length > 0 && i % 4 === 0) {
      pending.push(
        send(
          calls,
          { phase: "queued", subject: MS1_SUBJECT, method: "setFlags" },
          { account, ids: [known[intIn(rand, 0, known.length - 1)]!], flags: ["seen", `q${n}`] },
          n,
        ).done,
      );
    }
  }
  await sleep(50);
  const inFlight = calls.filter((c) => c.ok === undefined).length;
  assert.ok(inFlight >= 20, `writes pending on the frozen ms1: ${inFlight}`);
  try {
    await whileFrozen();
  } finally {
    ms1.kill("SIGCONT");
  }
  await Promise.all(pending);
  if (process.env.MR_TEST_LOG) process.stderr.write(`ms1's log:\n${sys.log(MS1).slice(-8000)}\n`);
  return calls;
}

function summary(calls: Call[]): string {
  const by: Record<string, number> = {};
  for (const c of calls) {
    const k = `${c.phase} ${c.method} ${c.ok ? "ok" : c.code}`;
    by[k] = (by[k] ?? 0) + 1;
  }
  return JSON.stringify(by);
}

/** The fencing guarantees, checked against the log and ms2's rows. */
async function checkFenced(name: string, calls: Call[]): Promise<void> {
  const id = ids.get(name)!;
  const batches = await readAccountLog(sys, id, readerKeyring(sys, MS2));
  const promoted = promotedEntries(batches);
  assert.is(promoted.length, 1, `${name}: one Promoted in the log`);
  const p = promoted[0]!;
  assert.equal([p.epoch, p.host, p.writer], [2, MS2, MS2], `${name}: the Promoted entry`);

  // No write accepted from the old primary (or any older epoch) after the Promoted event.
  const late = batches.filter((b) => b.seq > p.seq && (b.batch.writer === MS1 || b.batch.epoch < p.epoch));
  assert.equal(
    late.map((b) => ({ seq: b.seq, writer: b.batch.writer, epoch: b.batch.epoch })),
    [],
    `${name}: entries after the Promoted (seq ${p.seq}) by ms1 or of an older epoch ${seedNote}`,
  );

  // Every acknowledged delivery is in the log (ms1's before the Promoted) and on ms2.
  const loggedAt = new Map<number, { seq: number; writer: string; blob: string }>();
  for (const { seq, batch } of batches) {
    for (const e of batch.events) if (e.t === "message.delivered") loggedAt.set(e.itemId, { seq, writer: batch.writer, blob: e.blob });
  }
  const ms2 = sys.inProcess.get(MS2)!;
  const problems: string[] = [];
  for (const c of calls.filter((x) => x.ok && x.method === "deliverMessage")) {
    const at = loggedAt.get(c.result.itemId);
    if (!at || at.blob !== c.result.blob) problems.push(`${c.phase} delivery ${c.n} (item ${c.result.itemId}) acknowledged but not in the log`);
    else if (at.writer === MS1 && at.seq > p.seq) problems.push(`${c.phase} delivery ${c.n} (item ${c.result.itemId}) acknowledged by ms1 after the Promoted`);
    else if (c.phase === "queued" && at.seq > p.seq) problems.push(`queued delivery ${c.n} sent to the frozen ms1 succeeded after the Promoted`);
    try {
      if (ms2.store.getItem(id, c.result.itemId).blob !== c.result.blob) problems.push(`item ${c.result.itemId} differs on ms2`);
    } catch (e) {
      problems.push(`item ${c.result.itemId} missing on ms2: ${(e as Error).message}`);
    }
  }
  assert.equal(problems, [], `${name}: ${seedNote}`);
  // A flag change acknowledged by ms1 was appended before the Promoted.
  for (const c of calls.filter((x) => x.ok && x.method === "setFlags")) {
    const word = `q${c.n}`;
    const at = batches.find((b) => b.batch.events.some((e) => e.t === "flags.set" && e.tags.includes(word)));
    assert.ok(at && at.seq < p.seq, `${name}: acknowledged flag change ${word} is in the log before the Promoted`);
  }
  // The writes queued on the frozen ms1 all fail, with a code saying it is not the writer.
  const queued = calls.filter((c) => c.phase === "queued");
  const badQueued = queued.filter((c) => c.ok || !FENCED_CODES.has(c.code!)).map((c) => `${c.method} ${c.n}: ${c.ok ? "ok" : `${c.code} ${c.message}`}`);
  assert.equal(badQueued, [], `${name}: writes queued on the frozen ms1 must fail FENCED / NOT_PRIMARY / timeout / unavailable ${seedNote}`);
  // Load calls that failed did so for a reason of the switchover, not something else.
  const badLoad = calls
    .filter((c) => c.phase === "load" && c.ok === false && !FENCED_CODES.has(c.code!))
    .map((c) => `${c.subject} ${c.n}: ${c.code} ${c.message}`);
  assert.equal(badLoad, [], `${name}: unexpected failures of in-flight writes ${seedNote}`);
}

/** ms1 ends as a replica of the account at epoch 2, with ms2's rows, at the log head. */
async function checkOldPrimaryIsReplica(name: string): Promise<void> {
  const id = ids.get(name)!;
  await waitRoutesTo(sys, [id], MS2);
  // A write after the switchover goes to ms2, and ms1 follows it.
  const d = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(messageNo++, name) });
  assert.ok(d.itemId > 0);
  const ms2 = sys.inProcess.get(MS2)!;
  assert.is(ms2.store.replicaState(id)!.role, "primary");
  const head = await logHead(sys, id);
  await waitStoreFile(sys, MS1, `ms1 applied ${name}'s log to its head ${head}`, (s) => s.replicaState(id)?.appliedSeq === head).catch((e: Error) => {
    const rs = withStoreFile(sys, MS1, (s) => s.replicaState(id));
    const hint = rs?.role === "primary" ? " (ms1's local role went back to primary after it was fenced, so its replica agent skips the account)" : "";
    throw new Error(`${e.message}; ms1's state: ${JSON.stringify(rs)}${hint}; ms1 log:\n${sys.log(MS1).slice(-3000)}`);
  });
  withStoreFile(sys, MS1, (s) => {
    const rs = s.replicaState(id)!;
    assert.is(rs.role, "replica", `${name}: ms1's role`);
    assert.is(rs.epoch, 2, `${name}: ms1's epoch`);
    assert.is(rs.status, "available", `${name}: ms1's replica status (${rs.error})`);
    const diff = firstDifference(ms2.store.dumpAccount(id), s.dumpAccount(id));
    assert.is(diff, undefined, `${name}: ms1's rows differ from ms2's: ${diff}`);
  });
  // Writes sent straight to ms1 are refused: it is no longer the primary.
  const refused = await rpcCall(sys.nc, MS1_SUBJECT, "deliverMessage", { account: name, raw: rawMessage(messageNo++, name) }, { timeoutMs: 10_000 }).then(
    () => "ok",
    (e) => errorCode(e),
  );
  assert.is(refused, "NOT_PRIMARY", `${name}: a write sent straight to the old primary`);
}

test(`promotion fencing - a frozen old primary promoted away after its heartbeat expired writes nothing after the Promoted and becomes a replica ${seedNote}`, async () => {
  const name = "fence1@example.com";
  let op: any;
  const calls = await freezeDuringWrites(name, intIn(rand, 5, 40), async () => {
    await waitAlive(sys, MS1, false);
    op = await promote(sys, { accounts: name, destination: MS2 });
  });
  console.log(`  ${name}: ${summary(calls)}`);
  assert.is(op.state, "successful", JSON.stringify(op.failed));
  assert.equal([op.promoted[0].to, op.promoted[0].from, op.promoted[0].epoch], [MS2, MS1, 2]);
  await checkFenced(name, calls);
  await checkOldPrimaryIsReplica(name);
});

test(`promotion fencing - promoted right away while frozen (the stop request cannot reach it): the same guarantees ${seedNote}`, async () => {
  const name = "fence2@example.com";
  await waitAlive(sys, MS1, true);
  let op: any;
  const calls = await freezeDuringWrites(name, intIn(rand, 5, 40), async () => {
    op = await promote(sys, { accounts: name, destination: MS2 });
  });
  console.log(`  ${name}: ${summary(calls)}`);
  assert.is(op.state, "successful", JSON.stringify(op.failed));
  assert.equal([op.promoted[0].to, op.promoted[0].from, op.promoted[0].epoch], [MS2, MS1, 2]);
  await checkFenced(name, calls);
  await checkOldPrimaryIsReplica(name);
  // fence1 is untouched by the second switchover: still on ms2 at epoch 2.
  const st = await sys.admin("getAccountStatus", { accounts: [...ids.keys()] });
  for (const a of st.accounts) assert.equal([a.accountMailHost, a.epoch], [MS2, 2], a.accountName);
});

test.run();
