// The consumer choice (docs/architecture.md, Replication path) and mailstore memory.
//
// K accounts live on a primary mailstore in a child process (its RSS is read idle and with
// the K accounts); a share of them is replicated to a destination mailstore in another child
// process, whose agent reads them with ONE durable consumer listing their subjects (the
// 10-mailstore comparison with the skip-everything layout is consumer_layout.ts). W entries are then written over all K accounts, and read live at the same
// time by (each in its own process, so each one's CPU time is its own):
//   - the destination's agent (the choice): entries read vs applied, CPU time;
//   - the agent of a mailstore that replicates none of them: the cost of skipping alone;
//   - raw: a durable on mr.tx.* configured like the agent's, acked per message, no decoding;
//   - raw baseline: one ordered consumer on mr.tx.*, no decoding, no acks;
//   - alternative: one ordered consumer per replicated account (filter_subject);
//   - alternative: one ordered consumer whose filter_subjects lists the replicated accounts;
//   - at scale (full run): one ordered consumer per account, for every account.
// Then the same entries are read again from the stream (a backlog, as after a restart) by
// each consumer layout in this process: time to create, read throughput, server CPU.
import { nanos } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, type ConsumerConfig } from "@nats-io/jetstream";
import { txSubject } from "../../src/jetstream/assets.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { nodeMailboxSubject } from "../../actors/mailstore/node.js";
import { Reader, type BenchEnv, type ChildStats, type ReaderStats } from "./env.js";
import { procStats } from "./nats.js";
import { cpuMs, now, sleep, waitFor } from "./util.js";

export const PRIMARY = "msm.bench.example.com";
export const DESTINATION = "ms3.bench.example.com";
export const BYSTANDER = "ms4.bench.example.com";

export interface MemoryResult {
  accounts: number;
  idleRss: number;
  idleHeap: number;
  loadedRss: number;
  loadedHeap: number;
  afterWritesRss: number;
  afterWritesHeap: number;
  /** loaded RSS / idle RSS */
  ratio: number;
  bytesPerAccount: number;
  createMs: number;
  accountsPerSec: number;
}

export interface LiveRow {
  what: string;
  consumers: number;
  /** ms to create its consumers (the agent's durable exists already: NaN) */
  createMs: number;
  /** server RSS change when its consumers were created (bytes; from /varz mem) */
  serverMemDelta: number;
  entries: number;
  applied: number;
  skipped: number;
  idleCpuMsPerSec: number;
  cpuMs: number;
  /** CPU time per entry read, the reader's idle CPU over the same time subtracted */
  cpuUsPerEntry: number;
  /** the same CPU time per entry written (all K accounts): comparable across layouts */
  cpuUsPerWrite: number;
  /** until this reader had every entry, from the first write */
  drainMs: number;
  deleteMs: number;
}

export interface BacklogRow {
  what: string;
  consumers: number;
  createMs: number;
  entries: number;
  readMs: number;
  entriesPerSec: number;
  cpuUsPerEntry: number;
  serverCpuMs: number;
  deleteMs: number;
}

export interface ConsumerChoiceResult {
  accounts: number;
  replicated: number;
  writes: number;
  writesPerSec: number;
  consumersOnStream: { agentOnly: number; withAlternatives: number };
  live: LiveRow[];
  backlog: BacklogRow[];
  /** ms to add one subject to a durable's filter_subjects list of `replicated` subjects */
  filterUpdateMs: number;
  memory: MemoryResult;
}

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

async function serverMem(env: BenchEnv): Promise<number> {
  await sleep(200);
  return Number((await env.nats.monitor<{ mem: number }>("varz")).mem);
}

/** An ordered consumer's config as nats.js makes it (ack none, memory storage, R1, ephemeral). */
function orderedConfig(name: string, filter: string | string[], startSeq?: number): ConsumerConfig {
  return {
    name,
    ...(Array.isArray(filter) ? { filter_subjects: filter } : { filter_subject: filter }),
    ...(startSeq ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.New }),
    ack_policy: AckPolicy.None,
    max_deliver: 1,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: nanos(300_000),
  } as ConsumerConfig;
}

/** A durable configured like the replica agent's (explicit acks, file storage). */
function durableConfig(name: string, startSeq?: number): ConsumerConfig {
  return {
    durable_name: name,
    name,
    filter_subject: "mr.tx.*",
    ack_policy: AckPolicy.Explicit,
    ...(startSeq ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.New }),
    max_ack_pending: 10_000,
    ack_wait: nanos(30_000),
  } as ConsumerConfig;
}

