import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, configProblems, defaultConfig, envVariables, loadConfig, validateConfig, type Config, type ConfigProblem } from "../src/config/index.js";
import { configSchema, natsUrlProblem } from "../config/schema.js";
import { projectRoot } from "../src/paths.js";
import { tempDir } from "./helpers/processes.js";

/** The defaults with one key path changed (path like `jetstream.streams.tx`). */
function withValue(path: string, value: unknown): unknown {
  const c = defaultConfig() as unknown as Record<string, unknown>;
  const keys = path.split(".");
  let node = c;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
  return c;
}

function refused(run: () => unknown, code = "CONFIG_INVALID"): ConfigError {
  try {
    run();
  } catch (e) {
    assert.instance(e, ConfigError);
    const err = e as ConfigError;
    assert.is(err.code, code, err.message);
    return err;
  }
  assert.unreachable("expected a ConfigError");
  throw new Error("unreachable");
}

/** Whether the schema has a rule at `path` (`nats.tls.caFile`). */
function configSchemaHas(path: string): boolean {
  let node: { kind: string; fields?: Record<string, unknown> } | undefined = configSchema;
  for (const k of path.split(".")) node = node?.fields?.[k] as typeof node;
  return node !== undefined && node.kind === "leaf";
}

function only(problems: ConfigProblem[], path: string): ConfigProblem {
  assert.is(problems.length, 1, `expected one problem at ${path}, got ${JSON.stringify(problems)}`);
  assert.is(problems[0]!.path, path);
  return problems[0]!;
}

test("config - defaults are valid and loadConfig without file or env returns them", () => {
  const d = defaultConfig();
  assert.equal(configProblems(d), []);
  assert.is(validateConfig(d), d);
  assert.equal(loadConfig({ env: {} }), d);
  assert.equal(d.nats.servers, ["nats://127.0.0.1:4222"]);
  assert.is(d.jetstream.replicas, 1);
  assert.equal(d.jetstream.streams, { tx: "MR_TX", notify: "MR_NOTIFY", snapshots: "MR_SNAP" });
  assert.equal(d.snapshots, { everyEntries: 10_000, everyMs: 6 * 3600_000 });
  assert.equal(d.retention, { keepDays: 7, compactEveryMs: 600_000 });
  assert.equal(d.jetstream.buckets, { directory: "mr_directory", nodes: "mr_nodes", blobs: "mr_blobs", uploads: "mr_uploads" });
  assert.equal(d.limits, { maxMessageBytes: 25 * 1024 * 1024, maxAccountsPerRequest: 10_000, maxStatusAccounts: 10_000, maxConcurrentExpensive: 4 });
  assert.is(d.data.dir, join(projectRoot(), "var", "data"));
  assert.is(d.keys.dir, join(projectRoot(), "var", "keys"));
});

test("config - schema has a rule for every default key and only the documented optional extras", () => {
  const schemaPaths: string[] = [];
  const visit = (fields: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(fields)) {
      const r = v as { kind: string; fields?: Record<string, unknown> };
      if (r.kind === "group") visit(r.fields!, `${prefix}${k}.`);
      else schemaPaths.push(prefix + k);
    }
  };
  visit(configSchema.fields, "");
  const defaultPaths: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "object" && v !== null && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else defaultPaths.push(prefix + k);
    }
  };
  walk(defaultConfig() as unknown as Record<string, unknown>, "");
  const optional = schemaPaths.filter((p) => !defaultPaths.includes(p)).sort();
  assert.equal(optional, [
    "licence.devIssuerKeyFile",
    "licence.file",
    "metrics.listen",
    "nats.credsFile",
    "nats.inboxPrefix",
    "nats.name",
    "nats.nkeyFile",
    "nats.password",
    "nats.passwordFile",
    "nats.tls.caFile",
    "nats.tls.certFile",
    "nats.tls.keyFile",
    "nats.tokenFile",
    "nats.user",
    "supervisor.adminAccount",
  ]);
  assert.equal(
    defaultPaths.filter((p) => !schemaPaths.includes(p)),
    [],
  );
});

