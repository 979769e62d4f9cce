// The write path of a log-backed actor under ambiguous faults, reproduced with a TCP proxy
// between the writer's NATS connection and the server: a publish whose ack never comes back,
// a publish that lands after the writer gave up on it, a "duplicate" ack for other content,
// and a graceful shutdown while a batch is in flight.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ActorSystem, LogBackedActor, SubjectLog, type ActorRef } from "../src/runtime/index.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { waitFor } from "./helpers/processes.js";
import { Ledger, decodeLedgerEntry, type LedgerCmd } from "./helpers/ledger.js";

const STREAM = "RT_AMB";
let server: NatsNode;
let proxy: TcpProxy;
/** straight to the server: the test's own view of the log */
let direct: NatsConnection;
/** through the proxy: the writer's connection */
let proxied: NatsConnection;
let subjectNo = 0;

test.before(async () => {
  server = await startNatsServer();
  proxy = await TcpProxy.start(server.spec.port);
  direct = await connect({ servers: server.url });
  proxied = await connect({ servers: proxy.url });
  const jsm = await jetstreamManager(direct);
  await jsm.streams.add({ name: STREAM, subjects: ["rt.amb.>"], duplicate_window: 120_000_000_000 });
});
test.after(async () => {
  await proxied?.close().catch(() => {});
  await direct?.close();
  await proxy?.stop();
  await server?.stop();
});
test.after.each(() => {
  proxy.resume();
});

async function logOn(nc: NatsConnection, subject: string): Promise<SubjectLog> {
  return new SubjectLog(jetstream(nc), await jetstreamManager(nc), STREAM, subject);
}

/** Every entry of the subject as "<key>" per event, in log order. */
async function storedKeys(subject: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of (await logOn(direct, subject)).read(1)) out.push(...decodeLedgerEntry(e.data).events.map((ev) => ev.key));
  return out;
}

/** A command the ledger refuses: answered without any append, so its answer proves the actor has recovered. */
const probe: LedgerCmd = { add: "probe", by: 0.5 };

function codeOf(e: unknown): string | undefined {
  return (e as { code?: string } | undefined)?.code;
}

test("write path - an append whose ack is lost answers OUTCOME_UNKNOWN; the next batch is stored after it, each once", async () => {
  const subject = `rt.amb.s${++subjectNo}`;
  const sys = new ActorSystem();
  const ledger = new Ledger("w1");
  const log = await logOn(proxied, subject);
  const ref = sys.spawn<LedgerCmd, number>("ack-lost", { producer: () => new LogBackedActor(log, ledger, { appendTimeoutMs: 1_000, appendAttempts: 2 }) });
  assert.is(await ref.ask({ add: "a", by: 1 }), 1);

  // The publish reaches the server, its ack does not come back.
  proxy.stall("toClient");
  const x = await ref.ask({ add: "x", by: 1 }).then(
    (v) => ({ value: v }),
    (e: unknown) => ({ error: e }),
  );
  await waitFor("x to be stored", async () => (await storedKeys(subject)).length === 2);
  assert.equal(await storedKeys(subject), ["a", "x"], "x was stored (once, although it was sent twice)");
  assert.ok("error" in x, `x must not be answered as a success: ${JSON.stringify(x)}`);
  assert.is(codeOf(x.error), "OUTCOME_UNKNOWN", `x's caller is told the outcome is unknown, got ${String(x.error)}`);

  proxy.resume("toClient");
  assert.is(await ref.ask({ add: "b", by: 1 }), 1, "b is acknowledged");
  assert.equal(await storedKeys(subject), ["a", "x", "b"]);
  assert.equal(Object.fromEntries(ledger.counters), { a: 1, x: 1, b: 1 }, "the state holds x (from the log) and b, each once");
  assert.is(ledger.applied, 3);
  await sys.shutdown();
});

