// The top-level keys of `npm run bench -- --json` that issue 11 names (docs/benchmarks.md,
// "The contract keys"), assembled from the sections' results: a figure whose section did not
// run in this invocation (e.g. `--only leader-loss`) is absent, never invented.
import type { CatchUpResult } from "./replica.js";
import type { ContractResult } from "./contract.js";
import type { LeaderLossResult } from "./leader_loss.js";
import type { RawSqliteResult } from "./raw_sqlite.js";
import type { SnapshotBench } from "./snapshot.js";
import type { LifecycleResult } from "./lifecycle.js";

/** What the contract keys are computed from: each part present when its section ran. */
export interface ContractSources {
  rawSqlite?: RawSqliteResult;
  /** section 3a: the raw ordered read and the agent's catch-up of one account */
  catchUp?: CatchUpResult;
  contract?: ContractResult;
  leaderLoss?: LeaderLossResult;
  /** section 9a: seeding from a snapshot of a 100,000-item account */
  snapshot?: SnapshotBench;
  /** section 9b: a month of writes, snapshotted and compacted daily */
  lifecycle?: LifecycleResult;
}

/** Each figure is null when it could not be measured (JSON has no NaN). */
export interface ContractKeys {
  raw_publish_per_s?: number | null;
  raw_read_per_s?: number | null;
  raw_sqlite_rows_per_s?: number | null;
  e2e_tx_per_s?: number | null;
  e2e_vs_raw_publish?: number | null;
  catchup_entries_per_s?: number | null;
  catchup_vs_raw_read?: number | null;
  lag_p50_ms?: number | null;
  lag_p99_ms?: number | null;
  promote_1k_s?: number | null;
  promote_10k_s?: number | null;
  seed_100k_items_s?: number | null;
  mailstore_rss_mb_10k_accounts?: number | null;
  leader_loss_write_gap_s?: number | null;
  apply_rows_per_s?: number | null;
  apply_vs_raw_sqlite?: number | null;
  tx_stream_bytes_per_account?: number | null;
}

/** The names of every contract key, in the order the JSON lists them. */
export const CONTRACT_KEY_NAMES: ReadonlyArray<keyof ContractKeys> = [
  "raw_publish_per_s",
  "raw_read_per_s",
  "raw_sqlite_rows_per_s",
  "e2e_tx_per_s",
  "e2e_vs_raw_publish",
  "catchup_entries_per_s",
  "catchup_vs_raw_read",
  "lag_p50_ms",
  "lag_p99_ms",
  "promote_1k_s",
  "promote_10k_s",
  "seed_100k_items_s",
  "mailstore_rss_mb_10k_accounts",
  "leader_loss_write_gap_s",
  "apply_rows_per_s",
  "apply_vs_raw_sqlite",
  "tx_stream_bytes_per_account",
];

/** A finite figure rounded, or null (JSON has no NaN). */
const fig = (v: number, digits = 3): number | null => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

export function contractKeys(s: ContractSources): ContractKeys {
  const c = s.contract;
  // Section 3a's rows (replica.ts): [0] the raw ordered consumer (filter_subject), [3] the agent.
  const rawRead = s.catchUp?.rows[0];
  const agent = s.catchUp?.rows[3];
  return {
    ...(c ? { raw_publish_per_s: fig(c.rawPublish.perSec, 1) } : {}),
    ...(rawRead ? { raw_read_per_s: fig(rawRead.entriesPerSec, 1) } : {}),
    ...(s.rawSqlite ? { raw_sqlite_rows_per_s: fig(s.rawSqlite.rowsPerSec, 1) } : {}),
    ...(c ? { e2e_tx_per_s: fig(c.e2e.txPerSec, 1), e2e_vs_raw_publish: fig(c.e2e.txPerSec / c.rawPublish.perSec) } : {}),
    ...(rawRead && agent ? { catchup_entries_per_s: fig(agent.entriesPerSec, 1), catchup_vs_raw_read: fig(agent.entriesPerSec / rawRead.entriesPerSec) } : {}),
    ...(c
      ? {
          lag_p50_ms: fig(c.lag.p50Ms),
          lag_p99_ms: fig(c.lag.p99Ms),
          promote_1k_s: fig(c.promote1k.promoteS),
          promote_10k_s: fig(c.promote10k.promoteS),
          seed_100k_items_s: fig(c.seed.seedS),
          mailstore_rss_mb_10k_accounts: fig(c.memory10k.rssMb, 1),
        }
      : {}),
    ...(s.leaderLoss ? { leader_loss_write_gap_s: fig(s.leaderLoss.leader_loss_write_gap_s) } : {}),
    ...(s.snapshot ? { apply_rows_per_s: fig(s.snapshot.applyRowsPerS, 1) } : {}),
    ...(s.snapshot && s.rawSqlite ? { apply_vs_raw_sqlite: fig(s.snapshot.applyRowsPerS / s.rawSqlite.rowsPerSec) } : {}),
    ...(s.lifecycle ? { tx_stream_bytes_per_account: fig(s.lifecycle.txBytesPerAccount, 0) } : {}),
    // Further contract keys are added here, each from the result of the section measuring it
    // (and to ContractKeys and CONTRACT_KEY_NAMES above; the test lists them too).
  };
}
