// What a valid configuration is. Every key is checked (type, range, enumeration, format),
// unknown keys are refused (a typo must not silently fall back to a default), and all
// problems are collected so an operator fixes them in one pass.
import type { Config, ConfigProblem } from "../src/config/types.js";
import { invalidConfig } from "../src/config/errors.js";
import { UNLICENSED_QUOTA } from "./defaults.js";
import { LISTEN_ALLOWED, listenProblem } from "../src/metrics/listen.js";

/** One finding of a leaf check; `suffix` points inside the value (e.g. `[1]`). */
interface Issue {
  problem: string;
  allowed?: string;
  suffix?: string;
}

interface Leaf {
  readonly kind: "leaf";
  readonly allowed: string;
  readonly optional?: boolean;
  check(value: unknown): Issue[];
}

interface Group {
  readonly kind: "group";
  readonly fields: Readonly<Record<string, Leaf | Group>>;
  /** May be left out entirely (e.g. nats.tls). */
  readonly optional?: boolean;
}

/** How a wrong value is shown: `got 2`, `got "2" (a string)`, `got an array`. */
function got(value: unknown): string {
  if (value === null) return "got null";
  if (Array.isArray(value)) return "got an array";
  switch (typeof value) {
    case "string":
      return `got ${JSON.stringify(value)} (a string)`;
    case "number":
    case "boolean":
      return `got ${String(value)}`;
    case "object":
      return "got an object";
    default:
      return `got ${typeof value}`;
  }
}

function integer(min: number, max: number): Leaf {
  const allowed = `an integer from ${min} to ${max}`;
  return {
    kind: "leaf",
    allowed,
    check: (v) => (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? [] : [{ problem: got(v) }]),
  };
}

/** 0 (the feature is off) or an integer in range. */
function offOrInteger(min: number, max: number): Leaf {
  return {
    kind: "leaf",
    allowed: `0 (off) or an integer from ${min} to ${max}`,
    check: (v) => (v === 0 || (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) ? [] : [{ problem: got(v) }]),
  };
}

/**
 * Retention of the account logs: only 0 (keep forever). Every account's log starts with
 * `account.created` and a replica seeds from the log, so expired entries of an idle account
 * would leave it unwritable (every append fenced) and unreplicable.
 */
const txRetentionDays: Leaf = {
  kind: "leaf",
  allowed:
    "0 only (no maximum age): an age limit would remove entries no snapshot covers, and the account could no longer be written or replicated; retention.keepDays and compaction bound the logs instead",
  check: (v) => (v === 0 ? [] : [{ problem: got(v) }]),
};

function oneOf<T extends string | number>(...values: T[]): Leaf {
  const shown = values.map((x) => (typeof x === "string" ? JSON.stringify(x) : String(x)));
  const allowed = shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
  return { kind: "leaf", allowed, check: (v) => (values.includes(v as T) ? [] : [{ problem: got(v) }]) };
}

const boolean: Leaf = {
  kind: "leaf",
  allowed: "true or false",
  check: (v) => (typeof v === "boolean" ? [] : [{ problem: got(v) }]),
};

function path(optional = false): Leaf {
  return {
    kind: "leaf",
    allowed: "a non-empty file system path",
    optional,
    check: (v) => (typeof v === "string" && v.trim() !== "" && !v.includes("\0") ? [] : [{ problem: got(v) }]),
  };
}

// JetStream stream names become file names and subject tokens of the server's API.
const BAD_STREAM_CHARS = /[\s.*>/\\\x00-\x1f\x7f]/;
const streamName: Leaf = {
  kind: "leaf",
  allowed: "1 to 255 characters without whitespace, '.', '*', '>', '/' or '\\' (e.g. MR_TX)",
  check: (v) => (typeof v === "string" && v.length >= 1 && v.length <= 255 && !BAD_STREAM_CHARS.test(v) ? [] : [{ problem: got(v) }]),
};