test("config - each kind of bad value is refused with its key path and the allowed values", () => {
  const cases: Array<[string, unknown, string]> = [
    ["jetstream.replicas", 2, "1 or 3"],
    ["jetstream.replicas", "3", "1 or 3"],
    ["jetstream.txMaxAgeDays", -1, "0 only"],
    ["jetstream.streams.tx", "MR.TX", "without whitespace, '.', '*', '>'"],
    ["jetstream.streams.notify", "MR*", "without whitespace"],
    ["jetstream.streams.tx", "MR>", "without whitespace"],
    ["jetstream.streams.tx", "MR TX", "without whitespace"],
    ["jetstream.streams.tx", "", "1 to 255 characters"],
    ["jetstream.buckets.blobs", "mr.blobs", "letters, digits, '_' or '-'"],
    ["jetstream.buckets.directory", "mr directory", "letters, digits"],
    ["node.heartbeatMs", 50, "an integer from 100 to 60000"],
    ["node.heartbeatMs", 1000.5, "an integer from 100 to 60000"],
    ["supervisor.autoFailover", "yes", "true or false"],
    ["supervisor.promotionThreads", 0, "an integer from 1 to 64"],
    ["supervisor.promoteBatchSize", 501, "an integer from 1 to 500"],
    ["supervisor.reconcileEveryMs", 500, "0 (off) or an integer from 1000 to 86400000"],
    ["supervisor.promoteTimeoutMs", 0, "an integer from 1000 to 600000"],
    ["supervisor.adminAccount", "*@example.com", "without wildcards"],
    ["supervisor.adminAccount", "admin", "an account address"],
    ["data.dir", "", "a non-empty file system path"],
    ["keys.dir", 7, "a non-empty file system path"],
    ["writes.maxBatch", 0, "an integer from 1 to 10000"],
    ["writes.askTimeoutMs", null, "an integer from 100"],
    ["licence.defaultQuota", -1, "an integer from 0"],
    ["limits.maxMessageBytes", 100, "an integer from 1024 to 536870912"],
    ["limits.maxMessageBytes", 1024 * 1024 * 1024, "an integer from 1024 to 536870912"],
    ["jetstream.buckets.uploads", "mr.uploads", "letters, digits, '_' or '-'"],
    ["licence.file", "", "a non-empty file system path"],
    ["licence.defaultQuota", 101, "an integer from 0 to 100 (the unlicensed quota); more accounts with replicas need a licence file (licence.file)"],
    ["nats.name", "", "printable"],
    ["nats.servers", [], "a non-empty list"],
    ["nats.servers", "nats://h:4222", "a non-empty list"],
  ];
  for (const [path, value, allowed] of cases) {
    const p = only(configProblems(withValue(path, value)), path);
    assert.ok(p.allowed.includes(allowed), `${path}=${JSON.stringify(value)}: allowed ${JSON.stringify(p.allowed)} lacks ${JSON.stringify(allowed)}`);
    const err = refused(() => validateConfig(withValue(path, value)));
    assert.ok(err.message.includes(`${path}: `) && err.message.includes(`allowed: ${p.allowed}`), err.message);
  }
});

test("config - limits.maxMessageBytes comes from MR_MAX_MESSAGE_BYTES; the upload store may not be the blob store", () => {
  assert.is(loadConfig({ env: { MR_MAX_MESSAGE_BYTES: "1048576" }, systemFile: null }).limits.maxMessageBytes, 1048576);
  const err = refused(() => loadConfig({ env: { MR_MAX_MESSAGE_BYTES: "10" }, systemFile: null }));
  assert.ok(err.message.includes("limits.maxMessageBytes") && err.message.includes("environment variable MR_MAX_MESSAGE_BYTES"), err.message);
  const same = only(configProblems(withValue("jetstream.buckets.uploads", "mr_blobs")), "jetstream.buckets.uploads");
  assert.ok(same.allowed.includes("different from jetstream.buckets.blobs"), same.allowed);
});

test("config - a maximum age of the account logs is refused with the reason (entries no snapshot covers would go); 0 is accepted", () => {
  assert.is(validateConfig(withValue("jetstream.txMaxAgeDays", 0)).jetstream.txMaxAgeDays, 0);
  assert.is(defaultConfig().jetstream.txMaxAgeDays, 0);
  const dir = tempDir("mr-config-age-");
  const file = join(dir, "mr.json");
  writeFileSync(file, JSON.stringify({ jetstream: { txMaxAgeDays: 1 } }));
  for (const run of [
    () => validateConfig(withValue("jetstream.txMaxAgeDays", 1)),
    () => loadConfig({ file, env: {} }),
    () => loadConfig({ env: {}, overrides: { jetstream: { txMaxAgeDays: 30 } } }),
  ]) {
    const err = refused(run);
    assert.equal(
      err.problems.map((p) => p.path),
      ["jetstream.txMaxAgeDays"],
    );
    for (const part of [
      "jetstream.txMaxAgeDays",
      "allowed: 0 only",
      "remove entries no snapshot covers",
      "could no longer be written or replicated",
      "retention.keepDays",
    ]) {
      assert.ok(err.message.includes(part), `${JSON.stringify(part)} missing from: ${err.message}`);
    }
  }
});

