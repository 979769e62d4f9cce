// Operations over more accounts than one NATS message holds (operations.ts, operation_chunks.ts,
// monitor_answer.ts), on a real system whose nats-server has a small max_payload (64 KiB), so
// 300 accounts do what 10,000 do at the default 1 MiB: the record that lists every account
// (ids, names, start epochs, outcomes) is larger than one KV value may be. Before the record
// was stored in pieces, this promoteAccounts failed (Internal error) once its record passed
// max_payload. Then: a promotion stopped half way (its supervisor stopped) is resumed by the
// next supervisor, which promotes only the accounts with no stored outcome.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { stopBounded } from "./helpers/workload.js";
import { addReplicas, createAccounts, waitOperationEnd } from "./helpers/promotion.js";
import { Kvm, type KV } from "@nats-io/kv";
import { listKeys } from "../src/jetstream/kv_keys.js";
import { Operations, type OperationRecord, type OperationResult } from "../actors/supervisor/operations.js";
import { monitorAnswer } from "../actors/supervisor/monitor_answer.js";

const MAX_PAYLOAD = 64 * 1024;
const ACCOUNTS = 300;
const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const NAMES = Array.from({ length: ACCOUNTS }, (_, i) => `large-operation-${i}@example.com`);

let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2], licence: 10_000, natsMaxPayload: MAX_PAYLOAD });
  await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startSupervisor("sup1");
  await createAccounts(sys, NAMES, MS1);
  await addReplicas(sys, NAMES, MS2, 10);
});
test.after(async () => {
  await stopBounded(sys);
});

/** The operation as stored, read by an Operations of its own (what a resuming supervisor reads). */
async function stored(operationId: string): Promise<OperationRecord> {
  return new Operations(await directoryKv(), "reader", () => Date.now(), MAX_PAYLOAD).get(operationId);
}

/** The directory bucket over the test's own connection (also while no supervisor runs). */
async function directoryKv(): Promise<KV> {
  return new Kvm(sys.nc).open(sys.config.jetstream.buckets.directory);
}

test("operations large - promoteAccounts of more accounts than one record holds succeeds; monitor reports every account", async () => {
  const started = await sys.admin("promoteAccounts", { source_mail_host: MS1, threads: 8 }, 30_000);
  assert.is(started.total, ACCOUNTS);
  const end = await waitOperationEnd(sys, started.operationId, 300_000);
  assert.is(end.state, "successful", JSON.stringify(end.failed?.slice?.(0, 3)));
  assert.is(end.done, ACCOUNTS);
  assert.is(end.promoted.length, ACCOUNTS, "every promoted account is listed");
  assert.equal(new Set(end.promoted.map((p: { account: string }) => p.account)), new Set(NAMES));
  for (const p of end.promoted) assert.is(p.to, MS2);
  // The params' account lists alone do not fit beside the outcomes: they are left out, said so.
  assert.is(end.truncated, true);
  assert.is(end.omitted, 0);
  assert.is(end.params.source_mail_host, MS1);
  assert.is(end.params.accounts, undefined);

  // Stored in pieces, none over max_payload; read back whole.
  const kv = await directoryKv();
  const pieces = await listKeys(kv, `op.${started.operationId}.>`);
  assert.ok(pieces.length > 1, `the record is stored in pieces (${pieces.join(", ")})`);
  for (const k of [`op.${started.operationId}`, ...pieces]) {
    const e = await kv.get(k);
    assert.ok(e && e.length < MAX_PAYLOAD, `${k} holds ${e?.length} bytes`);
  }
  const whole = await stored(started.operationId);
  assert.is(whole.results.length, ACCOUNTS);
  assert.equal((whole.params.accounts as string[]).slice().sort(), NAMES.slice().sort());
});

test("operations large - a promotion stopped half way is resumed by the next supervisor, which redoes only accounts with no stored outcome", async () => {
  // Back to ms1, one account at a time (one thread, batches of one), so the stop finds it half
  // way: a batch's accounts are all recorded within moments of each other.
  await sys.startSupervisor("sup1", { promoteBatchSize: 1 });
  const started = await sys.admin("promoteAccounts", { source_mail_host: MS2, threads: 1 }, 30_000);
  assert.is(started.total, ACCOUNTS);
  await waitFor(
    "some accounts promoted",
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: started.operationId }, 5_000);
      return m.done >= 20 ? m : undefined;
    },
    120_000,
    20,
  );
  await sys.supervisor!.stop();
  const atStop = await stored(started.operationId);
  assert.is(atStop.state, "running", "the operation was still running when its supervisor stopped");
  assert.ok(atStop.results.length > 0 && atStop.results.length < ACCOUNTS, `${atStop.results.length} outcomes stored at the stop`);

  await sys.startSupervisor("sup2");
  const end = await waitOperationEnd(sys, started.operationId, 300_000);
  assert.is(end.state, "successful", JSON.stringify(end.failed?.slice?.(0, 3)));
  assert.is(end.owner, "sup2");
  const final = await stored(started.operationId);
  assert.is(final.results.length, ACCOUNTS, "one outcome per account");
  assert.equal(new Set(final.results.map((r) => r.account)).size, ACCOUNTS, "no account reported twice");
  // The outcomes stored before the stop are kept as they were: those accounts were not redone.
  const byAccount = new Map(final.results.map((r) => [r.account, r]));
  for (const r of atStop.results) assert.equal(byAccount.get(r.account), r, `${r.account} kept its outcome from before the stop`);
  // Every account ends on ms1 at epoch 3, whoever promoted it.
  for (const r of final.results) {
    assert.is(r.to, MS1, JSON.stringify(r));
    assert.is(r.epoch, 3, JSON.stringify(r));
  }
});

test("operations large - a monitor answer that would exceed max_payload lists the failed accounts first and says how many it leaves out", () => {
  const results: OperationResult[] = [];
  for (let i = 0; i < 2_000; i++) {
    const account = `acct-${i}@example.com`;
    results.push(i % 100 === 7 ? { account, ok: false, code: "TIMEOUT", message: "x".repeat(50) } : { account, ok: true, from: MS1, to: MS2, epoch: 2, ms: 5 });
  }
  const op: OperationRecord = {
    operationId: "00000000-0000-4000-8000-000000000000",
    kind: "promoteAccounts",
    state: "failed",
    startedAt: 1,
    endedAt: 2,
    owner: "sup1",
    total: 2_000,
    done: 1_980,
    failed: 20,
    params: { source_mail_host: MS1, threads: 4, accounts: results.map((r) => r.account) },
    results,
  };
  const answer = monitorAnswer(op, MAX_PAYLOAD) as {
    truncated?: boolean;
    omitted?: number;
    failed: unknown[];
    promoted: unknown[];
    params: Record<string, unknown>;
  };
  assert.ok(Buffer.byteLength(JSON.stringify(answer)) < MAX_PAYLOAD - 1024, "the answer fits in one message");
  assert.is(answer.truncated, true);
  assert.is(answer.failed.length, 20, "every failed account is listed");
  assert.ok(answer.promoted.length > 0 && answer.promoted.length < 1_980);
  assert.is(answer.omitted, 1_980 - answer.promoted.length);
  assert.equal(answer.params, { source_mail_host: MS1, threads: 4 });
  // Small enough: the whole answer, unmarked.
  const small = monitorAnswer({ ...op, total: 10, done: 10, failed: 0, results: results.slice(10, 20), params: { threads: 4 } }, MAX_PAYLOAD) as Record<
    string,
    unknown
  >;
  assert.is(small.truncated, undefined);
  assert.is((small.promoted as unknown[]).length, 10);
});

test.run();