// nats.js accepts only these for KV buckets and object stores; the server adds a KV_/OBJ_ prefix.
const BUCKET = /^[A-Za-z0-9_-]{1,250}$/;
const bucketName: Leaf = {
  kind: "leaf",
  allowed: "1 to 250 letters, digits, '_' or '-' (e.g. mr_directory)",
  check: (v) => (typeof v === "string" && BUCKET.test(v) ? [] : [{ problem: got(v) }]),
};

const ADDRESS = /^[^\s@*?,]+@[^\s@*?,]+$/;
const address: Leaf = {
  kind: "leaf",
  allowed: "an account address such as admin@example.com, without wildcards",
  optional: true,
  check: (v) => (typeof v === "string" && ADDRESS.test(v) ? [] : [{ problem: got(v) }]),
};

const connectionName: Leaf = {
  kind: "leaf",
  allowed: "a non-empty string of printable characters",
  optional: true,
  check: (v) => (typeof v === "string" && v.trim() !== "" && !/[\x00-\x1f\x7f]/.test(v) ? [] : [{ problem: got(v) }]),
};

const userName: Leaf = {
  kind: "leaf",
  allowed: "a non-empty user name of printable characters",
  optional: true,
  check: (v) => (typeof v === "string" && v.trim() !== "" && !/[\x00-\x1f\x7f]/.test(v) ? [] : [{ problem: got(v) }]),
};

// Never shown: the problem says only what kind of value it is.
const password: Leaf = {
  kind: "leaf",
  allowed: "a non-empty string",
  optional: true,
  check: (v) =>
    typeof v === "string" && v !== "" ? [] : [{ problem: typeof v === "string" ? "got an empty string" : `got ${Array.isArray(v) ? "an array" : typeof v}` }],
};

// nats.js appends `.<nuid>` to the prefix; the server's permissions match it token by token.
const INBOX_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const inboxPrefix: Leaf = {
  kind: "leaf",
  allowed: "subject tokens of letters, digits, '_' or '-' separated by '.', without wildcards (e.g. _INBOX_mailstore_h1)",
  optional: true,
  check: (v) => (typeof v === "string" && v.length <= 200 && INBOX_PREFIX.test(v) ? [] : [{ problem: got(v) }]),
};

const URL_ALLOWED = "nats://host:port or tls://host:port (port 1-65535; no credentials, path or query)";

/** Why `s` is not a usable NATS endpoint, or undefined when it is. */
export function natsUrlProblem(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `${JSON.stringify(s)} is not a URL`;
  }
  // Checked first, so no other message prints them. Credentials would be printed by `config show` and end up in logs.
  if (u.username !== "" || u.password !== "")
    return `a URL carries credentials (not shown); give them with nats.user + MR_NATS_PASSWORD, nats.credsFile, nats.nkeyFile or nats.tokenFile instead`;
  if (u.protocol !== "nats:" && u.protocol !== "tls:") return `${JSON.stringify(s)} has scheme ${u.protocol.slice(0, -1)}`;
  if (u.hostname === "") return `${JSON.stringify(s)} has no host`;
  if (u.port === "" || u.port === "0") return `${JSON.stringify(s)} has no port`;
  if ((u.pathname !== "" && u.pathname !== "/") || u.search !== "" || u.hash !== "") return `${JSON.stringify(s)} has a path, query or fragment`;
  return undefined;
}

const natsServers: Leaf = {
  kind: "leaf",
  allowed: `a non-empty list of ${URL_ALLOWED}`,
  check: (v) => {
    if (!Array.isArray(v) || v.length === 0) return [{ problem: Array.isArray(v) ? "got an empty list" : got(v) }];
    const issues: Issue[] = [];
    const seen = new Set<string>();
    v.forEach((item: unknown, i) => {
      const suffix = `[${i}]`;
      if (typeof item !== "string") return issues.push({ suffix, problem: got(item), allowed: URL_ALLOWED });
      const p = natsUrlProblem(item);
      if (p) return issues.push({ suffix, problem: p, allowed: URL_ALLOWED });
      if (seen.has(item)) issues.push({ suffix, problem: `${JSON.stringify(item)} is listed twice`, allowed: "each endpoint once" });
      seen.add(item);
    });
    return issues;
  },
};

