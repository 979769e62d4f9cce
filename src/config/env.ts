// MR_* environment variables: the table README and `--help` print, and how each is read.
// A value that cannot be read (not an integer, not true/false) is reported with the
// variable's name; a readable value out of range is caught by the schema and reported
// with the variable as its source.
import type { ConfigProblem, EnvVariable } from "./types.js";

type Parsed = { value: unknown } | { problem: string };

interface EnvRule extends EnvVariable {
  parse(raw: string): Parsed;
}

function integer(raw: string): Parsed {
  return /^[+-]?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? { value: Number(raw) } : { problem: `got ${JSON.stringify(raw)}, not an integer` };
}

function text(raw: string): Parsed {
  return { value: raw };
}

function bool(raw: string): Parsed {
  const v = raw.toLowerCase();
  if (v === "true") return { value: true };
  if (v === "false") return { value: false };
  return { problem: `got ${JSON.stringify(raw)}` };
}

function list(raw: string): Parsed {
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) return { problem: `got ${JSON.stringify(raw)}, which has an empty entry` };
  return { value: items };
}

const RULES: readonly EnvRule[] = [
  {
    name: "MR_CONFIG",
    values: "a JSON file path",
    description: "Config file, read before the other variables (the --config option wins over it).",
    parse: text,
  },
  {
    name: "MR_SYSTEM_CONFIG",
    values: "a JSON file path, or none",
    description:
      "System config file of an installed mailreplica (default /etc/mailreplica/config.json): read when neither --config nor MR_CONFIG names a file; when it exists, data.dir defaults to /var/lib/mailreplica and keys.dir to the keys folder beside it. none turns both off; mailreplica dev (npm start) never reads it.",
    parse: text,
  },
  {
    name: "MR_SERVERS",
    key: "nats.servers",
    fallback: "NATS_URL",
    values: "nats://host:port[,tls://host:port...]",
    description: "NATS endpoints, comma separated (else NATS_URL).",
    parse: list,
  },
  {
    name: "MR_NATS_CREDS",
    key: "nats.credsFile",
    fallback: "NATS_CREDS",
    values: "a .creds file path",
    description: "JWT + nkey seed credentials file (else NATS_CREDS).",
    parse: text,
  },
  {
    name: "MR_NATS_NKEY",
    key: "nats.nkeyFile",
    fallback: "NATS_NKEY",
    values: "an nkey seed file path",
    description: "nkey seed file, e.g. one written by 'auth init' (else NATS_NKEY).",
    parse: text,
  },
  {
    name: "MR_NATS_USER",
    key: "nats.user",
    fallback: "NATS_USER",
    values: "a user name",
    description: "NATS user for user + password authentication (else NATS_USER).",
    parse: text,
  },
  {
    name: "MR_NATS_PASSWORD",
    key: "nats.password",
    fallback: "NATS_PASSWORD",
    values: "a password",
    description: "Password of nats.user; only from the environment, never printed (else NATS_PASSWORD).",
    parse: text,
  },
  {
    name: "MR_NATS_PASSWORD_FILE",
    key: "nats.passwordFile",
    values: "a file path",
    description: "File holding the password of nats.user (first line).",
    parse: text,
  },
  { name: "MR_NATS_TOKEN_FILE", key: "nats.tokenFile", values: "a file path", description: "File holding a NATS token (first line).", parse: text },
  {
    name: "MR_NATS_TLS_CA",
    key: "nats.tls.caFile",
    fallback: "NATS_CA",
    values: "a PEM file path",
    description: "CA certificate of the NATS servers (else NATS_CA).",
    parse: text,
  },
  {
    name: "MR_NATS_TLS_CERT",
    key: "nats.tls.certFile",
    fallback: "NATS_CERT",
    values: "a PEM file path",
    description: "Client certificate for mutual TLS, with MR_NATS_TLS_KEY (else NATS_CERT).",
    parse: text,
  },
  {
    name: "MR_NATS_TLS_KEY",
    key: "nats.tls.keyFile",
    fallback: "NATS_KEY",
    values: "a PEM file path",
    description: "Client private key for mutual TLS (else NATS_KEY).",
    parse: text,
  },
  {
    name: "MR_NATS_INBOX_PREFIX",
    key: "nats.inboxPrefix",
    values: "subject tokens such as _INBOX_mailstore_h1",
    description: "Prefix of this identity's reply inboxes (auth init prints each identity's).",
    parse: text,
  },
  {
    name: "MR_JS_REPLICAS",
    key: "jetstream.replicas",
    values: "1 or 3",
    description: "Replicas of every JetStream asset: 1 single server, 3 cluster.",
    parse: integer,
  },
  { name: "MR_DATA_DIR", key: "data.dir", values: "a folder", description: "Folder of the mailstore's metadata.sqlite.", parse: text },
  { name: "MR_KEYS_DIR", key: "keys.dir", values: "a folder", description: "Folder of the key files ('keys init' writes there).", parse: text },
  {
    name: "MR_HEARTBEAT_MS",
    key: "node.heartbeatMs",
    values: "an integer from 100 to 60000",
    description: "Interval between liveness heartbeats, ms.",
    parse: integer,
  },
  {
    name: "MR_STARTUP_TIMEOUT_MS",
    key: "node.startupTimeoutMs",
    values: "an integer from 1000 to 3600000",
    description: "How long a mailstore or supervisor waits at start for JetStream before it exits (status 75), ms.",
    parse: integer,
  },
  {
    name: "MR_LEASE_TTL_MS",
    key: "supervisor.leaseTtlMs",
    values: "an integer from 1000 to 600000",
    description: "TTL of the supervisor's leadership lease, ms.",
    parse: integer,
  },
  {
    name: "MR_AUTO_FAILOVER",
    key: "supervisor.autoFailover",
    values: "true or false",
    description: "Promote the accounts of a dead mailstore automatically.",
    parse: bool,
  },
  {
    name: "MR_FAILOVER_AFTER_MS",
    key: "supervisor.failoverAfterMs",
    values: "an integer from 1000 to 86400000",
    description: "How long a mailstore is dead before automatic failover, ms.",
    parse: integer,
  },
  {
    name: "MR_ADMIN_ACCOUNT",
    key: "supervisor.adminAccount",
    values: "an address such as admin@example.com",
    description: "Mailbox that receives the Global Admin's notifications.",
    parse: text,
  },
  {
    name: "MR_MAX_MESSAGE_BYTES",
    key: "limits.maxMessageBytes",
    values: "an integer from 1024 to 536870912",
    description: "Largest message deliverMessage accepts (inline or uploaded), bytes.",
    parse: integer,
  },
  { name: "MR_LICENCE_FILE", key: "licence.file", values: "a file path", description: "Licence file (HA quantity).", parse: text },
  {
    name: "MR_MAX_ACCOUNTS_PER_REQUEST",
    key: "limits.maxAccountsPerRequest",
    values: "an integer from 1 to 100000",
    description: "Most accounts one admin request may name; longer lists are refused (REQUEST_TOO_LARGE).",
    parse: integer,
  },
  {
    name: "MR_MAX_STATUS_ACCOUNTS",
    key: "limits.maxStatusAccounts",
    values: "an integer from 1 to 100000",
    description: "Most accounts one getAccountStatus call may read from the mailstores (REQUEST_TOO_LARGE beyond).",
    parse: integer,
  },
  {
    name: "MR_MAX_CONCURRENT_EXPENSIVE",
    key: "limits.maxConcurrentExpensive",
    values: "an integer from 1 to 64",
    description: "Expensive requests (getAccountStatus, verifyReplicas, restartReplicas, test, ...) one process runs at once; more are refused (BUSY).",
    parse: integer,
  },
  {
    name: "MR_METRICS_LISTEN",
    key: "metrics.listen",
    values: "host:port such as 127.0.0.1:9464",
    description: "Serve Prometheus metrics of this process on GET /metrics at this address (off when unset).",
    parse: text,
  },
  {
    name: "MR_LOG_LEVEL",
    key: "log.level",
    values: "debug, info, warn or error",
    description: "Lowest level this process logs (one JSON line per event on standard error).",
    parse: text,
  },
  {
    name: "MR_LICENCE_DEV_ISSUER",
    key: "licence.devIssuerKeyFile",
    values: "a file path",
    description: "Development only: public key file of a licence issuer trusted besides the pinned one (logged as a warning at start).",
    parse: text,
  },
];

