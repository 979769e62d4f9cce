// Replica apply (docs/architecture.md, Replication path): a destination's agent catching up an account with many entries
// (seeded by setAccountDestination after the writes) against the raw baseline of reading the
// same subject with an ordered consumer without applying; then the live apply lag (primary's
// ack to replica's apply) under a steady write load.
import type { MailCommand, MailResult } from "../../src/mail/index.js";
import type { TxBatch } from "../../src/mail/index.js";
import type { ActorRef } from "../../src/runtime/types.js";
import { open } from "../../src/envelope/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import type { MetadataStore } from "../../src/store/index.js";
import { readTxBatch } from "../../actors/mailstore/tx_batch.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { MS1, MS2, type BenchEnv } from "./env.js";
import type { WriteSetup } from "./write_path.js";
import { procStats } from "./nats.js";
import { cpuMs, now, percentile, sleep, waitFor } from "./util.js";

/** The account the catch-up and lag figures use: `entries` one-command entries (setFlags). */
export async function setupCatchUpAccount(env: BenchEnv, entries: number): Promise<WriteSetup> {
  const acct = await env.mailbox<{ id: string }>("createAccount", { name: "bench.replicated@example.com", mailHost: MS1 });
  const raw = `From: a@example.org\r\nTo: bench.replicated@example.com\r\nSubject: bench\r\nMessage-ID: <bench2@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n`;
  const d = await env.mailbox<{ itemId: number }>("deliverMessage", { account: acct.id, raw });
  const actor: ActorRef<MailCommand, MailResult> = env.ms1.accountActor(await env.ms1.accountRecord(acct.id));
  for (let i = 0; i < entries; i++)
    await actor.ask({ op: "setFlags", ids: [d.itemId], flags: i % 2 ? ["seen"] : ["seen", "flagged"] }, env.config.writes.askTimeoutMs);
  return { accountId: acct.id, itemId: d.itemId, entryBytes: NaN };
}

/** Account ids no mailstore hosts: agents skip their entries without opening them. */
export const FILLER_ACCOUNT = "00000000-0000-4000-8000-00000000f111";
export const DENSE_ACCOUNT = "00000000-0000-4000-8000-00000000d222";

/**
 * Appends `bytes` of 1 KB entries of one account to MR_TX. After the catch-up account's
 * entries (FILLER_ACCOUNT), so they lie in older file blocks of the stream (nats-server's
 * file store keeps blocks of about 8 MB), as in any stream with other recent writes; at the
 * start (DENSE_ACCOUNT), for the read of section 3c.
 */
export async function padStream(env: BenchEnv, bytes: number, accountId = FILLER_ACCOUNT): Promise<number> {
  const size = 1_000;
  const payload = new Uint8Array(size).fill(7);
  const n = Math.ceil(bytes / size);
  await runBounded([...Array(n).keys()], 256, async () => void (await env.js.publish(txSubject(accountId), payload)));
  return n;
}

export interface CatchUpRow {
  what: string;
  entries: number;
  events: number;
  ms: number;
  entriesPerSec: number;
  /** CPU time of this (the benchmark's) process */
  cpuMs: number;
  /** CPU time of nats-server */
  serverCpuMs: number;
}

export interface CatchUpResult {
  rows: CatchUpRow[];
  /** MR_TX size when the catch-up ran */
  streamBytes: number;
  /** agent entries/s ÷ raw read entries/s */
  ratio: number;
}

