// A destination replicating more accounts than maxFilterSubjects (docs/benchmarks.md, section
// 10c; actors/mailstore/steady_layout.ts): its accounts are split over several durables, each
// listing at most the maximum, so it still reads only its own accounts' entries.
//
// One primary (the benchmark's own mailstore) holds S + O accounts; the S are replicated to
// destination D (maxFilterSubjects `max`), the O to destination X (default), each in its own
// process. D first replicates half of S, then the other half in one operation: the time until
// its durables list exactly its S accounts is the layout change (more durables, every account
// caught up once more, the old durables deleted), during which a publisher measures the
// longest write to MR_TX. Then W entries are written round-robin over all S + O accounts: D's
// reads per entry of its own accounts (1.00: each once) and per entry of the others' (0), and
// its CPU per entry written, net of its idle CPU.
import { AckPolicy, DeliverPolicy, type ConsumerInfo } from "@nats-io/jetstream";
import { nodeMailboxSubject } from "../../actors/mailstore/node.js";
import { agentConsumerName, type ReplicaAgentStats } from "../../actors/mailstore/replica_agent.js";
import { parseShardDurableName } from "../../actors/mailstore/steady_layout.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { randomUUID } from "node:crypto";
import { txSubject } from "../../src/jetstream/assets.js";
import { BenchEnv, ChildMailstore, MS1, type ChildStats } from "./env.js";
import { procStats } from "./nats.js";
import { now, sleep, waitFor } from "./util.js";
import { whilePublishing } from "./probe_publisher.js";

export interface ShardedResult {
  server: string;
  accounts: number;
  others: number;
  maxFilterSubjects: number;
  /** D's durables before and after the change */
  durablesBefore: number;
  durablesAfter: number;
  /** from the setAccountDestination of the second half until D's durables list exactly its accounts */
  changeMs: number;
  /** nats-server CPU during the change */
  changeServerCpuMs: number;
  /** the longest publish to MR_TX during the change */
  maxPublishMsDuringChange: number;
  /** D's catch-ups during the change, and when the last one ended (from the same start) */
  changeCatchUps: number;
  caughtUpMs: number;
  /** the server's side alone: creating `durablesAfter` durables listing accounts/durablesAfter subjects each, while a publisher writes */
  rawCreate: { durables: number; subjectsEach: number; createMs: number; serverCpuMs: number; maxPublishMs: number; deleteMs: number };
  writes: number;
  ownWrites: number;
  /** D's steady reads of its own accounts per entry of theirs written */
  ownReadsPerWrite: number;
  /** D's steady reads of the other accounts per entry of theirs written */
  otherReadsPerWrite: number;
  /** D's CPU net of idle, µs per entry written in the cluster, and per entry of its own accounts */
  usPerWrite: number;
  usPerOwnWrite: number;
  /** nats-server CPU while the entries were written and read, µs per entry written */
  serverUsPerWrite: number;
  drainMs: number;
}

const D = "shard-d.bench.example.com";
const X = "shard-x.bench.example.com";

type AgentStats = ReplicaAgentStats;
const agent = (s: ChildStats): AgentStats => s.agent as unknown as AgentStats;

/** D's durables (base name or shard names), by name. */
async function durablesOf(env: BenchEnv, host: string): Promise<Map<string, ConsumerInfo>> {
  const out = new Map<string, ConsumerInfo>();
  for await (const c of env.jsm.consumers.list(env.txStream)) if (parseShardDurableName(agentConsumerName(host), c.name)) out.set(c.name, c);
  return out;
}

/** Whether the host's durables list exactly these accounts, at most `max` each, and no other consumer is on MR_TX besides `others`' durables. */
async function settled(env: BenchEnv, host: string, ids: readonly string[], max: number, others: number): Promise<number | undefined> {
  const found = await durablesOf(env, host);
  const listed = [...found.values()].flatMap((c) => (c.config.filter_subjects?.length ? c.config.filter_subjects : [c.config.filter_subject!]));
  if (listed.length !== ids.length || [...found.values()].some((c) => (c.config.filter_subjects?.length ?? 1) > max)) return undefined;
  const want = new Set(ids.map(txSubject));
  if (!listed.every((s) => want.has(s))) return undefined;
  return (await env.consumerCount()) === found.size + others ? found.size : undefined;
}

