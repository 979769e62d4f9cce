// `npm run bench` — performance figures of mailreplica, each next to a raw baseline measured
// in the same run, so the ratios mean something on any machine (docs/benchmarks.md).
//
//   npm run bench                  full run (about 15 minutes on 2 cores)
//   npm run bench -- --quick       short run (about 10 minutes: section 8 sets up and
//                                  promotes 10,000 accounts at the scale its keys name)
//   npm run bench -- --json        machine-readable results: one JSON object, the last line of
//                                  stdout, with the contract keys of issue 11 at its top level
//                                  (progress on stderr)
//   npm run bench -- --only leader-loss   only section 7 (leader loss on a 3-node cluster)
//   npm run bench -- --only contract      only section 8 (the contract keys) and the raw SQLite baseline
//   npm run bench -- --only consumer-layout   only section 10 (10 mailstores: what each reads)
//   npm run bench -- --only consumer-shards   only section 10c (one destination above maxFilterSubjects)
//
// Starts its own nats-server (free loopback ports, temp store folder) and mailstores (in this
// process, and in child processes where memory and CPU time must be read alone), and removes
// everything it made when it ends, also on failure or Ctrl-C.
import { cpus } from "node:os";
import { loadKeyring, initKeys } from "../src/keys/index.js";
import { BenchEnv, MS1 } from "./bench/env.js";
import { benchEnvelope, type EnvelopeRow } from "./bench/envelope.js";
import { benchOpenWorkers, type OpenWorkersRow } from "./bench/open_workers.js";
import { benchWritePath, setupWriteAccount, type WriteRow } from "./bench/write_path.js";
import {
  DENSE_ACCOUNT,
  benchCatchUp,
  benchDenseRead,
  benchLag,
  padStream,
  setupCatchUpAccount,
  type CatchUpResult,
  type DenseReadRow,
  type LagResult,
} from "./bench/replica.js";
import { benchConsumerChoice, type ConsumerChoiceResult } from "./bench/consumers.js";
import { benchRouting, type RoutingRow } from "./bench/routing.js";
import { benchLeaderLoss, type LeaderLossResult } from "./bench/leader_loss.js";
import { benchContract, CONTRACT_SCALE, type ContractParams, type ContractResult } from "./bench/contract.js";
import { contractKeys, type ContractKeys } from "./bench/contract_keys.js";
import { benchRawSqlite, type RawSqliteResult } from "./bench/raw_sqlite.js";
import { benchSnapshot, type SnapshotBench } from "./bench/snapshot.js";
import { benchLifecycle, type LifecycleParams, type LifecycleResult } from "./bench/lifecycle.js";
import { runConsumerLayoutSection } from "./bench/consumer_layout.js";
import { runConsumerShardsSection } from "./bench/consumer_shards.js";
import { fmt, now, tempDir } from "./bench/util.js";

interface Params {
  envelopeMs: number;
  /** 2b: one-event entries opened on the main thread and by worker pools */
  openWorkerEntries: number;
  writeLevels: number[];
  writeSeconds: number;
  lagRate: number;
  lagSeconds: number;
  accounts: number;
  replicatedShare: number;
  writesPerAccount: number;
  perAccountScales: number[];
  /** how long each live reader's idle CPU is measured (subtracted from its CPU under load) */
  idleMs: number;
  /** one-command entries of the account the replica catches up */
  catchUpEntries: number;
  /** MiB of one account's 1 KB entries written at the start, and how many of them 3c reads */
  denseMiB: number;
  denseReadEntries: number;
  /** MiB of other traffic appended to MR_TX after the catch-up account's entries */
  padMiB: number;
  /** leader-loss trials: kill -9 of the MR_TX leader, SIGTERM of it; concurrent writers */
  leaderKillTrials: number;
  leaderTermTrials: number;
  leaderWriters: number;
  /** item rows the raw SQLite baseline inserts, and how many per transaction */
  rawSqliteRows: number;
  rawSqliteRowsPerTx: number;
  /** the contract section (its scales are fixed: CONTRACT_SCALE) */
  contract: ContractParams;
  /** 9a: items of the account whose snapshot is sealed, opened and loaded */
  snapshotItems: number;
  /** 9b: the simulated month */
  lifecycle: LifecycleParams;
}

