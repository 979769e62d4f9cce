import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { EntryTooLargeError, LogBackedActor, SubjectLog } from "../src/runtime/index.js";
import { splitBySize } from "../src/runtime/batch_split.js";
import { appendHeaderBytes } from "../src/runtime/subject_log.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { decodeLedgerEntry, Ledger, type LedgerCmd } from "./helpers/ledger.js";

let server: NatsNode;
let nc: NatsConnection;
let subjectNo = 0;

test.before(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "RT_SPLIT", subjects: ["rt.split.>"], duplicate_window: 120_000_000_000 });
});
test.after(async () => {
  await nc?.close();
  await server?.stop();
});

async function logFor(subject: string): Promise<SubjectLog> {
  return new SubjectLog(jetstream(nc), await jetstreamManager(nc), "RT_SPLIT", subject, () => nc.info?.max_payload);
}

/** Every stored entry of the subject with its size. */
async function stored(subject: string): Promise<{ seq: number; size: number; keys: string[] }[]> {
  const out: { seq: number; size: number; keys: string[] }[] = [];
  for await (const e of (await logFor(subject)).read(1))
    out.push({ seq: e.seq, size: e.data.length, keys: decodeLedgerEntry(e.data).events.map((x) => x.key) });
  return out;
}

test("batch split - groups are consecutive, within the limit, and a group of several is always split", () => {
  assert.equal(splitBySize({ base: 10, parts: [5, 5, 5, 5] }, 25, 0), [[0, 1, 2], [3]]);
  // a part over the limit alone gets its own group
  assert.equal(splitBySize({ base: 10, parts: [5, 100, 5] }, 25, 0), [[0], [1], [2]]);
  // refused commands (0 bytes) ride along
  assert.equal(splitBySize({ base: 10, parts: [0, 10, 0, 10] }, 25, 0), [[0, 1, 2], [3]]);
  // the measure says it fits but the caller saw it did not: halve
  assert.equal(splitBySize({ base: 1, parts: [1, 1, 1] }, 100, 0), [[0, 1], [2]]);
});

test("batch split - the header overhead is measured from the headers an append sends", () => {
  const subject = "rt.split.headers";
  // Nats-Msg-Id: <subject>:<43-char digest>, Nats-Expected-Last-Subject-Sequence: <seq>
  const one = appendHeaderBytes(subject, 1);
  const big = appendHeaderBytes(subject, 1_000_000);
  assert.is(big - one, 6, "the seq's digits count");
  assert.ok(one > `Nats-Msg-Id: ${subject}:`.length + 43, "the whole header block is counted");
});

test("batch split - a huge command among small ones is refused alone; its neighbours are stored", async () => {
  const subject = `rt.split.s${++subjectNo}`;
  const log = await logFor(subject);
  const actor = new LogBackedActor(log, new Ledger("w1"));
  await actor.recover();
  const limit = log.maxEntryBytes(0)!;
  const maxPayload = nc.info!.max_payload;
  assert.ok(limit < maxPayload && limit > maxPayload - 200, `limit ${limit} is max_payload ${maxPayload} less the headers`);
  const huge = "h".repeat(maxPayload + 10);
  const cmds: LedgerCmd[] = [
    { add: "a", by: 1 },
    { add: "b", by: 2 },
    { add: huge, by: 3 },
    { add: "a", by: 4 },
    { add: "c", by: 0.5 }, // refused by the behaviour itself
  ];
  const results = await actor.receiveBatch(cmds);
  assert.equal(results[0], { ok: true, value: 1 });
  assert.equal(results[1], { ok: true, value: 2 });
  assert.is(results[2]!.ok, false);
  const err = (results[2] as { error: unknown }).error as EntryTooLargeError;
  assert.instance(err, EntryTooLargeError);
  assert.is(err.code, "ENTRY_TOO_LARGE");
  assert.ok(err.message.includes(String(err.size)) && err.message.includes(String(err.limit)), err.message);
  assert.ok(err.size > err.limit);
  assert.equal(results[3], { ok: true, value: 5 }, "decided after the groups before it");
  assert.is(results[4]!.ok, false);
  const entries = await stored(subject);
  assert.equal(
    entries.map((e) => e.keys),
    [["a", "b"], ["a"]],
    "the small ones, in order; the huge one nowhere",
  );
  // A fresh reader of the log agrees with the writer.
  const reader = new Ledger("reader");
  await new LogBackedActor(await logFor(subject), reader).recover();
  assert.equal([...reader.counters.entries()].sort(), [
    ["a", 5],
    ["b", 2],
  ]);
});

test("batch split - a drain over max_payload is appended as several entries, in order, each within the limit", async () => {
  const subject = `rt.split.s${++subjectNo}`;
  const log = await logFor(subject);
  const writer = new Ledger("w1");
  const actor = new LogBackedActor(log, writer);
  await actor.recover();
  const maxPayload = nc.info!.max_payload;
  // 40 commands of ~100 KiB: about 4 MiB in all, 4+ appends.
  const cmds: LedgerCmd[] = Array.from({ length: 40 }, (_, i) => ({ add: `k${String(i).padStart(2, "0")}-${"x".repeat(100 * 1024)}`, by: i + 1 }));
  const results = await actor.receiveBatch(cmds);
  assert.ok(
    results.every((r) => r.ok),
    JSON.stringify(results.filter((r) => !r.ok)),
  );
  assert.equal(
    results.map((r) => (r as { value: number }).value),
    cmds.map((c) => c.by),
  );
  const entries = await stored(subject);
  assert.ok(entries.length >= 4, `split into ${entries.length} appends`);
  assert.is(actor.appends, entries.length);
  let prevSeq = 0;
  for (const e of entries) {
    assert.ok(e.size <= maxPayload - appendHeaderBytes(subject, prevSeq), `entry ${e.seq} of ${e.size} bytes fits with its headers in ${maxPayload}`);
    prevSeq = e.seq;
  }
  assert.equal(
    entries.flatMap((e) => e.keys),
    cmds.map((c) => c.add),
    "every command once, in order",
  );
  const reader = new Ledger("reader");
  await new LogBackedActor(await logFor(subject), reader).recover();
  assert.equal([...reader.counters.entries()].sort(), [...writer.counters.entries()].sort());
  // The split leaves the writer able to write on.
  assert.equal(await actor.receiveBatch([{ add: "after", by: 1 }]), [{ ok: true, value: 1 }]);
});

test.run();