/** Creates `durables` durables of `subjectsEach` account subjects (holding no entry) one after the other, as a re-shard does, then deletes them. */
async function rawCreate(env: BenchEnv, durables: number, subjectsEach: number): Promise<ShardedResult["rawCreate"]> {
  const names = Array.from({ length: durables }, (_, k) => `bench_shard_${k}`);
  const cpu0 = procStats(env.nats.pid).cpuMs;
  const t0 = now();
  const { maxPublishMs } = await whilePublishing(
    env,
    async () => {
      for (const name of names) {
        await env.jsm.consumers.add(env.txStream, {
          durable_name: name,
          filter_subjects: Array.from({ length: subjectsEach }, () => txSubject(randomUUID())),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.New,
        });
      }
    },
    { pauseMs: 5 },
  );
  const createMs = now() - t0;
  const serverCpuMs = procStats(env.nats.pid).cpuMs - cpu0;
  const t1 = now();
  for (const name of names) await env.jsm.consumers.delete(env.txStream, name);
  return { durables, subjectsEach, createMs, serverCpuMs, maxPublishMs, deleteMs: now() - t1 };
}

export async function benchConsumerShards(
  opts: { accounts: number; others: number; maxFilterSubjects: number; writesPerAccount: number; idleMs: number },
  log: (l: string) => void,
): Promise<ShardedResult> {
  const env = await BenchEnv.start();
  try {
    const subject = nodeMailboxSubject(MS1);
    const total = opts.accounts + opts.others;
    const ids: string[] = new Array(total);
    await runBounded([...Array(total).keys()], 32, async (i) => {
      ids[i] = (await env.mailbox<{ id: string }>("createAccount", { name: `shard${i}@bench.example.com`, mailHost: MS1 }, subject)).id;
    });
    const own = ids.slice(0, opts.accounts);
    const others = ids.slice(opts.accounts);
    log(`consumer shards: ${total} accounts created`);
    const d = await ChildMailstore.start(D, { ...env.mailstoreOptions(D), maxFilterSubjects: opts.maxFilterSubjects });
    const x = await ChildMailstore.start(X, env.mailstoreOptions(X));
    env.children.push(d, x);
    const replicate = async (host: string, accounts: string[]): Promise<void> => {
      const set = await env.admin<{ operationId: string }>("setAccountDestination", { destination: host, priority: 1, accounts });
      await waitFor(
        `replicas on ${host}`,
        async () => ((await env.admin<{ state: string }>("monitor", { operation_uuid: set.operationId })).state !== "running" ? true : undefined),
        300_000,
        100,
      );
    };
    await replicate(X, others);
    const half = own.slice(0, Math.floor(own.length / 2));
    await replicate(D, half);
    const durablesBefore = await waitFor("D's first layout", () => settled(env, D, half, opts.maxFilterSubjects, 1), 120_000, 100);
    log(`consumer shards: ${half.length} accounts on ${durablesBefore} durables`);

    // The change, with a publisher to a subject nobody reads measuring the longest write.
    const c0 = agent(await d.stats()).catchUps;
    const cpu0 = procStats(env.nats.pid).cpuMs;
    const t0 = now();
    const change = await whilePublishing(
      env,
      async () => {
        await replicate(D, own.slice(half.length));
        return waitFor("D's layout after the change", () => settled(env, D, own, opts.maxFilterSubjects, 1), 300_000, 50);
      },
      { pauseMs: 5 },
    );
    const durablesAfter = change.result;
    const changeMs = now() - t0;
    const changeServerCpuMs = procStats(env.nats.pid).cpuMs - cpu0;
    const maxPublishMs = change.maxPublishMs;
    // The catch-ups the change started may still run (at most 8 at once): done when their count
    // stays the same for a second.
    let last = -1;
    const changeCatchUps = await waitFor(
      "D's catch-ups done",
      async () => {
        const n = agent(await d.stats()).catchUps - c0;
        if (n === last) return n;
        last = n;
        await sleep(1_000);
        return undefined;
      },
      300_000,
      0,
    );
    const caughtUpMs = now() - t0 - 1_000;
    log(`consumer shards: ${own.length} accounts on ${durablesAfter} durables after ${Math.round(changeMs)} ms`);

    const raw = await rawCreate(env, durablesAfter, Math.ceil(opts.accounts / durablesAfter));
    log(`consumer shards: ${raw.durables} durables of ${raw.subjectsEach} subjects created in ${Math.round(raw.createMs)} ms`);

    // Warm-up, not measured.
    await runBounded([...Array(total).keys()], 32, async (k) => {
      await env.mailbox("createFolder", { account: ids[k]!, path: "warm" }, subject);
    });
    await sleep(1_000);
    const i0 = await d.stats();
    const ti = now();
    await sleep(opts.idleMs);
    const idleRate = ((await d.stats()).cpuMs - i0.cpuMs) / (now() - ti);

    const writes = total * opts.writesPerAccount;
    const ownWrites = opts.accounts * opts.writesPerAccount;
    const s0 = await d.stats();
    const server0 = procStats(env.nats.pid).cpuMs;
    const tw = now();
    await runBounded([...Array(writes).keys()], 32, async (k) => {
      await env.mailbox("createFolder", { account: ids[k % total]!, path: `w-${Math.floor(k / total)}` }, subject);
    });
    let s1: ChildStats = s0;
    await waitFor(
      "D read its entries",
      async () => {
        s1 = await d.stats();
        return agent(s1).read - agent(s0).read >= ownWrites ? true : undefined;
      },
      300_000,
      250,
    );
    const drainMs = now() - tw;
    const serverCpuMs = procStats(env.nats.pid).cpuMs - server0;
    const cpu = s1.cpuMs - s0.cpuMs - idleRate * drainMs;
    const otherReads = agent(s1).notReplicated - agent(s0).notReplicated;
    const read = agent(s1).read - agent(s0).read;
    const r: ShardedResult = {
      server: env.nats.version,
      accounts: opts.accounts,
      others: opts.others,
      maxFilterSubjects: opts.maxFilterSubjects,
      durablesBefore,
      durablesAfter,
      changeMs,
      changeServerCpuMs,
      maxPublishMsDuringChange: maxPublishMs,
      rawCreate: raw,
      changeCatchUps,
      caughtUpMs,
      writes,
      ownWrites,
      ownReadsPerWrite: (read - otherReads) / ownWrites,
      otherReadsPerWrite: otherReads / (writes - ownWrites),
      usPerWrite: (cpu * 1000) / writes,
      usPerOwnWrite: (cpu * 1000) / ownWrites,
      serverUsPerWrite: (serverCpuMs * 1000) / writes,
      drainMs,
    };
    log(
      `consumer shards: ${r.ownReadsPerWrite.toFixed(2)} own reads per own entry, ${r.otherReadsPerWrite.toFixed(3)} per other entry, ${r.usPerWrite.toFixed(1)} µs per entry written`,
    );
    return r;
  } finally {
    await env.stop();
  }
}