const FULL: Params = {
  envelopeMs: 250,
  openWorkerEntries: 20_000,
  writeLevels: [1, 16, 256],
  writeSeconds: 3,
  lagRate: 250,
  lagSeconds: 4,
  accounts: 1_000,
  replicatedShare: 0.1,
  writesPerAccount: 10,
  perAccountScales: [1_000],
  idleMs: 1_000,
  padMiB: 8,
  catchUpEntries: 5_000,
  denseMiB: 12,
  denseReadEntries: 2_000,
  leaderKillTrials: 10,
  leaderTermTrials: 3,
  leaderWriters: 8,
  rawSqliteRows: 100_000,
  rawSqliteRowsPerTx: 1_000,
  contract: { e2eSeconds: 10, lagSeconds: 10 },
  snapshotItems: 100_000,
  lifecycle: { accounts: 50, days: 30, writesPerDay: 40 },
};
const QUICK: Params = {
  ...FULL,
  envelopeMs: 80,
  openWorkerEntries: 5_000,
  writeSeconds: 1,
  lagSeconds: 1.5,
  writesPerAccount: 3,
  perAccountScales: [],
  idleMs: 600,
  catchUpEntries: 2_000,
  denseReadEntries: 1_000,
  leaderKillTrials: 2,
  leaderTermTrials: 1,
  contract: { e2eSeconds: 3, lagSeconds: 3 },
  lifecycle: { accounts: 20, days: 30, writesPerDay: 20 },
};

const args = process.argv.slice(2);
const SECTIONS = ["leader-loss", "contract", "consumer-layout", "consumer-shards"];
let only: string | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "--only") {
    only = args[++i];
    if (!only || !SECTIONS.includes(only)) {
      process.stderr.write(`bench: --only takes one of: ${SECTIONS.join(", ")}${only ? ` (not '${only}')` : ""}\n`);
      process.exit(2);
    }
  } else if (!["--quick", "--json", "--help", "-h"].includes(a)) {
    process.stderr.write(`bench: unknown option '${a}'; allowed: --quick, --json, --only ${SECTIONS.join("|")}\n`);
    process.exit(2);
  }
}
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(
    "usage: npm run bench [-- --quick] [-- --json] [-- --only leader-loss|contract|consumer-layout|consumer-shards]\n  --quick  short run\n  --json   results as one JSON line, the last of stdout\n  --only leader-loss       only the leader-loss section (3-node cluster)\n  --only contract          only the contract section (8) and the raw SQLite baseline\n  --only consumer-layout   only section 10 (10 mailstores: what each reads)\n  --only consumer-shards   only section 10c (one destination above maxFilterSubjects)\nSee docs/benchmarks.md.\n",
  );
  process.exit(0);
}
const quick = args.includes("--quick");
const json = args.includes("--json");
const p = quick ? QUICK : FULL;
const started = now();
const log = (line: string): void => {
  process.stderr.write(`bench [${((now() - started) / 1000).toFixed(1)}s] ${line}\n`);
};

interface Results {
  mode: "quick" | "full";
  machine: { nproc: number; cpu: string; node: string; natsServer: string; platform: string };
  params: Params;
  envelope: EnvelopeRow[];
  openWorkers: OpenWorkersRow[];
  writePath: WriteRow[];
  catchUp: CatchUpResult;
  lag: LagResult;
  denseRead: DenseReadRow[];
  denseIdleSeconds: number;
  consumerChoice: ConsumerChoiceResult;
  routing: RoutingRow[];
  rawSqlite: RawSqliteResult;
  /** the contract section, on a system of its own (run after the others) */
  contract: ContractResult;
  snapshot: SnapshotBench;
  lifecycle: LifecycleResult;
  seconds: number;
}

