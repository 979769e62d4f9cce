// The configuration contract. Every field is documented here; `config/defaults.ts` holds
// the values, `config/schema.ts` what is allowed, `src/config/env.ts` the MR_* variables.

/**
 * How a mailreplica process reaches NATS. Authentication: at most one of `credsFile`,
 * `nkeyFile`, `user`, `tokenFile` (none: an anonymous connection). Files are read when the
 * process connects, not when the configuration loads, and `config show` prints their paths,
 * never their content (src/natsauth/connect_options.ts builds the connection options).
 */
export interface NatsConfig {
  /**
   * NATS endpoints, each `nats://host:port` or `tls://host:port` (port required, no
   * credentials in the URL, because `config show` prints it). Default `["nats://127.0.0.1:4222"]`.
   * Env `MR_SERVERS` (comma list; else `NATS_URL`), flag `--servers`.
   */
  servers: string[];
  /** Connection name shown by the NATS server (`nats server report connections`). Optional. */
  name?: string;
  /** JWT + nkey seed `.creds` file (operator/JWT mode). Optional. Env `MR_NATS_CREDS`, else `NATS_CREDS`. */
  credsFile?: string;
  /** nkey seed file (one `SU...` seed, as `mailreplica auth init` writes). Optional. Env `MR_NATS_NKEY`, else `NATS_NKEY`. */
  nkeyFile?: string;
  /** User name for user + password authentication. Optional. Env `MR_NATS_USER`, else `NATS_USER`. */
  user?: string;
  /**
   * The password of `user`, from the environment only (`MR_NATS_PASSWORD`, else
   * `NATS_PASSWORD`): a config file that sets it is refused, `config show` prints `(set)`.
   */
  password?: string;
  /** File holding the password of `user` (first line). Optional. Env `MR_NATS_PASSWORD_FILE`. */
  passwordFile?: string;
  /** File holding a token (first line). Optional. Env `MR_NATS_TOKEN_FILE`. */
  tokenFile?: string;
  /** TLS towards the servers; with certFile and keyFile, mutual TLS. Optional. */
  tls?: {
    /** CA certificate(s) that signed the servers' certificates (PEM). Env `MR_NATS_TLS_CA`, else `NATS_CA`. */
    caFile?: string;
    /** Client certificate (PEM), with keyFile. Env `MR_NATS_TLS_CERT`, else `NATS_CERT`. */
    certFile?: string;
    /** Client private key (PEM), with certFile. Env `MR_NATS_TLS_KEY`, else `NATS_KEY`. */
    keyFile?: string;
  };
  /**
   * Prefix of this identity's reply inboxes: with it, a least-privilege server lets the
   * identity subscribe only to its own inboxes (`mailreplica auth init` prints each one's).
   * Default: a mailstore `_INBOX_mailstore_<host>`, a supervisor `_INBOX_supervisor_<host>`
   * (dots of the host as `_`), the CLI and the REPL `_INBOX_admin`; set `_INBOX_client` for a
   * client identity. Env `MR_NATS_INBOX_PREFIX`.
   */
  inboxPrefix?: string;
}

/** JetStream asset names and settings (README, JetStream assets). */
export interface JetStreamConfig {
  /**
   * Replicas of every stream, KV bucket and object store: 1 on a single server, 3 in a
   * cluster (2 would lose quorum with one node down, so it is refused). Env `MR_JS_REPLICAS`.
   */
  replicas: 1 | 3;
  /** Stream names. Letters, digits, `_` and `-` are always safe; `.`, `*`, `>`, `/`, `\` and whitespace are refused. */
  streams: {
    /** Account logs, subjects `mr.tx.<accountId>`. Default `MR_TX`. */
    tx: string;
    /** Notifications for the Global Admin, subjects `mr.notify.<kind>`. Default `MR_NOTIFY`. */
    notify: string;
    /** Account snapshots, subjects `mr.snap.<accountId>.<seq>` (src/snapshot/snapshot_log.ts). Default `MR_SNAP`. */
    snapshots: string;
  };
  /** KV bucket and object store names: letters, digits, `_` and `-` only (a nats.js rule). */
  buckets: {
    /** Account directory KV: primary, epoch, replicas. Default `mr_directory`. */
    directory: string;
    /** Liveness KV with TTL `node.heartbeatTtlMs`. Default `mr_nodes`. */
    nodes: string;
    /** Centralized blob storage (object store). Default `mr_blobs`. */
    blobs: string;
    /**
     * Object store where clients put messages too large for one NATS message before calling
     * `deliverMessage` with `upload`; a delivered upload is deleted. Default `mr_uploads`.
     */
    uploads: string;
  };
  /** Max age of account-log messages in days: only 0 (none); compaction (retention.*) bounds the logs. */
  txMaxAgeDays: number;
}

