// Reading only what you replicate, with 10 mailstores (docs/benchmarks.md, "The consumer
// choice"): what each destination mailstore's replication costs per entry written anywhere in
// the cluster, with its durable listing its accounts (the layout) against the same mailstores
// reading `mr.tx.*` and skipping the others' entries (the layout before: maxFilterSubjects 0),
// in the same run.
//
// One primary (the benchmark's own mailstore) holds A accounts; account i is replicated to
// destination i mod M, each destination in its own process, so each one's CPU time is its own.
// Per layout: the destinations start with that layout, 2 entries per account warm them up (not
// measured), their idle CPU is measured, then W
// entries are written round-robin over the A accounts (one createFolder each) and every
// destination reads them live; CPU is net of its idle CPU over the same time.
import { nodeMailboxSubject } from "../../actors/mailstore/node.js";
import { agentConsumerName } from "../../actors/mailstore/replica_agent.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { txSubject } from "../../src/jetstream/assets.js";
import { BenchEnv, ChildMailstore, MS1, type ChildStats } from "./env.js";
import { procStats } from "./nats.js";
import { now, sleep, waitFor } from "./util.js";
import { whilePublishing } from "./probe_publisher.js";

export interface LayoutRun {
  layout: string;
  /** consumers on MR_TX with the layout's durables (no catch-up left) */
  consumers: number;
  /** per destination: entries its durable read, applied, skipped, net CPU µs per entry written in the cluster */
  perMailstore: Array<{ host: string; read: number; applied: number; skipped: number; cpuMs: number; usPerWrite: number }>;
  /** mean over the destinations of µs per entry written */
  usPerWrite: number;
  /** entries read by all destinations together, per entry written */
  readsPerWrite: number;
  drainMs: number;
}

/** One size of filter list: what creating and updating a durable with it costs. */
export interface FilterSizeRow {
  subjects: number;
  /** the consumer configuration's JSON, as sent */
  configBytes: number;
  createMs: number;
  /** adding one subject: the update a new replica makes */
  updateMs: number;
  updateServerCpuMs: number;
  /** the longest publish to the same stream while the update ran (2.10 holds the stream's writes) */
  maxPublishMsDuringUpdate: number;
}

export interface ConsumerLayoutResult {
  filterSizes: FilterSizeRow[];
  mailstores: number;
  accounts: number;
  writes: number;
  filtered: LayoutRun;
  skipAll: LayoutRun;
  /** filtered µs per written entry / skip-all's */
  ratio: number;
}

const destinationHost = (i: number): string => `ml${i + 1}.bench.example.com`;

/**
 * Creates a durable on the tx stream with `n` filter subjects (account subjects that hold no
 * entry), then adds one, while publishing to the stream in a loop; deletes it.
 */
async function filterSize(env: BenchEnv, n: number): Promise<FilterSizeRow> {
  const subjects = Array.from({ length: n }, () => txSubject(randomUUID()));
  const cfg = { durable_name: `bench_filter_${n}`, filter_subjects: subjects, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New };
  const configBytes = Buffer.byteLength(JSON.stringify(cfg));
  const t0 = now();
  await env.jsm.consumers.add(env.txStream, cfg);
  const createMs = now() - t0;
  const { result, maxPublishMs } = await whilePublishing(
    env,
    async () => {
      const cpu0 = procStats(env.nats.pid).cpuMs;
      const t1 = now();
      await env.jsm.consumers.update(env.txStream, cfg.durable_name, { filter_subjects: [...subjects, txSubject(randomUUID())] });
      return { updateMs: now() - t1, updateServerCpuMs: procStats(env.nats.pid).cpuMs - cpu0 };
    },
    { warmUpMs: 100 },
  );
  await env.jsm.consumers.delete(env.txStream, cfg.durable_name);
  return { subjects: n, configBytes, createMs, ...result, maxPublishMsDuringUpdate: maxPublishMs };
}