function rawSqliteBaseline(): RawSqliteResult {
  log(`raw SQLite: ${p.rawSqliteRows} item rows, ${p.rawSqliteRowsPerTx} per transaction`);
  return benchRawSqlite(p.rawSqliteRows, p.rawSqliteRowsPerTx);
}

/** Section 9: a snapshot's steps (in this process), then a month of writes compacted daily (a system of its own). */
async function lifecycleSection(): Promise<{ snapshot: SnapshotBench; lifecycle: LifecycleResult }> {
  log(`snapshot: export, seal, open and load of a ${p.snapshotItems}-item account`);
  const snapshot = await benchSnapshot(p.snapshotItems);
  const l = p.lifecycle;
  log(`lifecycle: ${l.days} days of ${l.writesPerDay} writes on each of ${l.accounts} accounts, snapshotted and compacted daily`);
  return { snapshot, lifecycle: await benchLifecycle(l, log) };
}

function contractSection(): Promise<ContractResult> {
  log("contract: e2e, lag, promotion, memory and seeding on a system of their own");
  return benchContract(p.contract, log);
}

async function main(): Promise<Results> {
  // Envelope first: CPU only, nothing else running yet.
  const keysDir = tempDir("mr-bench-keys-");
  initKeys({ dir: keysDir, host: MS1 });
  log("envelope: seal + open vs msgpack");
  const envelope = benchEnvelope(loadKeyring({ dir: keysDir, host: MS1 }), p.envelopeMs);
  log(`opening ${p.openWorkerEntries} entries: main thread vs worker threads`);
  const openWorkers = await benchOpenWorkers(loadKeyring({ dir: keysDir, host: MS1 }), keysDir, p.openWorkerEntries);
  const rawSqlite = rawSqliteBaseline();

  log("starting nats-server, mailstore ms1 and the supervisor");
  const env = await BenchEnv.start();
  try {
    log(`appending ${p.denseMiB} MiB of one account's entries to MR_TX (read in 3c)`);
    const denseFirst = (await env.lastSeq()) + 1;
    await padStream(env, p.denseMiB * 1024 * 1024, DENSE_ACCOUNT);
    const dense = { first: denseFirst, head: await env.lastSeq() };
    const denseWritten = now();
    const setup = await setupWriteAccount(env);
    const writePath = await benchWritePath(env, setup, p.writeLevels, p.writeSeconds, log);
    log(`catch-up: writing ${p.catchUpEntries} entries to a second account`);
    const replicated = await setupCatchUpAccount(env, p.catchUpEntries);
    log(`catch-up: appending ${p.padMiB} MiB of other traffic to MR_TX`);
    await padStream(env, p.padMiB * 1024 * 1024);
    log("starting mailstore ms2 (replica)");
    await env.startMs2();
    const catchUp = await benchCatchUp(env, replicated, log);
    const lag = await benchLag(env, replicated, p.lagRate, p.lagSeconds, log);
    const denseIdle = (now() - denseWritten) / 1000;
    const denseRead = await benchDenseRead(env, dense, p.denseReadEntries, denseIdle, log);
    log(`consumer choice: ${p.accounts} accounts, ${p.replicatedShare * 100}% replicated`);
    const consumerChoice = await benchConsumerChoice(env, p, log);
    log("routing: account lookups");
    const routing = await benchRouting(env, quick ? 150 : 400);
    log("stopping");
    await env.stop();
    const contract = await contractSection();
    const { snapshot, lifecycle } = await lifecycleSection();
    return {
      mode: quick ? "quick" : "full",
      machine: {
        nproc: cpus().length,
        cpu: cpus()[0]?.model ?? "unknown",
        node: process.version,
        natsServer: env.nats.version,
        platform: `${process.platform} ${process.arch}`,
      },
      params: p,
      envelope,
      openWorkers,
      writePath,
      catchUp,
      lag,
      denseRead,
      denseIdleSeconds: denseIdle,
      consumerChoice,
      routing,
      rawSqlite,
      contract,
      snapshot,
      lifecycle,
      seconds: (now() - started) / 1000,
    };
  } finally {
    await env.stop().catch((e) => log(`stop: ${(e as Error).message}`));
  }
}