/** Where a mailstore keeps its files. */
export interface DataConfig {
  /** Folder of `metadata.sqlite`. Default `<projectRoot>/var/data`. Env `MR_DATA_DIR`. */
  dir: string;
}

/** Where key files live (`mailreplica keys init`). */
export interface KeysConfig {
  /** Default `<projectRoot>/var/keys`. Env `MR_KEYS_DIR`. */
  dir: string;
}

/** Liveness of mailstores and supervisors. */
export interface NodeConfig {
  /** Interval between heartbeats, ms (100..60000). Default 1000. Env `MR_HEARTBEAT_MS`. */
  heartbeatMs: number;
  /** A node whose last heartbeat is older is dead; at least 2 × heartbeatMs. Default 5000. */
  heartbeatTtlMs: number;
  /**
   * How long a mailstore or supervisor waits at start for JetStream (a cluster still forming:
   * no meta leader, no stream leader, no peers for placement) before it exits with status 75,
   * ms (1000..3600000). Default 120000. Env `MR_STARTUP_TIMEOUT_MS`.
   */
  startupTimeoutMs: number;
}

/** The supervisor actor (promotion, failover). */
export interface SupervisorConfig {
  /** TTL of the supervisor's leadership lease, ms (1000..600000). Default 5000. Env `MR_LEASE_TTL_MS`. */
  leaseTtlMs: number;
  /** Promote the accounts of a dead mailstore without an operator. Default false. Env `MR_AUTO_FAILOVER`. */
  autoFailover: boolean;
  /**
   * How long a mailstore must be dead before automatic failover, ms; at least
   * `node.heartbeatTtlMs`. Default 15000. Env `MR_FAILOVER_AFTER_MS`.
   */
  failoverAfterMs: number;
  /** Default parallelism of `promoteAccounts` (its `threads` param: batches in flight), 1..64. Default 4. */
  promotionThreads: number;
  /**
   * Most accounts in one batch of a promotion (one `promoteMany` call to their target), 1..500.
   * Default 200: large enough to pipeline the target's appends and SQLite transaction, small
   * enough that a batch answers within seconds on a loaded machine.
   */
  promoteBatchSize: number;
  /**
   * How long the supervisor keeps asking a promotion target for its answer (each request waits
   * at most 10 s, then the log is read and the promote asked again: a request or reply lost with
   * a nats-server node), before it reports the account failed, ms (1000..600000). Default 60000.
   */
  promoteTimeoutMs: number;
  /**
   * Interval of the directory reconciler (repairs accounts whose directory record disagrees
   * with their log), ms: 0 (off) or 1000..86400000. Default 30000.
   */
  reconcileEveryMs: number;
  /** Mailbox of the Global Admin that receives notifications as messages. Optional. Env `MR_ADMIN_ACCOUNT`. */
  adminAccount?: string;
}

/** The account actors' write path. */
export interface WritesConfig {
  /** Most commands grouped into one log batch (group commit), 1..10000. Default 512. */
  maxBatch: number;
  /** Bounded mailbox of an account actor; more queued requests are refused. Default 10000. */
  mailboxCapacity: number;
  /** Time a caller waits for an account actor's answer, ms. Default 10000. */
  askTimeoutMs: number;
}

/** Licence (HA quantity). */
export interface LicenceConfig {
  /** Licence file. Optional. Env `MR_LICENCE_FILE`. */
  file?: string;
  /** Accounts that may have replicas when no licence file is configured: 0..100 (the unlicensed quota). Default 100. */
  defaultQuota: number;
  /**
   * A development licence issuer's public key file (make_licence's licence-issuer.pub),
   * trusted besides the issuer pinned in the code; every process using it logs a warning.
   * Optional; never in production. Env `MR_LICENCE_DEV_ISSUER`.
   */
  devIssuerKeyFile?: string;
}