interface Layout {
  what: string;
  /** consumer configs, given a name prefix and a start seq (undefined: new messages only) */
  configs(prefix: string, startSeq?: number): ConsumerConfig[];
  /** entries it must read of the W written */
  expect: number;
}

/** Reads exactly `expect` messages from a named consumer (acking each when it needs acks). */
async function readNamed(env: BenchEnv, cfg: ConsumerConfig, expect: number): Promise<number> {
  if (expect === 0) return 0;
  const c = await env.js.consumers.get(env.txStream, cfg.name!);
  const messages = await c.consume({ max_messages: Math.min(1_000, Math.max(expect, 16)) });
  const ack = cfg.ack_policy === AckPolicy.Explicit;
  let n = 0;
  try {
    for await (const m of messages) {
      if (ack) m.ack();
      if (++n >= expect) break;
    }
  } finally {
    messages.stop();
  }
  return n;
}

export async function benchConsumerChoice(
  env: BenchEnv,
  opts: { accounts: number; replicatedShare: number; writesPerAccount: number; perAccountScales: number[]; idleMs: number },
  log: (l: string) => void,
): Promise<ConsumerChoiceResult> {
  // The primary first: the others then learn its signing key at start. (Started together, a
  // destination learns it during its first catch-ups, and concurrent catch-ups can race in
  // refreshSigners: see docs/benchmarks.md, "Findings".)
  const primary = await env.startChild(PRIMARY);
  const [dest, bystander] = await Promise.all([env.startChild(DESTINATION), env.startChild(BYSTANDER)]);
  await sleep(500);

  // ---- memory: the primary idle, then holding K accounts ----
  const idle = await primary.stats(true);
  const subject = nodeMailboxSubject(PRIMARY);
  const ids: string[] = new Array(opts.accounts);
  const tc = now();
  await runBounded([...Array(opts.accounts).keys()], 32, async (i) => {
    ids[i] = (await env.mailbox<{ id: string }>("createAccount", { name: `user${i}@bench.example.com`, mailHost: PRIMARY }, subject)).id;
  });
  const createMs = now() - tc;
  await sleep(300);
  const loaded = await primary.stats(true);
  log(`memory: ${opts.accounts} accounts created in ${Math.round(createMs)} ms; primary RSS ${mib(idle.mem.rss)} -> ${mib(loaded.mem.rss)} MiB`);

  // ---- replicate a share to the destination; wait for the operation to end ----
  const replicated = ids.slice(0, Math.round(opts.accounts * opts.replicatedShare));
  const set = await env.admin<{ operationId: string }>("setAccountDestination", { destination: DESTINATION, priority: 1, accounts: replicated });
  const op = await waitFor(
    "setAccountDestination to end",
    async () => {
      const m = await env.admin<{ state: string; done: number; failed: number; results: Array<{ ok: boolean; code?: string; message?: string }> }>("monitor", {
        operation_uuid: set.operationId,
      });
      return m.state !== "running" ? m : undefined;
    },
    120_000,
    100,
  );
  if (op.failed > 0 || op.done !== replicated.length) {
    const why = op.results
      .filter((r) => !r.ok)
      .slice(0, 3)
      .map((r) => `${r.code}: ${r.message}`);
    throw new Error(`setAccountDestination ended ${op.state}: ${op.done} done, ${op.failed} failed (${why.join("; ")})`);
  }
  const agentOnly = await env.consumerCount();

  // ---- live readers, each in its own process ----
  const wpa = opts.writesPerAccount;
  const writes = opts.accounts * wpa;
  const layouts: Layout[] = [
    { what: "raw: 1 durable on mr.tx.*, acked per message", configs: (p, s) => [durableConfig(`${p}_dur`, s)], expect: writes },
    { what: "raw: 1 ordered consumer on mr.tx.*", configs: (p, s) => [orderedConfig(`${p}_all`, "mr.tx.*", s)], expect: writes },
    {
      what: `1 consumer per replicated account`,
      configs: (p, s) => replicated.map((id, i) => orderedConfig(`${p}_${i}`, txSubject(id), s)),
      expect: replicated.length * wpa,
    },
    {
      what: `1 consumer, filter_subjects = the replicated accounts`,
      configs: (p, s) => [orderedConfig(`${p}_multi`, replicated.map(txSubject), s)],
      expect: replicated.length * wpa,
    },
    ...opts.perAccountScales
      .filter((n) => n !== replicated.length)
      .map((n): Layout => ({
        what: `1 consumer per account, ${n} accounts`,
        configs: (p, s) => ids.slice(0, n).map((id, i) => orderedConfig(`${p}_${i}`, txSubject(id), s)),
        expect: Math.min(n, opts.accounts) * wpa,
      })),
  ];
  const readers: Array<{ layout: Layout; reader: Reader; createMs: number; memDelta: number }> = [];
  try {
    for (const [i, layout] of layouts.entries()) {
      const m0 = await serverMem(env);
      const { reader, createMs } = await Reader.open(`reader${i}`, env.config.nats.servers, env.txStream, layout.configs(`bench_live${i}`));
      const m1 = await serverMem(env);
      readers.push({ layout, reader, createMs, memDelta: m1 - m0 });
    }
    const withAlternatives = await env.consumerCount();

    // Every live reader: the two agents (in their mailstores) and the plain readers.
    type Sample = { read: number; cpuMs: number; applied: number; skipped: number };
    const fromAgent = (st: ChildStats): Sample => ({ read: st.agent!.read, cpuMs: st.cpuMs, applied: st.agent!.applied, skipped: st.agent!.skipped });
    const fromReader = (st: ReaderStats): Sample => ({ read: st.count, cpuMs: st.cpuMs, applied: NaN, skipped: NaN });
    const sources: Array<{ what: string; consumers: number; createMs: number; memDelta: number; expect: number; sample(): Promise<Sample> }> = [
      {
        // Its durable lists the replicated accounts (actors/mailstore/steady_filter.ts; above the
        // agent's maximum, several durables each list a share: steady_layout.ts).
        what: "the agent of the destination (1 durable listing its accounts, applies them)",
        consumers: 1,
        createMs: NaN,
        memDelta: NaN,
        expect: replicated.length * wpa,
        sample: async () => fromAgent(await dest.stats()),
      },
      {
        what: "the agent of a mailstore replicating none of them (no durable)",
        consumers: 0,
        createMs: NaN,
        memDelta: NaN,
        expect: 0,
        sample: async () => fromAgent(await bystander.stats()),
      },
      ...readers.map((r) => ({
        what: r.layout.what,
        consumers: r.layout.configs("x").length,
        createMs: r.createMs,
        memDelta: r.memDelta,
        expect: r.layout.expect,
        sample: async () => fromReader(await r.reader.stats()),
      })),
    ];
    const sampleAll = () => Promise.all(sources.map((x) => x.sample()));

    // Idle CPU of every reader over one second, subtracted below.
    await sleep(300);
    const idle0 = await sampleAll();
    const ti = now();
    await sleep(opts.idleMs);
    const idle1 = await sampleAll();
    const idleSec = (now() - ti) / 1000;
    const idleRate = idle1.map((x, i) => (x.cpuMs - idle0[i]!.cpuMs) / idleSec);

    // ---- the writes: W entries, round-robin over all K accounts ----
    const firstSeq = (await env.lastSeq()) + 1;
    const s0 = await sampleAll();
    const done: number[] = new Array(s0.length).fill(NaN);
    const last: Sample[] = [...s0];
    const tw = now();
    await runBounded([...Array(writes).keys()], 64, async (k) => {
      await env.mailbox("createFolder", { account: ids[k % opts.accounts]!, path: `bench-${Math.floor(k / opts.accounts)}` }, subject);
    });
    const writeMs = now() - tw;
    const lastSeq = await env.lastSeq();
    if (lastSeq - firstSeq + 1 !== writes) log(`consumer choice: ${writes} writes made ${lastSeq - firstSeq + 1} entries`);
    await waitFor(
      "every reader to read every entry",
      async () => {
        const all = await sampleAll();
        all.forEach((x, i) => {
          if (!Number.isNaN(done[i]!)) return;
          last[i] = x;
          if (x.read - s0[i]!.read >= sources[i]!.expect) done[i] = now() - tw;
        });
        return done.every((d) => !Number.isNaN(d));
      },
      120_000,
      10,
    );

    const live: LiveRow[] = sources.map((src, i) => {
      const cpu = last[i]!.cpuMs - s0[i]!.cpuMs;
      const entries = last[i]!.read - s0[i]!.read;
      const net = cpu - idleRate[i]! * (done[i]! / 1000);
      return {
        what: src.what,
        consumers: src.consumers,
        createMs: src.createMs,
        serverMemDelta: src.memDelta,
        entries,
        applied: last[i]!.applied - s0[i]!.applied,
        skipped: last[i]!.skipped - s0[i]!.skipped,
        idleCpuMsPerSec: idleRate[i]!,
        cpuMs: net,
        // A mailstore replicating nothing has no durable: nothing read, nothing to divide.
        cpuUsPerEntry: entries > 0 ? (net * 1000) / entries : NaN,
        cpuUsPerWrite: (net * 1000) / writes,
        drainMs: done[i]!,
        deleteMs: NaN,
      };
    });
    const ag = live[0]!;
    log(
      `consumer choice: ${writes} writes at ${Math.round((writes * 1000) / writeMs)}/s; agent read ${ag.entries}, applied ${ag.applied}, ${ag.cpuUsPerEntry.toFixed(1)} µs CPU per entry read (agent replicating none: ${live[1]!.entries} read, raw ordered reader ${live[3]!.cpuUsPerEntry.toFixed(1)})`,
    );
    const afterWrites = await primary.stats(true);

    for (const [k, r] of readers.entries()) live[k + 2]!.deleteMs = await r.reader.close();
    readers.length = 0;

    // ---- the same entries as a backlog, read by each layout in this process ----
    const backlog: BacklogRow[] = [];
    for (const [i, layout] of layouts.entries()) {
      const configs = layout.configs(`bench_backlog${i}`, firstSeq);
      const srv0 = procStats(env.nats.pid).cpuMs;
      const t0 = now();
      await runBounded(configs, 16, async (cfg) => void (await env.jsm.consumers.add(env.txStream, cfg)));
      const created = now() - t0;
      const perConsumer = configs.length === 1 ? [layout.expect] : configs.map(() => wpa);
      const c1 = cpuMs();
      const t1 = now();
      const counts = await Promise.all(configs.map((c, j) => readNamed(env, c, perConsumer[j]!)));
      const readMs = now() - t1;
      const cpu = cpuMs() - c1;
      const entries = counts.reduce((a, b) => a + b, 0);
      const t2 = now();
      await runBounded(configs, 16, async (c) => void (await env.jsm.consumers.delete(env.txStream, c.name!).catch(() => {})));
      const deleteMs = now() - t2;
      backlog.push({
        what: layout.what,
        consumers: configs.length,
        createMs: created,
        entries,
        readMs,
        entriesPerSec: (entries * 1000) / readMs,
        cpuUsPerEntry: (cpu * 1000) / entries,
        serverCpuMs: procStats(env.nats.pid).cpuMs - srv0,
        deleteMs,
      });
      log(`consumer choice, backlog: ${layout.what}: created in ${Math.round(created)} ms, ${entries} entries at ${Math.round((entries * 1000) / readMs)}/s`);
    }

    // ---- filter_subjects upkeep: one account added to a durable's list ----
    const durable = {
      ...orderedConfig("bench_multi_upd", replicated.map(txSubject)),
      durable_name: "bench_multi_upd",
      ack_policy: AckPolicy.Explicit,
      mem_storage: false,
    } as ConsumerConfig;
    delete (durable as { inactive_threshold?: unknown }).inactive_threshold;
    await env.jsm.consumers.add(env.txStream, durable);
    const tu = now();
    await env.jsm.consumers.update(env.txStream, "bench_multi_upd", {
      filter_subjects: [...replicated.map(txSubject), txSubject(ids[replicated.length] ?? ids[0]!)],
    });
    const filterUpdateMs = now() - tu;
    await env.jsm.consumers.delete(env.txStream, "bench_multi_upd").catch(() => {});

    return {
      accounts: opts.accounts,
      replicated: replicated.length,
      writes,
      writesPerSec: (writes * 1000) / writeMs,
      consumersOnStream: { agentOnly, withAlternatives },
      live,
      backlog,
      filterUpdateMs,
      memory: {
        accounts: opts.accounts,
        idleRss: idle.mem.rss,
        idleHeap: idle.mem.heapUsed,
        loadedRss: loaded.mem.rss,
        loadedHeap: loaded.mem.heapUsed,
        afterWritesRss: afterWrites.mem.rss,
        afterWritesHeap: afterWrites.mem.heapUsed,
        ratio: loaded.mem.rss / idle.mem.rss,
        bytesPerAccount: (loaded.mem.rss - idle.mem.rss) / opts.accounts,
        createMs,
        accountsPerSec: (opts.accounts * 1000) / createMs,
      },
    };
  } finally {
    await Promise.allSettled(readers.map((r) => r.reader.close()));
    await Promise.allSettled([primary.stop(), dest.stop(), bystander.stop()]);
  }
}