// ---- table -------------------------------------------------------------------------------

function table(title: string, head: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ");
  return [`\n${title}`, line(head), w.map((x) => "-".repeat(x)).join("  "), ...cells.map(line)].join("\n");
}

const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "n/a");
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const memDelta = (b: number) => (Math.abs(b) < 10 * 1024 * 1024 ? `${fmt(b / 1024)} KiB` : mib(b));

function render(r: Results): string {
  const p = r.params;
  const out: string[] = [];
  const m = r.machine;
  out.push(`mailreplica bench (${r.mode}) — ${m.nproc} CPUs (${m.cpu}), Node ${m.node}, nats-server ${m.natsServer}, ${m.platform}; ${r.seconds.toFixed(0)} s`);

  const raw1 = r.writePath.find((w) => w.path === "raw publish+expect")!;
  const rawAt = (n: number) => r.writePath.find((w) => w.path === "raw publish" && w.callers === n);
  out.push(
    table(
      "1. Write path: acknowledged setFlags on one account (ratios vs raw JetStream publishes of the same size, same run)",
      ["path", "callers", "ops/s", "p50 ms", "p99 ms", "cmds/append", "vs raw seq+expect", "vs raw concurrent"],
      r.writePath.map((w) => {
        const conc = w.callers > 1 ? rawAt(w.callers) : undefined;
        return [
          w.path,
          w.callers,
          fmt(w.opsPerSec),
          w.p50Ms.toFixed(2),
          w.p99Ms.toFixed(2),
          w.path.startsWith("raw") ? "-" : w.opsPerAppend.toFixed(1),
          x(w.opsPerSec / raw1.opsPerSec),
          conc && !w.path.startsWith("raw") ? x(w.opsPerSec / conc.opsPerSec) : "-",
        ];
      }),
    ),
  );
  out.push(
    table(
      "2. Envelope: seal + open per batch vs msgpack encode + decode alone",
      ["batch", "payload B", "envelope B", "msgpack µs", "seal µs", "open µs", "seal+open µs", "ratio"],
      r.envelope.map((e) => [
        e.batch,
        e.payloadBytes,
        e.envelopeBytes,
        e.codecUs.toFixed(1),
        e.sealUs.toFixed(1),
        e.openUs.toFixed(1),
        e.sealOpenUs.toFixed(1),
        x(e.ratio),
      ]),
    ),
  );
  out.push(
    table(
      `2b. Opening ${fmt(p.openWorkerEntries)} one-event log entries: on the main thread vs a pool of worker threads (runs of 256, opened payloads cloned back; ${cpus().length} CPUs)`,
      ["how", "entries", "ms", "entries/s", "vs main thread"],
      r.openWorkers.map((o) => [o.how, o.entries, fmt(o.ms), fmt(o.entriesPerS), x(o.vsMain)]),
    ),
  );
  const cu = r.catchUp.rows;
  out.push(
    table(
      `3a. Replica catch-up of one account with ${p.catchUpEntries} one-command entries, seeded by setAccountDestination after the writes (MR_TX holds ${mib(r.catchUp.streamBytes)})`,
      ["reader", "entries", "events", "ms", "entries/s", "client CPU ms", "server CPU ms", "vs raw read"],
      cu.map((c) => [
        c.what,
        c.entries,
        Number.isFinite(c.events) ? c.events : "-",
        fmt(c.ms),
        fmt(c.entriesPerSec),
        fmt(c.cpuMs),
        fmt(c.serverCpuMs),
        x(c.entriesPerSec / cu[0]!.entriesPerSec),
      ]),
    ),
  );
  out.push(
    table(
      "3b. Live apply lag: primary ack → replica apply, steady open-loop load on one account",
      ["writes/s", "writes", "entries", "p50 ms", "p99 ms", "max ms"],
      [[r.lag.ratePerSec, r.lag.writes, r.lag.entries, r.lag.p50Ms.toFixed(2), r.lag.p99Ms.toFixed(2), r.lag.maxMs.toFixed(2)]],
    ),
  );
  out.push(
    table(
      `3c. ${p.denseReadEntries} entries of an account whose entries fill whole file blocks (${p.denseMiB} MiB of 1 KB entries written at the start, idle ${r.denseIdleSeconds.toFixed(0)} s), read with the filter sent two ways`,
      ["filter", "entries", "ms", "entries/s", "server CPU ms", "vs filter_subject"],
      r.denseRead.map((d) => [d.filter, d.entries, fmt(d.ms), fmt(d.entriesPerSec), fmt(d.serverCpuMs), x(d.entriesPerSec / r.denseRead[0]!.entriesPerSec)]),
    ),
  );
  const cc = r.consumerChoice;
  const rawOrdered = cc.live.find((l) => l.what.startsWith("raw: 1 ordered"))!;
  out.push(
    table(
      `4a. The consumer choice, live: ${cc.writes} entries written over ${cc.accounts} accounts (${fmt(cc.writesPerSec)}/s), ${cc.replicated} of them replicated to the destination; every reader in its own process; CPU net of its idle CPU`,
      [
        "reader",
        "consumers",
        "create ms",
        "server mem Δ",
        "read",
        "applied",
        "skipped",
        "CPU ms",
        "µs/entry read",
        "µs/entry written",
        "vs raw ordered",
        "drain ms",
      ],
      cc.live.map((l) => [
        l.what,
        l.consumers,
        Number.isFinite(l.createMs) ? fmt(l.createMs, 1) : "exists",
        Number.isFinite(l.serverMemDelta) ? memDelta(l.serverMemDelta) : "-",
        l.entries,
        Number.isFinite(l.applied) ? l.applied : "-",
        Number.isFinite(l.skipped) ? l.skipped : "-",
        fmt(l.cpuMs),
        l.cpuUsPerEntry.toFixed(1),
        l.cpuUsPerWrite.toFixed(1),
        x(l.cpuUsPerWrite / rawOrdered.cpuUsPerWrite),
        fmt(l.drainMs),
      ]),
    ),
  );
  out.push(
    `   consumers on MR_TX: ${cc.consumersOnStream.agentOnly} with the agents' durables only (one per mailstore with replicas), ${cc.consumersOnStream.withAlternatives} with every alternative above open`,
  );
  out.push(
    table(
      "4b. The same entries read again as a backlog (as after a restart), by each consumer layout",
      ["layout", "consumers", "create ms", "entries", "read ms", "entries/s", "client CPU µs/entry", "server CPU ms", "delete ms"],
      cc.backlog.map((b) => [
        b.what,
        b.consumers,
        fmt(b.createMs, 1),
        b.entries,
        fmt(b.readMs),
        fmt(b.entriesPerSec),
        b.cpuUsPerEntry.toFixed(1),
        fmt(b.serverCpuMs),
        fmt(b.deleteMs),
      ]),
    ),
  );
  out.push(`   filter_subjects upkeep: adding one subject to a durable listing ${cc.replicated} subjects took ${cc.filterUpdateMs.toFixed(1)} ms`);
  const mem = cc.memory;
  out.push(
    table(
      "5. Memory of a mailstore process (its own process, after full GC)",
      ["state", "RSS", "heap used", "vs idle"],
      [
        ["idle (0 accounts)", mib(mem.idleRss), mib(mem.idleHeap), "1.00x"],
        [`${mem.accounts} accounts (created at ${fmt(mem.accountsPerSec)}/s)`, mib(mem.loadedRss), mib(mem.loadedHeap), x(mem.ratio)],
        [`same, after ${cc.writes} more writes`, mib(mem.afterWritesRss), mib(mem.afterWritesHeap), x(mem.afterWritesRss / mem.idleRss)],
      ],
    ),
  );
  out.push(`   ≈ ${fmt(mem.bytesPerAccount / 1024, 1)} KiB RSS per account`);
  out.push(
    table(
      "6. Request routing: finding the account's record, done for every mailbox request by the mailstore that takes it",
      ["lookup", "accounts known", "µs per lookup", "vs Map.get"],
      r.routing.map((o) => [o.lookup, o.accounts, o.usPerLookup.toFixed(2), x(o.usPerLookup / r.routing[0]!.usPerLookup)]),
    ),
  );
  out.push(renderContract(r.contract, r.rawSqlite));
  return out.join("\n") + "\n";
}