export interface LagResult {
  ratePerSec: number;
  writes: number;
  entries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Reads a subject from seq 1 to `head` with an ordered consumer. `asList`: the filter is sent
 * as `filter_subjects: [subject]` (what SubjectLog.read did before the fix), else as `filter_subject`.
 */
async function readSubject(
  env: BenchEnv,
  subject: string,
  head: number,
  asList: boolean,
  onEntry: (data: Uint8Array, seq: number) => void,
  limit = Infinity,
  startSeq = 1,
): Promise<number> {
  const consumer = await env.js.consumers.get(env.txStream, { filter_subjects: asList ? [subject] : subject, opt_start_seq: startSeq });
  const messages = await consumer.consume({ max_messages: 512 });
  let n = 0;
  try {
    for await (const m of messages) {
      n++;
      onEntry(m.data, m.seq);
      if (m.seq >= head || n >= limit) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => {});
  }
  return n;
}

export async function benchCatchUp(env: BenchEnv, setup: WriteSetup, log: (l: string) => void): Promise<CatchUpResult> {
  const subject = txSubject(setup.accountId);
  const entries = await env.subjectCount(subject);
  const last = await env.jsm.streams.getMessage(env.txStream, { last_by_subj: subject });
  if (!last) throw new Error(`no entry on ${subject}`);
  const head = last.seq;
  const rows: CatchUpRow[] = [];
  const streamBytes = (await env.jsm.streams.info(env.txStream)).state.bytes;

  const server = () => procStats(env.nats.pid).cpuMs;
  // Raw baseline: an ordered consumer on the subject, entries counted, nothing decoded; the
  // filter sent as filter_subject, then as filter_subjects: [subject] (SubjectLog.read's old form).
  for (const asList of [false, true]) {
    const c0 = cpuMs();
    const s0 = server();
    const t0 = now();
    const n = await readSubject(env, subject, head, asList, () => {});
    const ms = now() - t0;
    rows.push({
      what: `raw ordered consumer, ${asList ? "filter_subjects: [subject]" : "filter_subject"}`,
      entries: n,
      events: NaN,
      ms,
      entriesPerSec: (n * 1000) / ms,
      cpuMs: cpuMs() - c0,
      serverCpuMs: server() - s0,
    });
  }
  // Read + verify/decrypt/decode, no SQLite: splits the agent's cost.
  {
    let events = 0;
    const c0 = cpuMs();
    const s0 = server();
    const t0 = now();
    const n = await readSubject(env, subject, head, false, (data, seq) => {
      events += readTxBatch(open(env.ms2.keyring, data).payload, setup.accountId, seq).events.length;
    });
    const ms = now() - t0;
    rows.push({
      what: "read (filter_subject) + open envelope, no apply",
      entries: n,
      events,
      ms,
      entriesPerSec: (n * 1000) / ms,
      cpuMs: cpuMs() - c0,
      serverCpuMs: server() - s0,
    });
  }
  // The agent: setAccountDestination, then wait until ms2 applied the head.
  {
    const applied0 = env.ms2.agent.stats.applied;
    const c0 = cpuMs();
    const s0 = server();
    const t0 = now();
    await env.admin("setAccountDestination", { destination: MS2, priority: 1, accounts: [setup.accountId] });
    await waitFor("ms2 to catch up", () => (env.ms2.store.replicaState(setup.accountId)?.appliedSeq ?? 0) >= head, 120_000, 2);
    const ms = now() - t0;
    const n = env.ms2.agent.stats.applied - applied0;
    rows.push({
      what: "agent catch-up (setAccountDestination → all applied)",
      entries: n,
      events: rows[2]!.events,
      ms,
      entriesPerSec: (n * 1000) / ms,
      cpuMs: cpuMs() - c0,
      serverCpuMs: server() - s0,
    });
  }
  const agent = rows[3]!;
  if (agent.entries !== entries) log(`catch-up: agent applied ${agent.entries} entries, the subject holds ${entries}`);
  log(
    `catch-up: ${entries} entries; raw read ${Math.round(rows[0]!.entriesPerSec)}/s (as a list: ${Math.round(rows[1]!.entriesPerSec)}/s), agent ${Math.round(agent.entriesPerSec)}/s`,
  );
  return { rows, streamBytes, ratio: agent.entriesPerSec / rows[0]!.entriesPerSec };
}

export interface DenseReadRow {
  filter: string;
  entries: number;
  ms: number;
  entriesPerSec: number;
  serverCpuMs: number;
}

/**
 * `limit` entries of one account whose entries fill whole file blocks of MR_TX (DENSE_ACCOUNT,
 * written at the start: none of its blocks was read for many seconds), read by an ordered
 * consumer with `filter_subject` from the middle of its second block, then by SubjectLog.read
 * — how catch-up and actor recovery read a log (a plain filter_subject since the fix) — from
 * its first entry. Each read touches only blocks the other did not load.
 */
export async function benchDenseRead(
  env: BenchEnv,
  dense: { first: number; head: number },
  limit: number,
  idleSeconds: number,
  log: (l: string) => void,
): Promise<DenseReadRow[]> {
  // Seqs from the stream's state when it was written: a lookup by subject would load blocks.
  const { first, head } = dense;
  const subject = txSubject(DENSE_ACCOUNT);
  const rows: DenseReadRow[] = [];
  {
    // 1 KB entries: about 8,000 per 8 MB block; start well inside the second one.
    const start = Math.min(first + 9_000, Math.max(first, head - limit + 1));
    const s0 = procStats(env.nats.pid).cpuMs;
    const t0 = now();
    const n = await readSubject(env, subject, head, false, () => {}, limit, start);
    const ms = now() - t0;
    rows.push({ filter: "ordered consumer, filter_subject", entries: n, ms, entriesPerSec: (n * 1000) / ms, serverCpuMs: procStats(env.nats.pid).cpuMs - s0 });
  }
  {
    const s0 = procStats(env.nats.pid).cpuMs;
    const t0 = now();
    let n = 0;
    for await (const _e of new SubjectLog(env.js, env.jsm, env.txStream, subject).read(first)) if (++n >= limit) break;
    const ms = now() - t0;
    rows.push({
      filter: "SubjectLog.read (as the code reads now)",
      entries: n,
      ms,
      entriesPerSec: (n * 1000) / ms,
      serverCpuMs: procStats(env.nats.pid).cpuMs - s0,
    });
  }
  log(
    `dense read after ${idleSeconds.toFixed(0)} s idle: filter_subject ${Math.round(rows[0]!.entriesPerSec)}/s, SubjectLog.read ${Math.round(rows[1]!.entriesPerSec)}/s`,
  );
  return rows;
}

/** Records when each seq of one account is applied on a store (instrumentation only). */
function recordApplies(store: MetadataStore, accountId: string, into: Map<number, number>): () => void {
  const orig = store.applyBatch.bind(store);
  store.applyBatch = (id: string, seq: number, batch: TxBatch) => {
    const out = orig(id, seq, batch);
    if (id === accountId && !into.has(seq)) into.set(seq, now());
    return out;
  };
  return () => {
    delete (store as { applyBatch?: unknown }).applyBatch; // back to the prototype's method
  };
}

/** Writes at a fixed rate (open loop) and measures primary-apply (= ack) to replica-apply per entry. */
export async function benchLag(env: BenchEnv, setup: WriteSetup, ratePerSec: number, seconds: number, log: (l: string) => void): Promise<LagResult> {
  const acked = new Map<number, number>();
  const applied = new Map<number, number>();
  const undo = [recordApplies(env.ms1.store, setup.accountId, acked), recordApplies(env.ms2.store, setup.accountId, applied)];
  try {
    const rec = await env.ms1.accountRecord(setup.accountId);
    const actor: ActorRef<MailCommand, MailResult> = env.ms1.accountActor(rec);
    const total = Math.round(ratePerSec * seconds);
    const pending: Promise<unknown>[] = [];
    const t0 = now();
    for (let k = 0; k < total; k++) {
      const due = t0 + (k * 1000) / ratePerSec;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      pending.push(actor.ask({ op: "setFlags", ids: [setup.itemId], flags: k % 2 ? ["seen"] : ["flagged"] }, env.config.writes.askTimeoutMs));
    }
    await Promise.all(pending);
    const last = Math.max(...acked.keys());
    await waitFor("ms2 to apply the last entry", () => (env.ms2.store.replicaState(setup.accountId)?.appliedSeq ?? 0) >= last, 30_000, 2);
    const lags: number[] = [];
    for (const [seq, t] of acked) {
      const a = applied.get(seq);
      if (a !== undefined) lags.push(a - t);
    }
    lags.sort((a, b) => a - b);
    const r: LagResult = {
      ratePerSec,
      writes: total,
      entries: lags.length,
      p50Ms: percentile(lags, 50),
      p99Ms: percentile(lags, 99),
      maxMs: lags[lags.length - 1] ?? NaN,
    };
    log(`live lag at ${ratePerSec} writes/s: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms over ${r.entries} entries`);
    return r;
  } finally {
    for (const u of undo) u();
  }
}