test("config - NATS URLs need nats:// or tls://, a host and a port, and no credentials", () => {
  assert.is(natsUrlProblem("nats://127.0.0.1:4222"), undefined);
  assert.is(natsUrlProblem("tls://[::1]:4443"), undefined);
  assert.is(natsUrlProblem("nats://nats1.example.com:4222/"), undefined);
  const bad: Array<[string, string]> = [
    ["http://h:4222", "scheme http"],
    ["nats://h", "no port"],
    ["nats://h:0", "no port"],
    ["nats://:4222", "not a URL"],
    ["h:4222", "scheme h"],
    ["nats://user:pw@h:4222", "credentials"],
    ["nats://token@h:4222", "credentials"],
    ["nats://h:4222/x", "path"],
    ["nats://h:4222?a=1", "query"],
  ];
  for (const [url, why] of bad) {
    const p = only(configProblems(withValue("nats.servers", ["nats://ok:4222", url])), "nats.servers[1]");
    assert.ok(p.problem.includes(why), `${url}: ${p.problem}`);
    assert.ok(p.allowed.startsWith("nats://host:port or tls://host:port"), p.allowed);
  }
  const dup = only(configProblems(withValue("nats.servers", ["nats://a:1", "nats://a:1"])), "nats.servers[1]");
  assert.ok(dup.problem.includes("listed twice"), dup.problem);
});

test("config - unknown keys are refused at every level, naming the allowed keys", () => {
  const top = only(configProblems({ ...defaultConfig(), jetstrem: { replicas: 3 } }), "jetstrem");
  assert.is(top.problem, "unknown key");
  assert.ok(top.allowed.includes("nats, jetstream, data, keys, node, supervisor, writes, licence"), top.allowed);
  const nested = only(configProblems(withValue("jetstream.replica", 3)), "jetstream.replica");
  assert.ok(nested.allowed.includes("keys of jetstream: replicas, streams, buckets, txMaxAgeDays"), nested.allowed);
  const deep = only(configProblems(withValue("jetstream.streams.txx", "X")), "jetstream.streams.txx");
  assert.is(deep.problem, "unknown key");
  const notObject = only(configProblems(withValue("node", 5)), "node");
  assert.ok(notObject.allowed.includes("heartbeatMs, heartbeatTtlMs"), notObject.allowed);
  assert.is(only(configProblems([]), "(root)").problem, "got an array");
});

test("config - all problems are reported together in one error", () => {
  const c = withValue("jetstream.replicas", 2) as Config;
  (c as unknown as { extra: number }).extra = 1;
  c.writes.maxBatch = -5;
  c.nats.servers = ["ftp://x:1"];
  const err = refused(() => validateConfig(c));
  assert.equal(err.problems.map((p) => p.path).sort(), ["extra", "jetstream.replicas", "nats.servers[0]", "writes.maxBatch"]);
  assert.ok(err.message.startsWith("invalid configuration (4 problems):"), err.message);
  assert.ok(err.message.includes("mailreplica config check"), err.message);
});

test("config - rules between keys: heartbeat TTL, failover delay, distinct asset names", () => {
  const ttl = only(configProblems(withValue("node.heartbeatTtlMs", 1500)), "node.heartbeatTtlMs");
  assert.is(ttl.allowed, "at least 2000");
  const c = defaultConfig();
  c.supervisor.failoverAfterMs = 4000;
  assert.is(only(configProblems(c), "supervisor.failoverAfterMs").allowed, "at least 5000");
  assert.ok(only(configProblems(withValue("jetstream.streams.notify", "MR_TX")), "jetstream.streams.notify").allowed.includes("different"));
  assert.ok(only(configProblems(withValue("jetstream.buckets.nodes", "mr_directory")), "jetstream.buckets.nodes").allowed.includes("different"));
  // A rule between keys stays silent when one of them is already wrong on its own.
  assert.equal(
    configProblems(withValue("node.heartbeatMs", "fast")).map((p) => p.path),
    ["node.heartbeatMs"],
  );
});