/** The problem of a licence.defaultQuota value above the unlicensed quota (also used by the supervisor). */
export function defaultQuotaProblem(v: number): ConfigProblem {
  return {
    path: "licence.defaultQuota",
    problem: `got ${v}, more than the unlicensed quota (${UNLICENSED_QUOTA})`,
    allowed: `an integer from 0 to ${UNLICENSED_QUOTA} (the unlicensed quota); more accounts with replicas need a licence file (licence.file)`,
  };
}

// Without a licence file no more accounts may have replicas than the unlicensed quota: the
// default quota only lowers it, so a config value cannot stand in for a licence.
const defaultQuota: Leaf = {
  kind: "leaf",
  allowed: `an integer from 0 to ${UNLICENSED_QUOTA} (the unlicensed quota)`,
  check: (v) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) return [{ problem: got(v) }];
    if (v > UNLICENSED_QUOTA) {
      const p = defaultQuotaProblem(v);
      return [{ problem: p.problem, allowed: p.allowed }];
    }
    return [];
  },
};

// Checked here so a typo stops start-up with the key's name, not a bind error later.
const metricsListen: Leaf = {
  kind: "leaf",
  allowed: LISTEN_ALLOWED,
  optional: true,
  check: (v) => {
    if (typeof v !== "string") return [{ problem: got(v) }];
    const p = listenProblem(v);
    return p ? [{ problem: p }] : [];
  },
};

function group(fields: Record<string, Leaf | Group>, optional = false): Group {
  return { kind: "group", fields, optional };
}