/** The section's text (10c). */
export function renderConsumerShards(r: ShardedResult): string {
  return (
    [
      "",
      `10c. One destination above maxFilterSubjects ${r.maxFilterSubjects}: ${r.accounts} accounts replicated to it, ${r.others} to another mailstore (nats-server ${r.server})`,
      `   layout change ${r.accounts / 2} -> ${r.accounts} accounts: ${r.durablesBefore} -> ${r.durablesAfter} durables in ${Math.round(r.changeMs)} ms (operation and re-shard), ${r.changeCatchUps} catch-ups done after ${Math.round(r.caughtUpMs)} ms, nats-server CPU ${Math.round(r.changeServerCpuMs)} ms, longest write to MR_TX meanwhile ${r.maxPublishMsDuringChange.toFixed(0)} ms`,
      `   the server's side alone: ${r.rawCreate.durables} durables of ${r.rawCreate.subjectsEach} subjects created one after the other in ${Math.round(r.rawCreate.createMs)} ms (server CPU ${Math.round(r.rawCreate.serverCpuMs)} ms, longest write meanwhile ${r.rawCreate.maxPublishMs.toFixed(0)} ms), deleted in ${Math.round(r.rawCreate.deleteMs)} ms`,
      `   ${r.writes} entries written (${r.ownWrites} of its accounts): ${r.ownReadsPerWrite.toFixed(2)} reads per entry of its accounts, ${r.otherReadsPerWrite.toFixed(3)} per entry of the others'`,
      `   its CPU net of idle: ${r.usPerWrite.toFixed(1)} µs per entry written in the cluster, ${r.usPerOwnWrite.toFixed(1)} µs per entry of its accounts; nats-server ${r.serverUsPerWrite.toFixed(1)} µs per entry written; drained in ${Math.round(r.drainMs)} ms`,
    ].join("\n") + "\n"
  );
}

/** `npm run bench -- --only consumer-shards [--quick] [--json]`: 10c alone, printed, then exit. */
export async function runConsumerShardsSection(quick: boolean, json: boolean, log: (l: string) => void): Promise<never> {
  try {
    const r = await benchConsumerShards(
      quick
        ? { accounts: 600, others: 100, maxFilterSubjects: 100, writesPerAccount: 3, idleMs: 1_000 }
        : { accounts: 2_000, others: 200, maxFilterSubjects: 250, writesPerAccount: 5, idleMs: 2_000 },
      log,
    );
    process.stdout.write(json ? JSON.stringify({ consumerShards: r }, null, 2) + "\n" : renderConsumerShards(r));
    log("done");
    process.exit(0);
  } catch (e) {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  }
}
