// The effective configuration: defaults, then a JSON file, then MR_* variables, then
// explicit overrides, then validation. Each value remembers where it came from, so an
// error says which file, variable or option to fix.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { defaultConfig } from "../../config/defaults.js";
import { INSTALLED_DATA_DIR, SYSTEM_CONFIG_FILE } from "../paths.js";
import { configProblems } from "../../config/schema.js";
import { readEnv } from "./env.js";
import { ConfigError, invalidConfig } from "./errors.js";
import type { Config, ConfigProblem, LoadConfigOptions } from "./types.js";
import { fileReadProblem } from "../text/file_read_problem.js";

/** Keys holding paths; relative ones are resolved against the file's folder or the cwd. */
const PATH_KEYS = [
  "data.dir",
  "keys.dir",
  "licence.file",
  "licence.devIssuerKeyFile",
  "nats.credsFile",
  "nats.nkeyFile",
  "nats.passwordFile",
  "nats.tokenFile",
  "nats.tls.caFile",
  "nats.tls.certFile",
  "nats.tls.keyFile",
] as const;

/**
 * `c` as `config show` prints it: the password (from the environment) replaced by `(set)`;
 * file paths stay, their content is never read here.
 */
export function shownConfig(c: Config): Config {
  if (c.nats.password === undefined) return c;
  return { ...c, nats: { ...c.nats, password: "(set)" } };
}

/** The options `loadConfig` uses for what is not given. */
export function defaultLoadConfigOptions(): Required<Omit<LoadConfigOptions, "file" | "overrides" | "systemFile">> {
  return { env: process.env, cwd: process.cwd() };
}

type Tree = Record<string, unknown>;

function isPlainObject(v: unknown): v is Tree {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function getPath(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split(".")) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Sets `path` in `tree`, creating groups; gives up where a group is not an object (the schema reports that). */
function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split(".");
  let node: Tree = tree;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    const next = node[key];
    if (!isPlainObject(next)) return;
    node = next;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Leaf key paths of `tree` (arrays are leaves). */
function leafPaths(tree: Tree, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(tree)) {
    if (v === undefined) continue;
    const p = prefix === "" ? k : `${prefix}.${k}`;
    if (isPlainObject(v) && Object.keys(v).length > 0) out.push(...leafPaths(v, p));
    else out.push(p);
  }
  return out;
}

/** Deep merge of `layer` into `target`: objects merge, everything else (arrays too) replaces; undefined is skipped. */
function merge(target: Tree, layer: Tree): void {
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue;
    const cur = target[k];
    if (isPlainObject(v) && isPlainObject(cur)) merge(cur, v);
    else target[k] = isPlainObject(v) ? structuredClone(v) : v;
  }
}

function resolvePaths(layer: Tree, base: string): void {
  for (const key of PATH_KEYS) {
    const v = getPath(layer, key);
    if (typeof v === "string" && v.trim() !== "" && !isAbsolute(v)) setPath(layer, key, resolve(base, v));
  }
}

const NAMED_FILE_FIX = "give a readable JSON file with --config FILE or MR_CONFIG, or set neither to use the defaults";
const SYSTEM_FILE_FIX =
  "fix or remove it (check with 'mailreplica config check'), name another file with --config FILE or MR_CONFIG, or set MR_SYSTEM_CONFIG=none to ignore it";