/** The variables mailreplica reads, in the order help prints them. */
export function envVariables(): EnvVariable[] {
  return RULES.map(({ name, key, fallback, values, description }) => ({
    name,
    ...(key !== undefined ? { key } : {}),
    ...(fallback !== undefined ? { fallback } : {}),
    values,
    description,
  }));
}

/** What the environment sets: values by config key path, and the variables that could not be read. */
export interface EnvSettings {
  /** Config key path (`jetstream.replicas`) -> value and the variable it came from. */
  values: Map<string, { value: unknown; variable: string }>;
  /** MR_CONFIG, when set. */
  configFile?: string;
  /** MR_SYSTEM_CONFIG, when set (a path, or `none`). */
  systemFile?: string;
  problems: ConfigProblem[];
}

/**
 * Reads the MR_* variables of `env`, each one's NATS ecosystem fallback (NATS_URL, NATS_CREDS,
 * ...) when it is unset. An empty variable counts as unset.
 */
export function readEnv(env: NodeJS.ProcessEnv): EnvSettings {
  const out: EnvSettings = { values: new Map(), problems: [] };
  for (const rule of RULES) {
    let variable = rule.name;
    let raw = env[rule.name]?.trim();
    if ((raw === undefined || raw === "") && rule.fallback !== undefined) {
      variable = rule.fallback;
      raw = env[rule.fallback]?.trim();
    }
    if (raw === undefined || raw === "") continue;
    const parsed = rule.parse(raw);
    if ("problem" in parsed) {
      out.problems.push({ path: rule.key ?? rule.name, problem: parsed.problem, allowed: rule.values, source: `environment variable ${variable}` });
    } else if (rule.name === "MR_SYSTEM_CONFIG") {
      out.systemFile = raw;
    } else if (rule.key === undefined) {
      out.configFile = raw;
    } else {
      out.values.set(rule.key, { value: parsed.value, variable });
    }
  }
  return out;
}