export async function benchConsumerLayout(
  opts: { mailstores: number; accounts: number; writesPerAccount: number; idleMs: number; filterSizes: number[] },
  log: (l: string) => void,
): Promise<ConsumerLayoutResult> {
  const env = await BenchEnv.start();
  try {
    const filterSizes: FilterSizeRow[] = [];
    for (const n of opts.filterSizes) {
      filterSizes.push(await filterSize(env, n));
      log(`filter list of ${n} subjects: update ${Math.round(filterSizes.at(-1)!.updateMs)} ms`);
    }
    const subject = nodeMailboxSubject(MS1);
    const ids: string[] = new Array(opts.accounts);
    await runBounded([...Array(opts.accounts).keys()], 32, async (i) => {
      ids[i] = (await env.mailbox<{ id: string }>("createAccount", { name: `layout${i}@bench.example.com`, mailHost: MS1 }, subject)).id;
    });
    const hosts = [...Array(opts.mailstores).keys()].map(destinationHost);
    // Made once per host: its key files are written the first time.
    const hostOptions = new Map(hosts.map((h) => [h, env.mailstoreOptions(h)]));
    const writes = opts.accounts * opts.writesPerAccount;
    let round = 0;

    const run = async (layout: string, maxFilterSubjects: number | undefined, firstRun: boolean): Promise<LayoutRun> => {
      const children = await Promise.all(
        hosts.map((h) => ChildMailstore.start(h, { ...hostOptions.get(h)!, ...(maxFilterSubjects !== undefined ? { maxFilterSubjects } : {}) })),
      );
      env.children.push(...children);
      try {
        if (firstRun) {
          for (const [d, h] of hosts.entries()) {
            const mine = ids.filter((_, i) => i % opts.mailstores === d);
            const set = await env.admin<{ operationId: string }>("setAccountDestination", { destination: h, priority: 1, accounts: mine });
            await waitFor(
              `replicas on ${h}`,
              async () => ((await env.admin<{ state: string }>("monitor", { operation_uuid: set.operationId })).state !== "running" ? true : undefined),
              120_000,
              100,
            );
          }
        }
        // The layout in place: each durable's filter as this layout sets it, no catch-up consumer left.
        const want = maxFilterSubjects === 0 ? "mr.tx.*" : "list";
        await waitFor(
          `every destination's durable reads ${want}`,
          async () => {
            for (const h of hosts) {
              const ci = await env.jsm.consumers.info(env.txStream, agentConsumerName(h)).catch(() => undefined);
              if (!ci) return undefined;
              const all = ci.config.filter_subject === "mr.tx.*";
              if ((want === "mr.tx.*") !== all) return undefined;
            }
            return (await env.consumerCount()) === hosts.length ? true : undefined;
          },
          60_000,
          100,
        );
        const consumers = await env.consumerCount();
        // Warm-up, not measured: a fresh process compiles its apply path on its first entries.
        const w = round++;
        await runBounded([...Array(opts.accounts * 2).keys()], 32, async (k) => {
          await env.mailbox("createFolder", { account: ids[k % opts.accounts]!, path: `warm-${w}-${Math.floor(k / opts.accounts)}` }, subject);
        });
        await sleep(1_000);
        const idle0 = await Promise.all(children.map((c) => c.stats()));
        const ti = now();
        await sleep(opts.idleMs);
        const idle1 = await Promise.all(children.map((c) => c.stats()));
        const idleRate = idle1.map((s, i) => (s.cpuMs - idle0[i]!.cpuMs) / (now() - ti));

        const s0 = await Promise.all(children.map((c) => c.stats()));
        const tw = now();
        const r = round++;
        await runBounded([...Array(writes).keys()], 32, async (k) => {
          await env.mailbox("createFolder", { account: ids[k % opts.accounts]!, path: `layout-${r}-${Math.floor(k / opts.accounts)}` }, subject);
        });
        // Each destination's own entries (the list) or every entry (mr.tx.*).
        const expect = hosts.map((_, d) => (want === "mr.tx.*" ? writes : ids.filter((__, i) => i % opts.mailstores === d).length * opts.writesPerAccount));
        let s1: ChildStats[] = [];
        await waitFor(
          "every destination read its entries",
          async () => {
            s1 = await Promise.all(children.map((c) => c.stats()));
            return s1.every((s, i) => s.agent!.read - s0[i]!.agent!.read >= expect[i]!) ? true : undefined;
          },
          120_000,
          // Rarely: each poll costs every destination some CPU, counted in its figure.
          250,
        );
        const elapsed = now() - tw;
        const perMailstore = hosts.map((host, i) => {
          const cpu = s1[i]!.cpuMs - s0[i]!.cpuMs - idleRate[i]! * elapsed;
          return {
            host,
            read: s1[i]!.agent!.read - s0[i]!.agent!.read,
            applied: s1[i]!.agent!.applied - s0[i]!.agent!.applied,
            skipped: s1[i]!.agent!.skipped - s0[i]!.agent!.skipped,
            cpuMs: cpu,
            usPerWrite: (cpu * 1000) / writes,
          };
        });
        const usPerWrite = perMailstore.reduce((a, m) => a + m.usPerWrite, 0) / perMailstore.length;
        const readsPerWrite = perMailstore.reduce((a, m) => a + m.read, 0) / writes;
        log(
          `consumer layout (${layout}): ${writes} entries, ${usPerWrite.toFixed(1)} µs per entry written per mailstore, ${readsPerWrite.toFixed(2)} reads per entry`,
        );
        return { layout, consumers, perMailstore, usPerWrite, readsPerWrite, drainMs: elapsed };
      } finally {
        await Promise.all(children.map((c) => c.stop()));
        env.children.splice(0, env.children.length);
      }
    };

    const filtered = await run("durable listing its accounts", undefined, true);
    const skipAll = await run("durable on mr.tx.*, skipping the others", 0, false);
    return { filterSizes, mailstores: opts.mailstores, accounts: opts.accounts, writes, filtered, skipAll, ratio: filtered.usPerWrite / skipAll.usPerWrite };
  } finally {
    await env.stop();
  }
}