function renderContract(c: ContractResult, rawSqlite: RawSqliteResult): string {
  const s2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "n/a");
  const out: string[] = [];
  out.push(
    table(
      `8a. Contract writes: setFlags through mr.rpc.mailbox over ${c.e2e.accounts} accounts (msa, a child process) from ${c.e2e.clients} clients, counted once applied at the replica (msd); raw = js.publish of ${c.rawPublish.payloadBytes} B (a sealed one-command entry) from ${c.rawPublish.publishers} publishers over ${c.rawPublish.subjects} subjects`,
      ["what", "writes", "s", "per s", "vs raw publish"],
      [
        ["raw publish", c.rawPublish.publishes, s2(c.rawPublish.seconds), fmt(c.rawPublish.perSec), "1.00x"],
        ["e2e: acknowledged (committed at msa)", c.e2e.writes, s2(c.e2e.seconds), fmt(c.e2e.ackedPerSec), x(c.e2e.ackedPerSec / c.rawPublish.perSec)],
        [
          `e2e: applied at msd (${c.e2e.entriesApplied} entries)`,
          c.e2e.writes,
          s2(c.e2e.untilAppliedS),
          fmt(c.e2e.txPerSec),
          x(c.e2e.txPerSec / c.rawPublish.perSec),
        ],
      ],
    ),
  );
  out.push(
    table(
      "8b. Commit (the entry stored by nats-server) → apply at the replica, open-loop load at half the e2e rate over the same accounts",
      ["writes/s", "writes", "entries", "p50 ms", "p99 ms", "max ms"],
      [[fmt(c.lag.ratePerSec), c.lag.writes, c.lag.entries, c.lag.p50Ms.toFixed(2), c.lag.p99Ms.toFixed(2), c.lag.maxMs.toFixed(2)]],
    ),
  );
  out.push(
    table(
      "8c. Failover: the primary killed with SIGKILL, then promoteAccounts (source_mail_host; over 1,000 accounts: calls of 1,000 accounts at once); until every account accepted a write on msd",
      ["accounts", "seen dead after s", "promoted, all writable after s", "writes refused before", "promoteAccounts calls: state"],
      [c.promote1k, c.promote10k].map((q) => [
        q.accounts,
        s2(q.detectS),
        s2(q.promoteS),
        Object.entries(q.refused)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ") || "none",
        `${q.operations}: ${q.operation}`,
      ]),
    ),
  );
  const m = c.memory10k;
  out.push(
    `   msb RSS (its own process, after full GCs): ${m.idleRssMb.toFixed(1)} MiB idle, ${m.rssMb.toFixed(1)} MiB with ${fmt(m.accounts)} accounts (heap used ${m.heapUsedMb.toFixed(1)} MiB)`,
  );
  out.push(
    `8d. Seeding: a replica added to an account of ${fmt(c.seed.items)} items (${fmt(c.seed.entries)} log entries, snapshotted first in ${s2(c.seed.snapshotS)} s): available at the head after ${s2(c.seed.seedS)} s`,
  );
  out.push(`   raw SQLite: ${fmt(rawSqlite.rows)} item rows, ${fmt(rawSqlite.rowsPerTransaction)} per transaction: ${fmt(rawSqlite.rowsPerSec)} rows/s`);
  out.push(
    `   setup (not measured): ${Object.entries(c.setupSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join("; ")}`,
  );
  return out.join("\n");
}