test("config - environment variables override the defaults", () => {
  const cwd = tempDir("mr-config-env-");
  const c = loadConfig({
    cwd,
    env: {
      MR_SERVERS: "nats://a.example.com:4222, tls://b.example.com:4443",
      MR_JS_REPLICAS: "3",
      MR_DATA_DIR: "data",
      MR_KEYS_DIR: "/srv/keys",
      MR_HEARTBEAT_MS: "500",
      MR_LEASE_TTL_MS: "8000",
      MR_AUTO_FAILOVER: "TRUE",
      MR_FAILOVER_AFTER_MS: "30000",
      MR_ADMIN_ACCOUNT: "admin@example.com",
      MR_LICENCE_FILE: "/etc/mr/licence.json",
      MR_DEBUG: "1",
    },
  });
  assert.equal(c.nats.servers, ["nats://a.example.com:4222", "tls://b.example.com:4443"]);
  assert.is(c.jetstream.replicas, 3);
  assert.is(c.data.dir, join(cwd, "data"));
  assert.is(c.keys.dir, "/srv/keys");
  assert.is(c.node.heartbeatMs, 500);
  assert.is(c.supervisor.leaseTtlMs, 8000);
  assert.is(c.supervisor.autoFailover, true);
  assert.is(c.supervisor.failoverAfterMs, 30_000);
  assert.is(c.supervisor.adminAccount, "admin@example.com");
  assert.is(c.licence.file, "/etc/mr/licence.json");
  // An empty variable counts as unset.
  assert.equal(loadConfig({ env: { MR_JS_REPLICAS: "", MR_SERVERS: " " } }), defaultConfig());
});

test("config - bad environment values name the variable and the allowed values, all at once", () => {
  const one = refused(() => loadConfig({ env: { MR_JS_REPLICAS: "2" } }));
  assert.ok(one.message.includes("jetstream.replicas (from environment variable MR_JS_REPLICAS): got 2; allowed: 1 or 3"), one.message);
  const err = refused(() =>
    loadConfig({ env: { MR_AUTO_FAILOVER: "maybe", MR_HEARTBEAT_MS: "fast", MR_SERVERS: "nats://a:1,,nats://b:2", MR_LEASE_TTL_MS: "10" } }),
  );
  const byPath = new Map(err.problems.map((p) => [p.path, p]));
  assert.equal([...byPath.keys()].sort(), ["nats.servers", "node.heartbeatMs", "supervisor.autoFailover", "supervisor.leaseTtlMs"]);
  assert.is(byPath.get("supervisor.autoFailover")!.allowed, "true or false");
  assert.ok(byPath.get("node.heartbeatMs")!.problem.includes("not an integer"));
  assert.ok(byPath.get("nats.servers")!.problem.includes("empty entry"));
  for (const v of ["MR_AUTO_FAILOVER", "MR_HEARTBEAT_MS", "MR_SERVERS", "MR_LEASE_TTL_MS"])
    assert.ok(err.message.includes(`environment variable ${v}`), `${v} missing in: ${err.message}`);
  // A value fine alone but wrong against another key names the variable that set it.
  const rel = refused(() => loadConfig({ env: { MR_HEARTBEAT_MS: "3000" } }));
  assert.ok(rel.message.includes("node.heartbeatTtlMs (from environment variable MR_HEARTBEAT_MS)"), rel.message);
});

test("config - envVariables documents every variable with its key and values", () => {
  const vars = envVariables();
  const names = vars.map((v) => v.name);
  for (const n of [
    "MR_SERVERS",
    "MR_JS_REPLICAS",
    "MR_DATA_DIR",
    "MR_KEYS_DIR",
    "MR_HEARTBEAT_MS",
    "MR_LEASE_TTL_MS",
    "MR_AUTO_FAILOVER",
    "MR_FAILOVER_AFTER_MS",
    "MR_ADMIN_ACCOUNT",
    "MR_LICENCE_FILE",
    "MR_CONFIG",
  ]) {
    assert.ok(names.includes(n), `${n} is not documented`);
  }
  const d = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const optional = ["supervisor.adminAccount", "licence.file", "licence.devIssuerKeyFile", "metrics.listen"];
  for (const v of vars) {
    assert.ok(v.description.length > 10 && v.values.length > 0, v.name);
    if (v.key === undefined) continue;
    const [group, field] = v.key.split(".") as [string, string];
    // The NATS credentials are optional keys of the schema (no default).
    const known = field in d[group]! || optional.includes(v.key) || (group === "nats" && configSchemaHas(v.key));
    assert.ok(known, `${v.name} points at unknown key ${v.key}`);
  }
});

