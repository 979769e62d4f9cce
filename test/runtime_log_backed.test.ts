import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ActorSystem, FencedError, LogBackedActor, SubjectLog } from "../src/runtime/index.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { Ledger, type LedgerCmd, type LedgerEntry } from "./helpers/ledger.js";

type Cmd = LedgerCmd;
type Entry = LedgerEntry;

let server: NatsNode;
let nc1: NatsConnection;
let nc2: NatsConnection;
let subjectNo = 0;

test.before(async () => {
  server = await startNatsServer();
  nc1 = await connect({ servers: server.url });
  nc2 = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc1);
  await jsm.streams.add({ name: "RT_LOG", subjects: ["rt.log.>"], duplicate_window: 120_000_000_000 });
});
test.after(async () => {
  await nc1?.close();
  await nc2?.close();
  await server?.stop();
});

async function logFor(nc: NatsConnection, subject: string): Promise<SubjectLog> {
  return new SubjectLog(jetstream(nc), await jetstreamManager(nc), "RT_LOG", subject);
}

test("log-backed - two writers on one subject: exactly one wins, the other gets Fenced", async () => {
  const subject = `rt.log.s${++subjectNo}`;
  const sys = new ActorSystem();
  const l1 = new Ledger("w1");
  const l2 = new Ledger("w2");
  const a1 = new LogBackedActor(await logFor(nc1, subject), l1);
  const a2 = new LogBackedActor(await logFor(nc2, subject), l2);
  const r1 = sys.spawn<Cmd, number>("writer1", { producer: () => a1 });
  const r2 = sys.spawn<Cmd, number>("writer2", { producer: () => a2 });
  // Both must have recovered before either appends: a writer that recovers after the other's
  // append legitimately follows it. A refused command needs no append, and its answer comes
  // only after the actor's recovery.
  for (const r of [r1, r2])
    await r.ask({ add: "k", by: 0.5 }).then(
      () => assert.unreachable("a fraction is refused"),
      () => {},
    );
  const [x, y] = await Promise.allSettled([r1.ask({ add: "k", by: 1 }), r2.ask({ add: "k", by: 10 })]);
  const outcomes = [x, y].map((o) => o.status);
  assert.equal(outcomes.filter((s) => s === "fulfilled").length, 1, "exactly one writer wins");
  const loser = [x, y].find((o) => o.status === "rejected") as PromiseRejectedResult;
  assert.instance(loser.reason, FencedError);
  assert.is(loser.reason.code, "FENCED");
  const loserLedger = x.status === "rejected" ? l1 : l2;
  assert.ok(loserLedger.fencedBy, "the fenced behaviour is told");
  // A fenced writer stays fenced: it never writes again.
  const again = await (x.status === "rejected" ? r1 : r2).ask({ add: "k", by: 5 }).catch((e) => e);
  assert.instance(again, FencedError);
  assert.is((await (await logFor(nc1, subject)).lastSeq()) > 0, true);
  let stored = 0;
  for await (const _ of (await logFor(nc1, subject)).read(1)) stored++;
  assert.is(stored, 1, "only the winner's append is in the log");
  await sys.shutdown();
});

test("log-backed - replay rebuilds the same state", async () => {
  const subject = `rt.log.s${++subjectNo}`;
  const sys = new ActorSystem();
  const log = await logFor(nc1, subject);
  const writer = new Ledger("w1");
  const ref = sys.spawn<Cmd, number>("replay-writer", { producer: () => new LogBackedActor(log, writer) });
  const keys = ["a", "b", "c"];
  for (let i = 0; i < 60; i++) await ref.ask({ add: keys[i % 3]!, by: i });
  const fresh = new Ledger("reader");
  const reader = new LogBackedActor(await logFor(nc2, subject), fresh);
  await reader.recover();
  assert.equal([...fresh.counters.entries()].sort(), [...writer.counters.entries()].sort());
  assert.is(fresh.applied, writer.applied);
  // Each entry names the seq it follows: the chain has no gap.
  let prev = 0;
  for await (const e of log.read(1)) {
    assert.is((JSON.parse(new TextDecoder().decode(e.data)) as Entry).prev, prev);
    prev = e.seq;
  }
  assert.is(reader.lastSeq, writer.applied);
  await sys.shutdown();
});

test("log-backed - an append retried with the same Msg-Id is stored once", async () => {
  const subject = `rt.log.s${++subjectNo}`;
  const log = await logFor(nc1, subject);
  const data = new TextEncoder().encode("once");
  const first = await log.append(data, { expectedLastSeq: 0, msgId: "dup-1" });
  assert.is(first.duplicate, false);
  // nats-server 2.10 answers the retry as a duplicate of the stored entry; 2.15 checks the
  // expected last sequence first and refuses it (the writer then reads the log). Never twice.
  const retry = await log.append(data, { expectedLastSeq: 0, msgId: "dup-1" }).catch((e: unknown) => e);
  if (retry instanceof FencedError) assert.is(retry.code, "FENCED");
  else {
    assert.is((retry as { duplicate: boolean }).duplicate, true);
    assert.is((retry as { seq: number }).seq, first.seq);
  }
  let stored = 0;
  for await (const _ of log.read(1)) stored++;
  assert.is(stored, 1);
});

test("log-backed - a burst of 1,000 queued commands is stored in far fewer publishes", async () => {
  const subject = `rt.log.s${++subjectNo}`;
  const sys = new ActorSystem();
  const log = await logFor(nc1, subject);
  const ledger = new Ledger("burst");
  const actor = new LogBackedActor(log, ledger);
  const ref = sys.spawn<Cmd, number>("burst", { producer: () => actor, mailboxCapacity: 2_000, maxBatch: 512 });
  const replies = await Promise.all(Array.from({ length: 1_000 }, () => ref.ask({ add: "n", by: 1 }, 30_000)));
  assert.is(ledger.counters.get("n"), 1_000);
  assert.equal(
    [...replies].sort((p, q) => p - q),
    Array.from({ length: 1_000 }, (_, i) => i + 1),
    "each caller gets its own result",
  );
  assert.ok(log.appendCalls <= 10, `1,000 commands took ${log.appendCalls} publishes`);
  let events = 0;
  for await (const e of log.read(1)) events += (JSON.parse(new TextDecoder().decode(e.data)) as Entry).events.length;
  assert.is(events, 1_000, "every command is in the log");
  await sys.shutdown();
});

test("log-backed - a refused command fails alone; the rest of its batch is stored", async () => {
  const subject = `rt.log.s${++subjectNo}`;
  const sys = new ActorSystem();
  const ledger = new Ledger("mixed");
  const log = await logFor(nc1, subject);
  const ref = sys.spawn<Cmd, number>("mixed", { producer: () => new LogBackedActor(log, ledger) });
  const out = await Promise.allSettled([ref.ask({ add: "m", by: 2 }), ref.ask({ add: "m", by: 0.5 }), ref.ask({ add: "m", by: 3 })]);
  assert.equal(
    out.map((o) => o.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.is(ledger.counters.get("m"), 5);
  assert.ok(log.appendCalls <= 2);
  await sys.shutdown();
});

test.run();