function readConfigFile(file: string, label: string, fix = NAMED_FILE_FIX): Tree {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("CONFIG_FILE_UNREADABLE", `${label} ${fileReadProblem(file, e)}; ${fix}`, [], { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const hint =
      fix === SYSTEM_FILE_FIX
        ? `fix the syntax (check with 'mailreplica config check') or set MR_SYSTEM_CONFIG=none to ignore it`
        : "fix the syntax, then check with 'mailreplica config check'";
    throw new ConfigError("CONFIG_FILE_NOT_JSON", `${label} ${file} is not valid JSON (${(e as Error).message}); ${hint}`, [], { cause: e });
  }
  if (!isPlainObject(value)) {
    throw new ConfigError(
      "CONFIG_FILE_NOT_JSON",
      `${label} ${file} holds ${Array.isArray(value) ? "an array" : JSON.stringify(value)}, not a JSON object; write an object such as {"nats": {"servers": ["nats://127.0.0.1:4222"]}}`,
    );
  }
  return value;
}

/** Where the value at `path` (`nats.servers[1]`, or a group such as `jetstrem`) came from. */
function sourceOf(sources: Map<string, string>, path: string): string | undefined {
  const p = path.replace(/\[\d+\]$/, "");
  const exact = sources.get(p);
  if (exact) return exact;
  for (let cut = p.lastIndexOf("."); cut > 0; cut = p.lastIndexOf(".", cut - 1)) {
    const s = sources.get(p.slice(0, cut));
    if (s) return s;
  }
  for (const [k, s] of sources) if (k.startsWith(p + ".")) return s;
  return undefined;
}

/**
 * The system config file these options point at, whether or not it exists: `opts.systemFile`,
 * else MR_SYSTEM_CONFIG, else /etc/mailreplica/config.json; undefined when turned off
 * (`systemFile: null` or MR_SYSTEM_CONFIG=none).
 */
export function systemConfigFile(opts: LoadConfigOptions = {}): string | undefined {
  if (opts.systemFile === null) return undefined;
  if (opts.systemFile !== undefined) return resolve(opts.cwd ?? process.cwd(), opts.systemFile);
  const fromEnv = (opts.env ?? process.env).MR_SYSTEM_CONFIG?.trim();
  if (fromEnv === "none") return undefined;
  return fromEnv ? resolve(opts.cwd ?? process.cwd(), fromEnv) : SYSTEM_CONFIG_FILE;
}

/** The config file `loadConfig` reads for these options: --config, else MR_CONFIG, else the system file when it exists. */
export function configFileInUse(opts: LoadConfigOptions = {}): string | undefined {
  const cwd = opts.cwd ?? process.cwd();
  const named = opts.file ?? ((opts.env ?? process.env).MR_CONFIG?.trim() || undefined);
  if (named !== undefined) return resolve(cwd, named);
  const system = systemConfigFile(opts);
  return system !== undefined && existsSync(system) ? system : undefined;
}

/**
 * The effective configuration: defaults < config file (`opts.file`, else MR_CONFIG, else the
 * system file) <
 * MR_* variables < `opts.overrides`, validated. Throws ConfigError: CONFIG_FILE_UNREADABLE
 * or CONFIG_FILE_NOT_JSON for the file, CONFIG_INVALID listing every wrong value.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const defaults = defaultLoadConfigOptions();
  const env = opts.env ?? defaults.env;
  const cwd = opts.cwd ?? defaults.cwd;
  const tree = defaultConfig() as unknown as Tree;
  const sources = new Map<string, string>();
  const fromEnv = readEnv(env);

  // An installed mailreplica is one whose system config file exists: its data and keys then
  // default to the system's places instead of the checkout's var/ (which `npm start` uses).
  const systemFile = systemConfigFile({ ...opts, env, cwd });
  const installed = systemFile !== undefined && existsSync(systemFile);
  if (installed) {
    setPath(tree, "data.dir", INSTALLED_DATA_DIR);
    setPath(tree, "keys.dir", join(dirname(systemFile), "keys"));
  }

  let filePassword: string | undefined;
  const fileArg = opts.file ?? fromEnv.configFile;
  if (fileArg !== undefined || installed) {
    const file = fileArg !== undefined ? resolve(cwd, fileArg) : systemFile!;
    const label =
      opts.file !== undefined
        ? "config file"
        : fileArg !== undefined
          ? "config file (MR_CONFIG)"
          : fromEnv.systemFile !== undefined && opts.systemFile === undefined
            ? "system config file (MR_SYSTEM_CONFIG)"
            : "system config file";
    const layer = fileArg !== undefined ? readConfigFile(file, label) : readConfigFile(file, label, SYSTEM_FILE_FIX);
    // Paths in a file are relative to the file, so a config folder can be moved whole.
    resolvePaths(layer, dirname(file));
    // A password in a file ends up in backups, copies and `config show`: refused, and the
    // value is dropped here so no later message can print it.
    if (getPath(layer, "nats.password") !== undefined) {
      filePassword = file;
      delete (layer.nats as Tree).password;
    }
    merge(tree, layer);
    for (const p of leafPaths(layer)) sources.set(p, `config file ${file}`);
  }

  for (const [key, { value, variable }] of fromEnv.values) {
    const isRelativePath = (PATH_KEYS as readonly string[]).includes(key) && typeof value === "string" && !isAbsolute(value);
    setPath(tree, key, isRelativePath ? resolve(cwd, value) : value);
    sources.set(key, `environment variable ${variable}`);
  }

  if (opts.overrides) {
    const layer = structuredClone(opts.overrides) as Tree;
    resolvePaths(layer, cwd);
    merge(tree, layer);
    for (const p of leafPaths(layer)) sources.set(p, "command-line option");
  }

  const problems: ConfigProblem[] = [...fromEnv.problems];
  if (filePassword !== undefined) {
    problems.push({
      path: "nats.password",
      problem: "a password in a config file is refused (files are copied, backed up and shown)",
      allowed: "the password in MR_NATS_PASSWORD (or NATS_PASSWORD), or in a file named by nats.passwordFile (MR_NATS_PASSWORD_FILE)",
      source: `config file ${filePassword}`,
    });
  }
  for (const p of configProblems(tree)) {
    const found = [p.path, ...(p.related ?? [])].map((x) => sourceOf(sources, x)).filter((x): x is string => x !== undefined);
    const source = [...new Set(found)].join(", ");
    problems.push(source ? { ...p, source } : p);
  }
  if (problems.length > 0) throw invalidConfig(problems);
  return tree as unknown as Config;
}