/** The schema of `Config`; its shape must match src/config/types.ts (checked by the tests). */
export const configSchema: Group = group({
  nats: group({
    servers: natsServers,
    name: connectionName,
    credsFile: path(true),
    nkeyFile: path(true),
    user: userName,
    password,
    passwordFile: path(true),
    tokenFile: path(true),
    tls: group({ caFile: path(true), certFile: path(true), keyFile: path(true) }, true),
    inboxPrefix,
  }),
  jetstream: group({
    replicas: oneOf(1, 3),
    streams: group({ tx: streamName, notify: streamName, snapshots: streamName }),
    buckets: group({ directory: bucketName, nodes: bucketName, blobs: bucketName, uploads: bucketName }),
    txMaxAgeDays: txRetentionDays,
  }),
  data: group({ dir: path() }),
  keys: group({ dir: path() }),
  node: group({ heartbeatMs: integer(100, 60_000), heartbeatTtlMs: integer(200, 600_000), startupTimeoutMs: integer(1000, 3_600_000) }),
  supervisor: group({
    leaseTtlMs: integer(1000, 600_000),
    autoFailover: boolean,
    failoverAfterMs: integer(1000, 86_400_000),
    promotionThreads: integer(1, 64),
    promoteBatchSize: integer(1, 500),
    promoteTimeoutMs: integer(1000, 600_000),
    reconcileEveryMs: offOrInteger(1000, 86_400_000),
    adminAccount: address,
  }),
  writes: group({
    maxBatch: integer(1, 10_000),
    mailboxCapacity: integer(1, 1_000_000),
    askTimeoutMs: integer(100, 600_000),
  }),
  licence: group({ file: path(true), defaultQuota, devIssuerKeyFile: path(true) }),
  // maxMessageBytes 1 KiB .. 512 MiB: a message is read whole into memory to be parsed.
  limits: group({
    maxMessageBytes: integer(1024, 512 * 1024 * 1024),
    maxAccountsPerRequest: integer(1, 100_000),
    maxStatusAccounts: integer(1, 100_000),
    maxConcurrentExpensive: integer(1, 64),
  }),
  snapshots: group({ everyEntries: offOrInteger(10, 10_000_000), everyMs: offOrInteger(1000, 30 * 86_400_000) }),
  retention: group({ keepDays: integer(0, 3650), compactEveryMs: offOrInteger(1000, 86_400_000) }),
  metrics: group({ listen: metricsListen }),
  log: group({ level: oneOf("debug", "info", "warn", "error") }),
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

function walk(schema: Group, value: unknown, at: string, out: ConfigProblem[]): void {
  const keys = Object.keys(schema.fields);
  if (!isPlainObject(value)) {
    out.push({ path: at === "" ? "(root)" : at, problem: got(value), allowed: `an object with keys ${keys.join(", ")}` });
    return;
  }
  for (const key of Object.keys(value)) {
    if (!(key in schema.fields))
      out.push({ path: join(at, key), problem: "unknown key", allowed: `${at === "" ? "top-level keys" : `keys of ${at}`}: ${keys.join(", ")}` });
  }
  for (const [key, rule] of Object.entries(schema.fields)) {
    const p = join(at, key);
    const v = value[key];
    if (rule.kind === "group") {
      if (v === undefined && rule.optional) continue;
      walk(rule, v, p, out);
    } else if (v === undefined) {
      if (!rule.optional) out.push({ path: p, problem: "missing", allowed: rule.allowed });
    } else {
      for (const issue of rule.check(v)) out.push({ path: p + (issue.suffix ?? ""), problem: issue.problem, allowed: issue.allowed ?? rule.allowed });
    }
  }
}

interface CrossRule {
  /** Checked only when none of these keys has a problem of its own. */
  readonly paths: readonly string[];
  check(c: Config): ConfigProblem | undefined;
}

/** The authentication keys set in `c`, in the order the error names them. */
function authKinds(c: Config): string[] {
  const n = c.nats;
  return [
    ...(n.credsFile !== undefined ? ["nats.credsFile"] : []),
    ...(n.nkeyFile !== undefined ? ["nats.nkeyFile"] : []),
    ...(n.user !== undefined ? ["nats.user"] : []),
    ...(n.tokenFile !== undefined ? ["nats.tokenFile"] : []),
  ];
}

const AUTH_KEYS = ["nats.credsFile", "nats.nkeyFile", "nats.user", "nats.tokenFile"] as const;

const crossRules: readonly CrossRule[] = [
  {
    paths: AUTH_KEYS,
    // A connection authenticates one way; two configured ways means one of them is a mistake.
    check: (c) => {
      const set = authKinds(c);
      return set.length <= 1
        ? undefined
        : {
            path: set[1]!,
            problem: `${set.join(" and ")} are both set`,
            allowed: "at most one of nats.credsFile, nats.nkeyFile, nats.user (with a password) or nats.tokenFile",
          };
    },
  },
  {
    paths: ["nats.user", "nats.password", "nats.passwordFile"],
    check: (c) => {
      const n = c.nats;
      if (n.password !== undefined && n.passwordFile !== undefined)
        return {
          path: "nats.passwordFile",
          problem: "both nats.passwordFile and a password (MR_NATS_PASSWORD or NATS_PASSWORD) are set",
          allowed: "one of them",
        };
      if ((n.password !== undefined || n.passwordFile !== undefined) && n.user === undefined)
        return {
          path: n.passwordFile !== undefined ? "nats.passwordFile" : "nats.password",
          problem: "a password without nats.user",
          allowed: "nats.user (MR_NATS_USER) with it",
        };
      if (n.user !== undefined && n.password === undefined && n.passwordFile === undefined)
        return {
          path: "nats.user",
          problem: "no password for it",
          allowed: "a password in MR_NATS_PASSWORD (or NATS_PASSWORD), or nats.passwordFile (MR_NATS_PASSWORD_FILE)",
        };
      return undefined;
    },
  },
  {
    paths: ["nats.tls.certFile", "nats.tls.keyFile"],
    // Mutual TLS needs both halves; one alone would fail at the handshake, far from here.
    check: (c) => {
      const t = c.nats.tls;
      if (t === undefined || (t.certFile === undefined) === (t.keyFile === undefined)) return undefined;
      return t.certFile === undefined
        ? {
            path: "nats.tls.keyFile",
            problem: "set without nats.tls.certFile",
            allowed: "both nats.tls.certFile and nats.tls.keyFile (mutual TLS), or neither",
          }
        : {
            path: "nats.tls.certFile",
            problem: "set without nats.tls.keyFile",
            allowed: "both nats.tls.certFile and nats.tls.keyFile (mutual TLS), or neither",
          };
    },
  },
  {
    paths: ["node.heartbeatMs", "node.heartbeatTtlMs"],
    // With a TTL under two intervals, one late heartbeat would declare a live node dead.
    check: (c) =>
      c.node.heartbeatTtlMs >= 2 * c.node.heartbeatMs
        ? undefined
        : {
            path: "node.heartbeatTtlMs",
            problem: `got ${c.node.heartbeatTtlMs}, less than 2 × node.heartbeatMs (${c.node.heartbeatMs})`,
            allowed: `at least ${2 * c.node.heartbeatMs}`,
          },
  },
  {
    paths: ["supervisor.failoverAfterMs", "node.heartbeatTtlMs"],
    // A node cannot be known dead before its heartbeat has expired.
    check: (c) =>
      c.supervisor.failoverAfterMs >= c.node.heartbeatTtlMs
        ? undefined
        : {
            path: "supervisor.failoverAfterMs",
            problem: `got ${c.supervisor.failoverAfterMs}, less than node.heartbeatTtlMs (${c.node.heartbeatTtlMs})`,
            allowed: `at least ${c.node.heartbeatTtlMs}`,
          },
  },
  {
    paths: ["jetstream.streams.tx", "jetstream.streams.notify"],
    check: (c) =>
      c.jetstream.streams.tx !== c.jetstream.streams.notify
        ? undefined
        : {
            path: "jetstream.streams.notify",
            problem: `got ${JSON.stringify(c.jetstream.streams.notify)}, the same name as jetstream.streams.tx`,
            allowed: "a name different from jetstream.streams.tx",
          },
  },
  {
    paths: ["jetstream.streams.tx", "jetstream.streams.notify", "jetstream.streams.snapshots"],
    check: (c) =>
      c.jetstream.streams.snapshots !== c.jetstream.streams.tx && c.jetstream.streams.snapshots !== c.jetstream.streams.notify
        ? undefined
        : {
            path: "jetstream.streams.snapshots",
            problem: `got ${JSON.stringify(c.jetstream.streams.snapshots)}, the same name as another stream`,
            allowed: "a name different from jetstream.streams.tx and jetstream.streams.notify",
          },
  },
  {
    paths: ["jetstream.buckets.directory", "jetstream.buckets.nodes"],
    check: (c) =>
      c.jetstream.buckets.directory !== c.jetstream.buckets.nodes
        ? undefined
        : {
            path: "jetstream.buckets.nodes",
            problem: `got ${JSON.stringify(c.jetstream.buckets.nodes)}, the same KV bucket as jetstream.buckets.directory`,
            allowed: "a name different from jetstream.buckets.directory",
          },
  },
  {
    paths: ["jetstream.buckets.blobs", "jetstream.buckets.uploads"],
    // Uploads are deleted once delivered: sharing the blobs' store would delete bodies.
    check: (c) =>
      c.jetstream.buckets.blobs !== c.jetstream.buckets.uploads
        ? undefined
        : {
            path: "jetstream.buckets.uploads",
            problem: `got ${JSON.stringify(c.jetstream.buckets.uploads)}, the same object store as jetstream.buckets.blobs`,
            allowed: "a name different from jetstream.buckets.blobs",
          },
  },
];

/** Every problem of `value` as a configuration; empty when it is a valid `Config`. */
export function configProblems(value: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  walk(configSchema, value, "", out);
  const bad = (p: string): boolean => out.some((x) => x.path === p || x.path.startsWith(p + ".") || p.startsWith(x.path + ".") || x.path === "(root)");
  for (const rule of crossRules) {
    if (rule.paths.some(bad)) continue;
    const p = rule.check(value as Config);
    if (p) out.push({ ...p, related: rule.paths.filter((x) => x !== p.path) });
  }
  return out;
}

/** `value` as a `Config`, or a ConfigError (code CONFIG_INVALID) listing every problem. */
export function validateConfig(value: unknown): Config {
  const problems = configProblems(value);
  if (problems.length > 0) throw invalidConfig(problems);
  return value as Config;
}
