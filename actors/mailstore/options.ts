// What `mailreplica mailstore` is started with (config and command line), as MailstoreNode
// takes it. Apart from node.ts so the method modules can name the options they read.
import type { Config, LimitsConfig } from "../../src/config/types.js";
import { assetOptions } from "../../src/jetstream/asset_options.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { AssetOptions } from "../../src/jetstream/assets.js";
import type { LogLevel } from "../../src/log/index.js";
import type { NatsAuth } from "../../src/natsauth/connect_options.js";
import type { SnapshotPolicy } from "./snapshot_taker.js";

export interface MailstoreOptions {
  host: string;
  /** folder of metadata.sqlite (created if missing) */
  dataDir: string;
  keysDir: string;
  servers: string[];
  /** credentials, TLS and inbox prefix (config nats.*); none: anonymous */
  natsAuth?: NatsAuth;
  assets: AssetOptions;
  heartbeatMs: number;
  /** how long start-up waits for JetStream (a forming cluster) before it gives up; default 120 s */
  startupTimeoutMs?: number;
  /** appendTimeoutMs / appendAttempts: per batch append (defaults in actors/mailstore/account.ts appendLimits) */
  writes: { maxBatch: number; mailboxCapacity: number; askTimeoutMs: number; appendTimeoutMs?: number; appendAttempts?: number };
  /** request bounds (config limits): probes running at once, maxMessageBytes (default 25 MiB); each defaults to the configuration's default */
  limits?: Partial<LimitsConfig>;
  /** when the primary snapshots its accounts (config snapshots); default the configuration's default */
  snapshots?: SnapshotPolicy;
  /**
   * At most this many subjects in one of the replica agent's durables; more replicated
   * accounts are split over several (actors/mailstore/steady_layout.ts); 0: one durable on
   * `mr.tx.*`. Default DEFAULT_MAX_FILTER_SUBJECTS. Tests and the benchmark set it.
   */
  maxFilterSubjects?: number;
  /** `host:port` of the Prometheus metrics endpoint (config metrics.listen); none: no metrics, no port */
  metricsListen?: string;
  clock?: Clock;
  /**
   * Gets each log event as one JSON line (src/log): tests collect them. Default: standard
   * error (pretty text when it is a terminal).
   */
  log?: (line: string) => void;
  /** Lowest level logged (config log.level). Default info. */
  logLevel?: LogLevel;
}

/**
 * A mailstore's options from the configuration, its data in `dataDir` (the `mailstore` command:
 * data.dir or --data; a local system: one folder per host). Plain data, so it can also be sent
 * to a child process; a caller adds its clock or log sink.
 */
export function mailstoreOptionsOf(config: Config, host: string, dataDir: string): MailstoreOptions {
  return {
    host,
    dataDir,
    keysDir: config.keys.dir,
    servers: config.nats.servers,
    natsAuth: config.nats,
    assets: assetOptions(config),
    heartbeatMs: config.node.heartbeatMs,
    startupTimeoutMs: config.node.startupTimeoutMs,
    writes: { ...config.writes },
    limits: config.limits,
    snapshots: { ...config.snapshots },
    ...(config.metrics.listen !== undefined ? { metricsListen: config.metrics.listen } : {}),
    logLevel: config.log.level,
  };
}