function renderLifecycle(s: SnapshotBench, l: LifecycleResult, rawSqlite: RawSqliteResult): string {
  const out: string[] = [];
  out.push(
    table(
      `9a. Seeding from a snapshot of an account of ${fmt(s.items)} items (one process, real SQLite files; vs the raw SQLite baseline of the same run)`,
      ["step", "ms", "rows/s", "vs raw SQLite"],
      [
        ["export (one read transaction)", fmt(s.exportMs), fmt(s.items / (s.exportMs / 1000)), "-"],
        [`seal (deflate + secretbox + signature; ${mib(s.bytes)} sealed)`, fmt(s.sealMs), fmt(s.items / (s.sealMs / 1000)), "-"],
        [
          `export + seal on the snapshot worker (the event loop's longest wait meanwhile: ${fmt(s.workerLoopHeldMs)} ms)`,
          fmt(s.workerTakeMs),
          fmt(s.items / (s.workerTakeMs / 1000)),
          "-",
        ],
        ["open (signature + secretbox + inflate + shape check)", fmt(s.openMs), fmt(s.items / (s.openMs / 1000)), "-"],
        ["load (one write transaction)", fmt(s.loadMs), fmt(s.applyRowsPerS), x(s.applyRowsPerS / rawSqlite.rowsPerSec)],
        ["open + load (a replica's CPU)", fmt(s.openMs + s.loadMs), fmt(s.seedRowsPerS), x(s.seedRowsPerS / rawSqlite.rowsPerSec)],
      ],
    ),
  );
  const pick = l.days.filter((d) => d.day === 1 || d.day % 5 === 0);
  out.push(
    table(
      `9b. A month compressed in time: ${l.params.accounts} accounts, ${l.params.writesPerDay} writes each a day (${fmt(l.writes)} in all), snapshotted and compacted at each day's end (keepDays 0); ${l.seconds.toFixed(0)} s`,
      ["day", "MR_TX B/account", "MR_SNAP B/account", "written B/account (no compaction)"],
      pick.map((d) => [d.day, fmt(d.txBytesPerAccount), fmt(d.snapBytesPerAccount), fmt(d.writtenBytesPerAccount)]),
    ),
  );
  return out.join("\n") + "\n";
}