/** The section's text, as bench.ts prints it. */
export function renderConsumerLayout(r: ConsumerLayoutResult): string {
  const out: string[] = [];
  out.push(
    "",
    `10. Reading only what you replicate: ${r.mailstores} destination mailstores, ${r.accounts} accounts (account i replicated to destination i mod ${r.mailstores}), ${r.writes} entries written; CPU net of each process's idle CPU`,
  );
  const head = ["layout", "consumers", "µs/entry written per mailstore (mean)", "min", "max", "reads per entry written", "drain ms"];
  const rows = [r.filtered, r.skipAll].map((l) => {
    const us = l.perMailstore.map((m) => m.usPerWrite);
    return [
      l.layout,
      String(l.consumers),
      l.usPerWrite.toFixed(1),
      Math.min(...us).toFixed(1),
      Math.max(...us).toFixed(1),
      l.readsPerWrite.toFixed(2),
      String(Math.round(l.drainMs)),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  out.push(line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line));
  out.push(`   listing vs mr.tx.*: ${r.ratio.toFixed(2)}x the CPU per entry written, per mailstore`);
  out.push("", "10b. One durable with N filter subjects (account subjects): creating it, then adding one subject while writes go on");
  const fh = ["subjects", "config bytes", "bytes/subject", "create ms", "update ms", "update server CPU ms", "max publish ms during update"];
  const frows = r.filterSizes.map((f) => [
    String(f.subjects),
    String(f.configBytes),
    (f.configBytes / f.subjects).toFixed(1),
    f.createMs.toFixed(0),
    f.updateMs.toFixed(0),
    f.updateServerCpuMs.toFixed(0),
    f.maxPublishMsDuringUpdate.toFixed(0),
  ]);
  const fw = fh.map((h, i) => Math.max(h.length, ...frows.map((row) => row[i]!.length)));
  const fline = (cells: string[]): string => cells.map((c, i) => c.padStart(fw[i]!)).join("  ");
  out.push(fline(fh), fw.map((w) => "-".repeat(w)).join("  "), ...frows.map(fline));
  return out.join("\n") + "\n";
}

/** `npm run bench -- --only consumer-layout [--quick] [--json]`: this section alone, printed, then exit. */
export async function runConsumerLayoutSection(quick: boolean, json: boolean, log: (l: string) => void): Promise<never> {
  try {
    const r = await benchConsumerLayout(
      {
        mailstores: 10,
        accounts: quick ? 200 : 1_000,
        writesPerAccount: 10,
        idleMs: quick ? 1_000 : 2_000,
        filterSizes: quick ? [100, 250, 1_000] : [100, 250, 500, 1_000, 2_000],
      },
      log,
    );
    process.stdout.write(json ? JSON.stringify({ consumerLayout: r }, null, 2) + "\n" : renderConsumerLayout(r));
    log("done");
    // process.exit runs the harness's exit hook: children killed, temp folders removed.
    process.exit(0);
  } catch (e) {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  }
}
