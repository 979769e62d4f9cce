// The benchmark's contract keys (issue 11, docs/benchmarks.md "The contract keys"): the
// function that puts them at the top level of `npm run bench -- --json` names every key when
// every section ran, takes each figure from the result that measures it, writes null (never
// NaN) for a figure that could not be measured, and leaves out the figures of sections that
// did not run. The results below are a small fixture shaped like the sections' results; the
// bench itself is not run here (its quick run takes minutes), and no speed is checked.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CONTRACT_KEY_NAMES, contractKeys, type ContractSources } from "../scripts/bench/contract_keys.js";
import type { ContractResult } from "../scripts/bench/contract.js";
import type { CatchUpResult } from "../scripts/bench/replica.js";
import type { LeaderLossResult } from "../scripts/bench/leader_loss.js";
import type { SnapshotBench } from "../scripts/bench/snapshot.js";
import type { LifecycleResult } from "../scripts/bench/lifecycle.js";

const catchUpRow = (what: string, entriesPerSec: number) => ({ what, entries: 2_000, events: 2_000, ms: 1, entriesPerSec, cpuMs: 1, serverCpuMs: 1 });

const catchUp: CatchUpResult = {
  rows: [
    catchUpRow("raw ordered consumer, filter_subject", 40_000),
    catchUpRow("raw ordered consumer, filter_subjects: [subject]", 39_000),
    catchUpRow("read + open", 8_000),
    catchUpRow("agent catch-up", 4_000),
  ],
  streamBytes: 1,
  ratio: 0.1,
};

const promote = (accounts: number, promoteS: number) => ({
  accounts,
  detectS: 4.6,
  promoteS,
  refused: {},
  operations: Math.ceil(accounts / 1_000),
  operation: "successful",
});

const contract: ContractResult = {
  rawPublish: { publishers: 64, subjects: 1_000, payloadBytes: 376, seconds: 3, publishes: 30_000, perSec: 10_000 },
  e2e: { accounts: 1_000, clients: 64, seconds: 3, writes: 6_000, ackedPerSec: 2_000, entriesApplied: 6_000, untilAppliedS: 4, txPerSec: 1_500 },
  lag: { ratePerSec: 750, seconds: 3, writes: 2_250, entries: 2_250, p50Ms: 1.25, p99Ms: 30.5, maxMs: 80 },
  promote1k: promote(1_000, 16.25),
  promote10k: promote(10_000, 170.5),
  memory10k: { accounts: 10_000, idleRssMb: 80, rssMb: 412.34, heapUsedMb: 60 },
  seed: { items: 100_000, entries: 1_600, setupS: 20, snapshotS: 1.5, seedS: 7.5 },
  setupSeconds: {},
};

const leaderLoss: LeaderLossResult = {
  natsServer: "2.10.27",
  writers: 8,
  trials: [],
  summary: [],
  leader_loss_write_gap_s: 5.9,
};

const rawSqlite = { rows: 100_000, rowsPerTransaction: 1_000, ms: 500, rowsPerSec: 200_000 };

const snapshot: SnapshotBench = {
  items: 100_000,
  exportMs: 300,
  sealMs: 400,
  workerTakeMs: 800,
  workerLoopHeldMs: 5,
  bytes: 2_000_000,
  openMs: 500,
  loadMs: 1_000,
  applyRowsPerS: 100_000,
  seedRowsPerS: 66_666,
};

const lifecycle: LifecycleResult = {
  params: { accounts: 20, days: 30, writesPerDay: 20 },
  writes: 12_000,
  days: [],
  txBytesPerAccount: 812.4,
  snapBytesPerAccount: 1_500,
  writtenBytesPerAccount: 250_000,
  seconds: 60,
};

const all: ContractSources = { rawSqlite, catchUp, contract, leaderLoss, snapshot, lifecycle };

test("bench contract - every key of the issue is at the top level when every section ran, in the documented order", () => {
  assert.equal(Object.keys(contractKeys(all)), [...CONTRACT_KEY_NAMES]);
  assert.equal(
    [...CONTRACT_KEY_NAMES].sort(),
    [
      "catchup_entries_per_s",
      "catchup_vs_raw_read",
      "e2e_tx_per_s",
      "e2e_vs_raw_publish",
      "lag_p50_ms",
      "lag_p99_ms",
      "leader_loss_write_gap_s",
      "mailstore_rss_mb_10k_accounts",
      "promote_10k_s",
      "promote_1k_s",
      "raw_publish_per_s",
      "raw_read_per_s",
      "raw_sqlite_rows_per_s",
      "seed_100k_items_s",
      "apply_rows_per_s",
      "apply_vs_raw_sqlite",
      "tx_stream_bytes_per_account",
    ].sort(),
  );
});

test("bench contract - each key is the figure of the section that measures it; ratios are against the same run's baselines", () => {
  assert.equal(contractKeys(all), {
    raw_publish_per_s: 10_000,
    raw_read_per_s: 40_000,
    raw_sqlite_rows_per_s: 200_000,
    e2e_tx_per_s: 1_500,
    e2e_vs_raw_publish: 0.15,
    catchup_entries_per_s: 4_000,
    catchup_vs_raw_read: 0.1,
    lag_p50_ms: 1.25,
    lag_p99_ms: 30.5,
    promote_1k_s: 16.25,
    promote_10k_s: 170.5,
    seed_100k_items_s: 7.5,
    mailstore_rss_mb_10k_accounts: 412.3,
    leader_loss_write_gap_s: 5.9,
    apply_rows_per_s: 100_000,
    apply_vs_raw_sqlite: 0.5,
    tx_stream_bytes_per_account: 812,
  });
});

test("bench contract - a figure that could not be measured is null in the JSON, never NaN", () => {
  const keys = contractKeys({ ...all, leaderLoss: { ...leaderLoss, leader_loss_write_gap_s: NaN } });
  assert.is(keys.leader_loss_write_gap_s, null);
  assert.ok(JSON.stringify(keys).includes('"leader_loss_write_gap_s":null'));
});

test("bench contract - the keys of sections that did not run are absent (--only leader-loss, --only contract)", () => {
  assert.equal(Object.keys(contractKeys({ leaderLoss })), ["leader_loss_write_gap_s"]);
  assert.equal(Object.keys(contractKeys({ rawSqlite, contract })), [
    "raw_publish_per_s",
    "raw_sqlite_rows_per_s",
    "e2e_tx_per_s",
    "e2e_vs_raw_publish",
    "lag_p50_ms",
    "lag_p99_ms",
    "promote_1k_s",
    "promote_10k_s",
    "seed_100k_items_s",
    "mailstore_rss_mb_10k_accounts",
  ]);
});

test.run();