function renderKeys(k: ContractKeys): string {
  return `\nContract keys (docs/benchmarks.md, "The contract keys")\n${Object.entries(k)
    .map(([name, v]) => `  ${name}: ${v ?? "null"}`)
    .join("\n")}\n`;
}

function renderLeaderLoss(l: LeaderLossResult): string {
  const s = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "n/a");
  const out: string[] = [];
  out.push(
    table(
      `7. Leader loss: the nats-server leading MR_TX dies under ${l.writers} concurrent writers (3-node cluster, every asset R3, nats-server ${l.natsServer}); gap = longest time without an acknowledged write around the fault; raw = a plain JetStream publisher on an R3 stream led by the same node, same trial`,
      ["fault", "trials", "gap p50 s", "gap p99 s", "gap max s", "raw gap p99 s", "vs raw", "new leader p50 s", "new leader max s"],
      l.summary.map((r) => [r.fault, r.trials, s(r.p50S), s(r.p99S), s(r.maxS), s(r.rawP99S), x(r.p99S / r.rawP99S), s(r.electionP50S), s(r.electionMaxS)]),
    ),
  );
  out.push(`   leader_loss_write_gap_s (p99 over the kill -9 trials): ${s(l.leader_loss_write_gap_s)}`);
  out.push(`   trials: ${l.trials.map((t) => `${t.fault === "kill -9" ? "k" : "t"}:${s(t.gapS)}/${s(t.electionS)}`).join(" ")} (gap/new leader, s)`);
  return out.join("\n") + "\n";
}