test("write path - a batch that lands after the writer recovered: the next batch is stored after it, not answered with its seq, and the writer is not fenced by its own entry", async () => {
  const subject = `rt.amb.s${++subjectNo}`;
  const sys = new ActorSystem();
  const ledger = new Ledger("w1");
  const viaProxy = await logOn(proxied, subject);
  const first = sys.spawn<LedgerCmd, number>("late-1", { producer: () => new LogBackedActor(viaProxy, ledger, { appendTimeoutMs: 1_000, appendAttempts: 2 }) });
  assert.is(await first.ask({ add: "a", by: 1 }), 1);

  // x leaves the writer but is held on the way to the server: every attempt times out.
  proxy.stall("toServer");
  const xError = await first.ask({ add: "x", by: 1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(await storedKeys(subject), ["a"], "x has not reached the server yet");

  // The writer starts again (same state, a connection that works) and recovers: x is not in the log yet.
  await sys.stop(first);
  const viaDirect = await logOn(direct, subject);
  const second: ActorRef<LedgerCmd, number> = sys.spawn("late-2", { producer: () => new LogBackedActor(viaDirect, ledger) });
  await second.ask(probe).then(
    () => assert.unreachable("the probe is refused"),
    () => {},
  );

  // Now x lands, late.
  proxy.resume("toServer");
  await waitFor("x to land in the log", async () => (await storedKeys(subject)).length === 2);

  const b = await second.ask({ add: "b", by: 1 }).then(
    (v) => ({ value: v }),
    (e: unknown) => ({ error: e }),
  );
  assert.equal(await storedKeys(subject), ["a", "x", "b"], `b is stored after x (b was answered ${JSON.stringify(b)})`);
  assert.equal(b, { value: 1 }, "b is acknowledged with its own result");
  assert.equal(Object.fromEntries(ledger.counters), { a: 1, x: 1, b: 1 }, "x and b are each applied once");
  assert.is(ledger.fencedBy, undefined, "its own late entry does not fence the writer");
  assert.is(codeOf(xError), "OUTCOME_UNKNOWN", `x's caller was told the outcome is unknown, got ${String(xError)}`);
  await sys.shutdown();
});

// How a server answers a retry of a stored append depends on its version: nats-server 2.10
// checks the Msg-Id first (a duplicate ack with the stored seq); 2.15 checks the expected last
// sequence first ("wrong last sequence": FENCED, after which a writer reads the log and finds
// its own batch). Either way nothing is stored twice and other content is never a success.
test("write path - a duplicate ack for other content at that seq is an unknown outcome, never a success", async () => {
  const subject = `rt.amb.s${++subjectNo}`;
  const log = await logOn(direct, subject);
  const data1 = new TextEncoder().encode("first batch");
  const data2 = new TextEncoder().encode("second batch");
  const stored = await log.append(data1, { expectedLastSeq: 0, msgId: "same-id" });
  const again = await log.append(data1, { expectedLastSeq: 0, msgId: "same-id" }).then(
    (r) => ({ result: r }),
    (e: unknown) => ({ error: e }),
  );
  if ("result" in again) assert.equal(again.result, { seq: stored.seq, duplicate: true }, "a retry of the same bytes is the same entry");
  else assert.is(codeOf(again.error), "FENCED", `a retry is a duplicate or refused, got ${String(again.error)}`);
  const other = await log.append(data2, { expectedLastSeq: 0, msgId: "same-id" }).then(
    (r) => ({ result: r }),
    (e: unknown) => ({ error: e }),
  );
  assert.ok("error" in other, `other content must not be answered as stored: ${JSON.stringify(other)}`);
  assert.ok(["OUTCOME_UNKNOWN", "FENCED"].includes(codeOf(other.error) ?? ""), `got ${String(other.error)}`);
  assert.equal(await storedKeysRaw(subject), ["first batch"]);
});

async function storedKeysRaw(subject: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of (await logOn(direct, subject)).read(1)) out.push(new TextDecoder().decode(e.data));
  return out;
}

test("write path - shutdown waits for the batch in flight: its caller gets success after the ack arrives", async () => {
  const subject = `rt.amb.s${++subjectNo}`;
  const own = await connect({ servers: proxy.url });
  const sys = new ActorSystem();
  let stopping = false;
  sys.onEvent((e) => {
    if ((e.kind as string) === "stopping") stopping = true;
  });
  const ledger = new Ledger("w1");
  const log = await logOn(own, subject);
  const ref = sys.spawn<LedgerCmd, number>("stop-writer", { producer: () => new LogBackedActor(log, ledger) });
  assert.is(await ref.ask({ add: "a", by: 1 }), 1);

  proxy.stall("toClient");
  const x = ref.ask({ add: "x", by: 1 }, 30_000).then(
    (v) => ({ value: v }),
    (e: unknown) => ({ error: e }),
  );
  await waitFor("x to be stored (its ack held)", async () => (await storedKeys(subject)).length === 2);

  // As a process stopping gracefully does: stop the actors, then close the connection.
  let closed = false;
  const done = sys.shutdown().then(async () => {
    await own.close();
    closed = true;
  });
  await waitFor("the shutdown to wait for the batch in flight (or to have closed the connection)", () => stopping || closed);
  proxy.resume("toClient");
  assert.equal(await x, { value: 1 }, "the caller of the stored batch gets success");
  await done;
  assert.is(ledger.counters.get("x"), 1, "and the batch was applied");
  assert.equal(await storedKeys(subject), ["a", "x"]);
});

test.run();
