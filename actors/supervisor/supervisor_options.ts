// What `mailreplica supervisor` is started with (SupervisorNode.start). Its own module so the
// method modules can name the options they read without importing the node.
import type { Clock } from "../../src/runtime/clock.js";
import type { AssetOptions } from "../../src/jetstream/assets.js";
import type { NatsAuth } from "../../src/natsauth/connect_options.js";
import type { Config, LimitsConfig } from "../../src/config/types.js";
import { assetOptions } from "../../src/jetstream/asset_options.js";
import type { LogLevel } from "../../src/log/index.js";

export interface SupervisorOptions {
  /** name of this supervisor (default: the machine's hostname) */
  host?: string;
  servers: string[];
  /** credentials, TLS and inbox prefix (config nats.*); none: anonymous */
  natsAuth?: NatsAuth;
  assets: AssetOptions;
  heartbeatMs: number;
  /** how long start-up waits for JetStream (a forming cluster) before it gives up; default 120 s */
  startupTimeoutMs?: number;
  /** the lease's time to live; a standby takes over within about this long; default 5_000 */
  leaseTtlMs?: number;
  licenceQuota: number;
  /** the licence file (config licence.file); without one, licenceQuota applies */
  licenceFile?: string;
  /** keys folder (config keys.dir): this supervisor's grant-signing key is its <host>.supervisor-ed25519.json, the trusted signers its trusted-signers.json */
  keysDir?: string;
  /** development licence issuer trusted besides the pinned one (config licence.devIssuerKeyFile); logged as a warning */
  licenceDevIssuerKeyFile?: string;
  /** mailbox of the Global Admin that also receives operation notices as messages */
  adminAccount?: string;
  /** default `threads` of promoteAccounts */
  promotionThreads?: number;
  /** promote a dead mailstore's accounts without a command (default off) */
  autoFailover?: boolean;
  /** how long a mailstore's heartbeat must be missing before automatic failover */
  failoverAfterMs?: number;
  /** how long the supervisor waits for a promotion target's answer before asking the log; default 60_000 */
  promoteTimeoutMs?: number;
  /** most accounts in one promoteMany call to a target (config supervisor.promoteBatchSize); default PROMOTE_BATCH (200) */
  promoteBatchSize?: number;
  /** how often the directory is checked against the accounts' logs (reconciler); default 30_000, 0 = never */
  reconcileEveryMs?: number;
  /** log compaction (config retention); default the configuration's default */
  retention?: { keepDays: number; compactEveryMs: number };
  /** request bounds (config limits); default the configuration's defaults */
  limits?: LimitsConfig;
  /** how long setAccountDestination waits for a replica to catch up; default 10 min */
  initTimeoutMs?: number;
  /** `host:port` of the Prometheus metrics endpoint (config metrics.listen); none: no metrics, no port */
  metricsListen?: string;
  /** how often the active supervisor measures replica lag for the metrics; default 15_000 */
  metricsRefreshMs?: number;
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
 * A supervisor's options from the configuration (the `supervisor` command, tests, the
 * benchmark); without `host`, the node takes the machine's hostname. A caller adds its clock
 * or log sink.
 */
export function supervisorOptionsOf(config: Config, host?: string): SupervisorOptions {
  return {
    ...(host ? { host } : {}),
    servers: config.nats.servers,
    natsAuth: config.nats,
    assets: assetOptions(config),
    heartbeatMs: config.node.heartbeatMs,
    startupTimeoutMs: config.node.startupTimeoutMs,
    leaseTtlMs: config.supervisor.leaseTtlMs,
    licenceQuota: config.licence.defaultQuota,
    promotionThreads: config.supervisor.promotionThreads,
    promoteTimeoutMs: config.supervisor.promoteTimeoutMs,
    promoteBatchSize: config.supervisor.promoteBatchSize,
    reconcileEveryMs: config.supervisor.reconcileEveryMs,
    retention: { ...config.retention },
    autoFailover: config.supervisor.autoFailover,
    failoverAfterMs: config.supervisor.failoverAfterMs,
    keysDir: config.keys.dir,
    limits: config.limits,
    ...(config.licence.file ? { licenceFile: config.licence.file } : {}),
    ...(config.licence.devIssuerKeyFile ? { licenceDevIssuerKeyFile: config.licence.devIssuerKeyFile } : {}),
    ...(config.supervisor.adminAccount ? { adminAccount: config.supervisor.adminAccount } : {}),
    ...(config.metrics.listen !== undefined ? { metricsListen: config.metrics.listen } : {}),
    logLevel: config.log.level,
  };
}