/** What one invocation measured: every section, or the one `--only` names. */
type Outcome =
  | { only: "leader-loss"; leaderLoss: LeaderLossResult }
  | { only: "contract"; rawSqlite: RawSqliteResult; contract: ContractResult; snapshot: SnapshotBench; lifecycle: LifecycleResult }
  | { only?: undefined; results: Results; leaderLoss: LeaderLossResult };

async function all(): Promise<Outcome> {
  if (only === "contract") {
    const rawSqlite = rawSqliteBaseline();
    const contract = await contractSection();
    return { only, rawSqlite, contract, ...(await lifecycleSection()) };
  }
  const results = only ? undefined : await main();
  log(`leader loss: ${p.leaderKillTrials} kill -9 and ${p.leaderTermTrials} SIGTERM trials of the MR_TX leader`);
  const leaderLoss = await benchLeaderLoss({ killTrials: p.leaderKillTrials, termTrials: p.leaderTermTrials, writers: p.leaderWriters }, log);
  return results ? { results, leaderLoss } : { only: "leader-loss", leaderLoss };
}

function output(o: Outcome): string {
  const keys =
    o.only === "contract"
      ? contractKeys({ rawSqlite: o.rawSqlite, contract: o.contract, snapshot: o.snapshot, lifecycle: o.lifecycle })
      : o.only === "leader-loss"
        ? contractKeys({ leaderLoss: o.leaderLoss })
        : contractKeys({
            rawSqlite: o.results.rawSqlite,
            catchUp: o.results.catchUp,
            contract: o.results.contract,
            leaderLoss: o.leaderLoss,
            snapshot: o.results.snapshot,
            lifecycle: o.results.lifecycle,
          });
  if (json) {
    const body =
      o.only === "contract"
        ? { rawSqlite: o.rawSqlite, contract: o.contract, snapshot: o.snapshot, lifecycle: o.lifecycle }
        : o.only === "leader-loss"
          ? { leaderLoss: o.leaderLoss }
          : { ...o.results, leaderLoss: o.leaderLoss };
    // One line, the last of stdout: a reader takes the last line and parses it.
    return JSON.stringify({ ...body, ...(o.only === "leader-loss" ? {} : { contractScale: CONTRACT_SCALE }), ...keys }) + "\n";
  }
  const text =
    o.only === "contract"
      ? renderContract(o.contract, o.rawSqlite) + renderLifecycle(o.snapshot, o.lifecycle, o.rawSqlite) + "\n"
      : o.only === "leader-loss"
        ? renderLeaderLoss(o.leaderLoss)
        : render(o.results) + renderLifecycle(o.results.snapshot, o.results.lifecycle, o.results.rawSqlite) + renderLeaderLoss(o.leaderLoss);
  return text + renderKeys(keys);
}

// Section 10 (10 mailstores) runs alone: --only consumer-layout (it exits when done).
if (only === "consumer-layout") await runConsumerLayoutSection(quick, json, log);
// Section 10c (one destination above maxFilterSubjects) too: --only consumer-shards.
if (only === "consumer-shards") await runConsumerShardsSection(quick, json, log);

all().then(
  (o) => {
    process.stdout.write(output(o));
    log("done");
    // process.exit runs the harness's exit hook: children killed, temp folders removed.
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