/** Bounds on what one request may ask of a supervisor or mailstore, and bring. */
export interface LimitsConfig {
  /** Most accounts one admin request may name (`accounts` of setAccountDestination, promoteAccounts, getAccountStatus, verifyReplicas, ...), 1..100000. Default 10000. Env `MR_MAX_ACCOUNTS_PER_REQUEST`. */
  maxAccountsPerRequest: number;
  /** Most accounts one getAccountStatus call may read from the mailstores (its fan-out), 1..100000. Default 10000. Env `MR_MAX_STATUS_ACCOUNTS`. */
  maxStatusAccounts: number;
  /** Expensive requests (getAccountStatus, verifyReplicas, restartReplicas, test, ...) one process runs at once; more are refused BUSY, 1..64. Default 4. Env `MR_MAX_CONCURRENT_EXPENSIVE`. */
  maxConcurrentExpensive: number;
  /**
   * Largest message `deliverMessage` accepts, bytes (1024..536870912), inline or through the
   * upload object store. Default 26214400 (25 MiB). Env `MR_MAX_MESSAGE_BYTES`.
   */
  maxMessageBytes: number;
}

/** Prometheus metrics of this process (docs/metrics.md). Off unless `listen` is set. */
export interface MetricsConfig {
  /**
   * Address of this process's metrics endpoint, `host:port` (IPv4, a host name, or `[IPv6]`;
   * port 1-65535), e.g. `127.0.0.1:9464`: an HTTP server there answers `GET /metrics` with the
   * Prometheus text format. Optional; unset: no metrics, no port opened. Each process needs its
   * own port (`mailreplica dev` gives each one). Env `MR_METRICS_LISTEN`.
   */
  listen?: string;
}

/** This process's log (docs/operations.md §10): one JSON line per event on standard error. */
export interface LogConfig {
  /**
   * Lowest level written: `debug`, `info`, `warn` or `error`. Default `info`. Env
   * `MR_LOG_LEVEL`.
   */
  level: "debug" | "info" | "warn" | "error";
}

/** The whole effective configuration. */
export interface Config {
  nats: NatsConfig;
  jetstream: JetStreamConfig;
  data: DataConfig;
  keys: KeysConfig;
  node: NodeConfig;
  supervisor: SupervisorConfig;
  writes: WritesConfig;
  licence: LicenceConfig;
  limits: LimitsConfig;
  snapshots: SnapshotsConfig;
  retention: RetentionConfig;
  metrics: MetricsConfig;
  log: LogConfig;
}

/** When a primary snapshots an account (docs/architecture.md, Snapshots and compaction). */
export interface SnapshotsConfig {
  /** after this many entries of the account written here since its last snapshot; 0 = not by count. Default 10000. */
  everyEntries: number;
  /** after this long (ms) with entries not in a snapshot; 0 = not by time. Default 21600000 (6 h). */
  everyMs: number;
}

/** What compaction keeps of each account's log (the supervisor compacts). */
export interface RetentionConfig {
  /**
   * Days of history kept for point-in-time restore: log entries younger than this, and the
   * snapshot they start from, are never removed. 0 = keep only what the newest snapshot needs. Default 7.
   */
  keepDays: number;
  /** How often the active supervisor compacts (ms); 0 = never (the log grows forever). Default 600000 (10 min). */
  compactEveryMs: number;
}

/** Every field optional, at every depth (config files, env layers, overrides). Arrays are replaced whole. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Key path such as `jetstream.replicas` or `nats.servers[1]`; a variable name for env values that could not be read. */
  path: string;
  /** What is wrong, e.g. `got 2`. */
  problem: string;
  /** What is allowed, e.g. `1 or 3`. */
  allowed: string;
  /** Other keys involved, for a rule between keys (e.g. `node.heartbeatMs` for `node.heartbeatTtlMs`). */
  related?: string[];
  /** Where the value came from (`environment variable MR_JS_REPLICAS`, `config file /etc/mr.json`, ...), when known. */
  source?: string;
}

/** Options of `loadConfig`; all optional (see `defaultLoadConfigOptions`). */
export interface LoadConfigOptions {
  /** JSON config file (`--config FILE`); wins over `MR_CONFIG`. */
  file?: string;
  /** Environment to read MR_* variables from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Applied last, e.g. from CLI flags such as `--servers`. Undefined fields are ignored. */
  overrides?: DeepPartial<Config>;
  /** Base of relative paths given in the environment, overrides and `file`. Default `process.cwd()`. */
  cwd?: string;
  /**
   * The system config file (an installed mailreplica): default MR_SYSTEM_CONFIG, else
   * `/etc/mailreplica/config.json`; `null` ignores it (and the installed defaults).
   */
  systemFile?: string | null;
}

/** One environment variable mailreplica reads (for README and `--help`). */
export interface EnvVariable {
  name: string;
  /** The config key it sets, or undefined for `MR_CONFIG`. */
  key?: string;
  /** The NATS ecosystem variable read when this one is unset (`NATS_URL` for `MR_SERVERS`). */
  fallback?: string;
  /** Accepted values, e.g. `true or false`. */
  values: string;
  description: string;
}