test("config - a JSON file sits between defaults and environment, relative paths are relative to the file", () => {
  const dir = tempDir("mr-config-file-");
  mkdirSync(join(dir, "etc"));
  const file = join(dir, "etc", "mr.json");
  writeFileSync(
    file,
    JSON.stringify({ jetstream: { replicas: 3, txMaxAgeDays: 0 }, data: { dir: "../data" }, nats: { servers: ["nats://f:4222"], name: "ms1" } }),
  );
  const c = loadConfig({ file, env: {} });
  assert.is(c.jetstream.replicas, 3);
  assert.is(c.jetstream.txMaxAgeDays, 0);
  assert.is(c.jetstream.streams.tx, "MR_TX", "keys absent from the file keep their defaults");
  assert.is(c.data.dir, join(dir, "data"));
  assert.is(c.nats.name, "ms1");
  // MR_CONFIG names the file when no file option is given; the option wins over it.
  assert.is(loadConfig({ env: { MR_CONFIG: "etc/mr.json" }, cwd: dir }).jetstream.replicas, 3);
  const other = join(dir, "other.json");
  writeFileSync(other, "{}");
  assert.is(loadConfig({ file: other, env: { MR_CONFIG: file } }).jetstream.replicas, 1);
  // Order: file < environment < overrides.
  const layered = loadConfig({
    file,
    env: { MR_SERVERS: "nats://e:4222", MR_JS_REPLICAS: "1" },
    overrides: { jetstream: { replicas: 3 }, writes: { maxBatch: undefined } },
  });
  assert.equal(layered.nats.servers, ["nats://e:4222"]);
  assert.is(layered.jetstream.replicas, 3);
  assert.is(layered.writes.maxBatch, 512, "an undefined override changes nothing");
});

test("config - a missing, unreadable or non-JSON file is a ConfigError naming the file", () => {
  const dir = tempDir("mr-config-bad-");
  const missing = join(dir, "missing.json");
  const m = refused(() => loadConfig({ file: missing, env: {} }), "CONFIG_FILE_UNREADABLE");
  assert.ok(m.message.includes(missing) && m.message.includes("does not exist"), m.message);
  const viaEnv = refused(() => loadConfig({ env: { MR_CONFIG: missing } }), "CONFIG_FILE_UNREADABLE");
  assert.ok(viaEnv.message.includes("MR_CONFIG"), viaEnv.message);
  const folder = refused(() => loadConfig({ file: dir, env: {} }), "CONFIG_FILE_UNREADABLE");
  assert.ok(folder.message.includes("is a folder"), folder.message);
  const broken = join(dir, "broken.json");
  writeFileSync(broken, '{"nats": {');
  const b = refused(() => loadConfig({ file: broken, env: {} }), "CONFIG_FILE_NOT_JSON");
  assert.ok(b.message.includes(broken) && b.message.includes("not valid JSON"), b.message);
  const list = join(dir, "list.json");
  writeFileSync(list, "[1]");
  assert.ok(refused(() => loadConfig({ file: list, env: {} }), "CONFIG_FILE_NOT_JSON").message.includes("not a JSON object"));
  const wrong = join(dir, "wrong.json");
  writeFileSync(wrong, JSON.stringify({ jetstream: { replicas: 2 }, node: { heartbeatMS: 10 } }));
  const w = refused(() => loadConfig({ file: wrong, env: {} }));
  assert.ok(w.message.includes(`jetstream.replicas (from config file ${wrong}): got 2; allowed: 1 or 3`), w.message);
  assert.ok(w.message.includes(`node.heartbeatMS (from config file ${wrong}): unknown key`), w.message);
});

test("config - overrides are validated and named as command-line options", () => {
  const err = refused(() => loadConfig({ env: {}, overrides: { nats: { servers: ["nats://x"] } } }));
  assert.ok(err.message.includes("nats.servers[0] (from command-line option)"), err.message);
});

test.run();
