// Write path (docs/architecture.md): acknowledged mailbox writes per second through the account actor,
// N concurrent callers on one account, against plain JetStream publishes of the same size
// measured in the same run. Group commit shows as commands per JetStream append.
import { randomBytes } from "node:crypto";
import { nanos } from "@nats-io/transport-node";
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { MailCommand, MailResult } from "../../src/mail/index.js";
import type { ActorRef } from "../../src/runtime/types.js";
import { seal } from "../../src/envelope/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { nodeMailboxSubject } from "../../actors/mailstore/node.js";
import { MS1, type BenchEnv } from "./env.js";
import { now, percentile, workers } from "./util.js";

export const RAW_STREAM = "BENCH_RAW";

export interface WriteRow {
  /** "actor", "json-rpc", "raw publish + expect (sequential)", "raw publish (concurrent)" */
  path: string;
  callers: number;
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** JetStream appends that stored the ops (actor paths); equal to ops for raw */
  appends: number;
  opsPerAppend: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WriteSetup {
  accountId: string;
  itemId: number;
  /** bytes of a sealed one-command batch: the raw baseline publishes this size */
  entryBytes: number;
}

export async function setupWriteAccount(env: BenchEnv): Promise<WriteSetup> {
  const acct = await env.mailbox<{ id: string }>("createAccount", { name: "bench.writer@example.com", mailHost: MS1 });
  const raw = `From: a@example.org\r\nTo: bench.writer@example.com\r\nSubject: bench\r\nMessage-ID: <bench1@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n`;
  const d = await env.mailbox<{ itemId: number }>("deliverMessage", { account: acct.id, raw });
  const entry = seal(env.ms1.keyring, {
    v: 1,
    account: acct.id,
    epoch: 1,
    writer: MS1,
    at: Date.now(),
    prev: 123,
    events: [{ t: "flags.set", ids: [d.itemId], flags: ["seen"], tags: ["k1"] }],
  });
  await env.jsm.streams.add({
    name: RAW_STREAM,
    subjects: ["bench.raw.>"],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: nanos(120_000),
    allow_direct: true,
  });
  return { accountId: acct.id, itemId: d.itemId, entryBytes: entry.length };
}

const flagSets: string[][] = [["seen"], ["seen", "flagged"], ["k1"], ["seen", "k2"]];

async function timed(callers: number, seconds: number, op: (w: number, i: number) => Promise<void>): Promise<{ ops: number; seconds: number; lat: number[] }> {
  const lat: number[] = [];
  let i = 0;
  const start = now();
  const end = start + seconds * 1000;
  await workers(callers, async (w) => {
    if (now() >= end) return false;
    const t = now();
    await op(w, i++);
    lat.push(now() - t);
    return true;
  });
  return { ops: lat.length, seconds: (now() - start) / 1000, lat };
}

function row(path: string, callers: number, r: { ops: number; seconds: number; lat: number[] }, appends: number): WriteRow {
  const sorted = r.lat.sort((a, b) => a - b);
  return {
    path,
    callers,
    ops: r.ops,
    seconds: r.seconds,
    opsPerSec: r.ops / r.seconds,
    appends,
    opsPerAppend: appends > 0 ? r.ops / appends : NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

export async function benchWritePath(env: BenchEnv, setup: WriteSetup, levels: number[], seconds: number, log: (l: string) => void): Promise<WriteRow[]> {
  const rows: WriteRow[] = [];
  const subject = txSubject(setup.accountId);
  const rec = await env.ms1.accountRecord(setup.accountId);
  const actor: ActorRef<MailCommand, MailResult> = env.ms1.accountActor(rec);
  const askTimeout = env.config.writes.askTimeoutMs;
  const setFlags = (i: number): MailCommand => ({ op: "setFlags", ids: [setup.itemId], flags: flagSets[i % flagSets.length]! });

  // Warm-up (JIT, SQLite page cache, the connection's buffers); not counted.
  await timed(4, Math.min(0.5, seconds / 2), async (_w, i) => void (await actor.ask(setFlags(i), askTimeout)));

  for (const n of levels) {
    const before = await env.subjectCount(subject);
    const r = await timed(n, seconds, async (_w, i) => void (await actor.ask(setFlags(i), askTimeout)));
    const appends = (await env.subjectCount(subject)) - before;
    rows.push(row("actor.ask", n, r, appends));
    log(`write path: actor, ${n} callers: ${Math.round(r.ops / r.seconds)} cmd/s, ${(r.ops / appends).toFixed(1)} cmd/append`);
  }

  // The same commands as JSON-RPC requests to ms1's own subject (no forwarding hop).
  const rpcSubject = nodeMailboxSubject(MS1);
  for (const n of levels) {
    const before = await env.subjectCount(subject);
    const r = await timed(n, seconds, async (_w, i) => {
      await env.mailbox("setFlags", { account: setup.accountId, ids: [setup.itemId], flags: flagSets[i % flagSets.length]! }, rpcSubject);
    });
    const appends = (await env.subjectCount(subject)) - before;
    rows.push(row("json-rpc setFlags", n, r, appends));
    log(`write path: json-rpc, ${n} callers: ${Math.round(r.ops / r.seconds)} cmd/s`);
  }

  // Raw baselines on a stream of their own (same storage and duplicate window as MR_TX).
  const payload = randomBytes(setup.entryBytes);
  {
    const subj = "bench.raw.seq";
    let last = 0;
    let k = 0;
    await timed(1, Math.min(0.5, seconds / 2), async () => {
      last = (await env.js.publish(subj, payload, { msgID: `w${k++}`, expect: { lastSubjectSequence: last } })).seq;
    });
    const r = await timed(1, seconds, async () => {
      last = (await env.js.publish(subj, payload, { msgID: `s${k++}`, expect: { lastSubjectSequence: last } })).seq;
    });
    rows.push(row("raw publish+expect", 1, r, r.ops));
    log(`write path: raw sequential publish with expected seq: ${Math.round(r.ops / r.seconds)} pub/s`);
  }
  for (const n of levels.filter((x) => x > 1)) {
    const subj = `bench.raw.c${n}`;
    const r = await timed(n, seconds, async () => void (await env.js.publish(subj, payload)));
    rows.push(row("raw publish", n, r, r.ops));
    log(`write path: raw concurrent publish, ${n} callers: ${Math.round(r.ops / r.seconds)} pub/s`);
  }
  return rows;
}
