// The write figures of the benchmark contract (issue 11): mailbox writes through JSON-RPC over
// many accounts from concurrent clients, counted once applied at a replica (e2e), the
// commit-to-replica lag at half that rate, and the raw baseline: JetStream publishes of a
// payload the size of the writes' log entries, from as many concurrent publishers.
import { randomBytes } from "node:crypto";
import { nanos } from "@nats-io/transport-node";
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { loadKeyring } from "../../src/keys/index.js";
import { seal } from "../../src/envelope/index.js";
import type { BenchEnv, ChildMailstore } from "./env.js";
import { wallMs } from "./machine_clock.js";
import { now, percentile, sleep, waitFor, workers } from "./util.js";

const RAW_STREAM = "BENCH_CONTRACT_RAW";

/** Accounts with one item each, on `primary`, replicated to `replica`. */
export interface WriteAccounts {
  primary: ChildMailstore;
  replica: ChildMailstore;
  ids: string[];
  itemIds: number[];
}

export interface RawPublishResult {
  publishers: number;
  subjects: number;
  payloadBytes: number;
  seconds: number;
  publishes: number;
  perSec: number;
}

export interface E2eResult {
  accounts: number;
  clients: number;
  /** how long the clients wrote */
  seconds: number;
  /** writes acknowledged to the clients */
  writes: number;
  /** acknowledged writes per second of the writing alone (committed at the primary) */
  ackedPerSec: number;
  /** log entries the replica applied for them */
  entriesApplied: number;
  /** from the first write until the replica applied the last entry */
  untilAppliedS: number;
  /** writes ÷ untilAppliedS: e2e_tx_per_s */
  txPerSec: number;
}

export interface ContractLagResult {
  ratePerSec: number;
  seconds: number;
  writes: number;
  entries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Bytes of the sealed one-command setFlags entry the e2e writes append. */
export function setFlagsEntryBytes(env: BenchEnv, host: string, accountId: string, itemId: number): number {
  const keyring = loadKeyring({ dir: env.config.keys.dir, host });
  const events = [{ t: "flags.set" as const, ids: [itemId], flags: ["seen", "flagged"], tags: [] }];
  return seal(keyring, { v: 1, account: accountId, epoch: 1, writer: host, at: Date.now(), prev: 123, events }).length;
}

/** `publishers` concurrent js.publish loops for `seconds`, round-robin over `subjects` subjects of a stream of their own (MR_TX's storage settings). */
export async function benchRawPublish(env: BenchEnv, payloadBytes: number, publishers: number, subjects: number, seconds: number): Promise<RawPublishResult> {
  await env.jsm.streams.add({
    name: RAW_STREAM,
    subjects: ["bench.contract.>"],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: nanos(120_000),
    allow_direct: true,
  });
  const payload = randomBytes(payloadBytes);
  const run = async (s: number): Promise<{ n: number; seconds: number }> => {
    let k = 0;
    let n = 0;
    const t0 = now();
    const end = t0 + s * 1000;
    await workers(publishers, async () => {
      if (now() >= end) return false;
      await env.js.publish(`bench.contract.${k++ % subjects}`, payload);
      n++;
      return true;
    });
    return { n, seconds: (now() - t0) / 1000 };
  };
  await run(Math.min(0.5, seconds / 2)); // warm-up, not counted
  const r = await run(seconds);
  await env.jsm.streams.delete(RAW_STREAM);
  return { publishers, subjects, payloadBytes, seconds: r.seconds, publishes: r.n, perSec: r.n / r.seconds };
}

/**
 * setFlags through mr.rpc.mailbox (any mailstore takes it, forwarding to the primary), each
 * write changing the item (the flags alternate per account), so each one is committed.
 */
class FlagWriter {
  private readonly turns: number[];
  constructor(
    private readonly env: BenchEnv,
    private readonly a: WriteAccounts,
  ) {
    this.turns = a.ids.map(() => 0);
  }

