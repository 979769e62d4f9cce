// The default configuration: what a fresh clone runs with (one local nats-server, data and
// keys under the git-ignored var/). Field meanings are documented in src/config/types.ts.
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import type { Config } from "../src/config/types.js";

/** Accounts that may have replicas without a licence file; licence.defaultQuota cannot exceed it. */
export const UNLICENSED_QUOTA = 100;

/** A fresh copy of the defaults (callers may mutate it). */
export function defaultConfig(): Config {
  const root = projectRoot();
  return {
    nats: { servers: ["nats://127.0.0.1:4222"] },
    jetstream: {
      replicas: 1,
      streams: { tx: "MR_TX", notify: "MR_NOTIFY", snapshots: "MR_SNAP" },
      buckets: { directory: "mr_directory", nodes: "mr_nodes", blobs: "mr_blobs", uploads: "mr_uploads" },
      txMaxAgeDays: 0,
    },
    data: { dir: join(root, "var", "data") },
    keys: { dir: join(root, "var", "keys") },
    node: { heartbeatMs: 1000, heartbeatTtlMs: 5000, startupTimeoutMs: 120_000 },
    supervisor: {
      leaseTtlMs: 5000,
      autoFailover: false,
      failoverAfterMs: 15_000,
      promotionThreads: 4,
      promoteBatchSize: 200,
      promoteTimeoutMs: 60_000,
      reconcileEveryMs: 30_000,
    },
    writes: { maxBatch: 512, mailboxCapacity: 10_000, askTimeoutMs: 10_000 },
    licence: { defaultQuota: UNLICENSED_QUOTA },
    limits: { maxMessageBytes: 25 * 1024 * 1024, maxAccountsPerRequest: 10_000, maxStatusAccounts: 10_000, maxConcurrentExpensive: 4 },
    snapshots: { everyEntries: 10_000, everyMs: 6 * 3600_000 },
    retention: { keepDays: 7, compactEveryMs: 600_000 },
    metrics: {},
    log: { level: "info" },
  };
}