  async write(k: number): Promise<void> {
    const i = k % this.a.ids.length;
    const turn = this.turns[i]!;
    this.turns[i] = turn + 1;
    const flags = turn % 2 ? ["seen"] : ["seen", "flagged"];
    await this.env.mailbox("setFlags", { account: this.a.ids[i]!, ids: [this.a.itemIds[i]!], flags });
  }
}

/** Until the replica applied, for every account, the seq the primary applied last. */
async function waitReplicaAtHead(a: WriteAccounts, timeoutMs = 120_000): Promise<void> {
  const heads = (await a.primary.states(a.ids)).map((s) => s?.appliedSeq ?? 0);
  await waitFor(
    "the replica to apply every account's head",
    async () => (await a.replica.states(a.ids)).every((s, i) => (s?.appliedSeq ?? 0) >= heads[i]!),
    timeoutMs,
    10,
  );
}

export async function benchE2e(env: BenchEnv, a: WriteAccounts, clients: number, seconds: number, log: (l: string) => void): Promise<E2eResult> {
  const w = new FlagWriter(env, a);
  let k = 0;
  // Warm-up (JIT, connections, page cache); not counted.
  const warmEnd = now() + Math.min(1_000, seconds * 300);
  await workers(clients, async () => (now() < warmEnd ? (await w.write(k++), true) : false));
  await waitReplicaAtHead(a);

  await a.replica.track();
  let writes = 0;
  const t0 = wallMs();
  const end = now() + seconds * 1000;
  await workers(clients, async () => {
    if (now() >= end) return false;
    await w.write(k++);
    writes++;
    return true;
  });
  const wroteS = (wallMs() - t0) / 1000;
  await waitReplicaAtHead(a);
  const applies = await a.replica.applies();
  const last = Math.max(...applies.map(([, , t]) => t));
  const untilAppliedS = (last - t0) / 1000;
  const r: E2eResult = {
    accounts: a.ids.length,
    clients,
    seconds: wroteS,
    writes,
    ackedPerSec: writes / wroteS,
    entriesApplied: applies.length,
    untilAppliedS,
    txPerSec: writes / untilAppliedS,
  };
  log(
    `e2e: ${writes} writes by ${clients} clients over ${a.ids.length} accounts: ${Math.round(r.ackedPerSec)}/s acknowledged, ${Math.round(r.txPerSec)}/s applied at the replica`,
  );
  return r;
}

/**
 * When each entry from `fromSeq` to `toSeq` was stored (committed) by nats-server, as wall-clock
 * ms, by `<accountId>:<seq>`: read with an ordered consumer on the whole log.
 */
async function storedTimes(env: BenchEnv, fromSeq: number, toSeq: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (toSeq < fromSeq) return out;
  const consumer = await env.js.consumers.get(env.txStream, { opt_start_seq: fromSeq });
  const messages = await consumer.consume({ max_messages: 512 });
  try {
    for await (const m of messages) {
      const id = m.subject.slice(m.subject.lastIndexOf(".") + 1);
      out.set(`${id}:${m.seq}`, Number(m.info.timestampNanos) / 1e6);
      if (m.seq >= toSeq) break;
    }
  } finally {
    messages.stop();
  }
  return out;
}

/**
 * Open-loop writes at `ratePerSec` for `seconds`; per entry, from its commit (nats-server's
 * storage time: the entry is in the log, whatever the primary does next) to its apply at the
 * replica. Not from the primary's own apply: the primary applies after the acknowledgement
 * reaches its event loop, and the replica often applies first.
 */
export async function benchContractLag(
  env: BenchEnv,
  a: WriteAccounts,
  ratePerSec: number,
  seconds: number,
  log: (l: string) => void,
): Promise<ContractLagResult> {
  const w = new FlagWriter(env, a);
  const fromSeq = (await env.lastSeq()) + 1;
  await a.replica.track();
  const total = Math.round(ratePerSec * seconds);
  const pending: Promise<void>[] = [];
  const t0 = now();
  for (let k = 0; k < total; k++) {
    const wait = t0 + (k * 1000) / ratePerSec - now();
    if (wait > 1) await sleep(wait);
    pending.push(w.write(k));
  }
  await Promise.all(pending);
  await waitReplicaAtHead(a);
  const applied = await a.replica.applies();
  const stored = await storedTimes(env, fromSeq, await env.lastSeq());
  const lags: number[] = [];
  for (const [id, seq, t] of applied) {
    const at = stored.get(`${id}:${seq}`);
    if (at !== undefined) lags.push(t - at);
  }
  lags.sort((x, y) => x - y);
  const r: ContractLagResult = {
    ratePerSec,
    seconds,
    writes: total,
    entries: lags.length,
    p50Ms: percentile(lags, 50),
    p99Ms: percentile(lags, 99),
    maxMs: lags[lags.length - 1] ?? NaN,
  };
  log(
    `lag at ${Math.round(ratePerSec)} writes/s over ${a.ids.length} accounts: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (${r.entries} entries)`,
  );
  return r;
}
