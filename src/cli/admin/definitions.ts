// The admin commands, one definition each, with Carbonio's syntax (carbonio-reference.md
// section 5) and docs/jsonrpc.md's params. The CLI and the REPL both use these.
import { formatParamsHelp, parseCarbonioParams, usageOfParams } from "../args.js";
import { CliUsageError } from "../errors.js";
import { accountsFromParams } from "../input_file.js";
import type { ParamsSpec, ParamSpec } from "../types.js";
import { formatAccountStatus, formatMonitor, formatOperationStart, formatServices, formatValue, formatVerify } from "./format.js";
import type { AdminCommandDef, RpcParams } from "./types.js";
import { ADMIN_METHODS as CONTRACTS, type AdminMethodName } from "../../protocol/admin_params.js";
import { adminParam, type CliParamText } from "./server_params.js";

/**
 * The params of admin command `method`, in Carbonio's order (mandatory ones are positional):
 * each from the server's spec of the same name (type, mandatory, bounds, allowed values),
 * with the CLI's words; `input_file` is the CLI's own (read, and sent as accounts).
 */
function paramsOf(method: AdminMethodName, texts: readonly (readonly [string, CliParamText] | typeof INPUT_FILE)[]): ParamsSpec {
  return texts.map((t) =>
    t === INPUT_FILE ? t : adminParam(method, CONTRACTS[method], (t as readonly [string, CliParamText])[0], (t as readonly [string, CliParamText])[1]),
  );
}

/** The one param the CLI reads itself: the server never sees it (it gets `accounts`). */
export const INPUT_FILE: ParamSpec = { name: "input_file", type: "string", expected: "File", description: "file with one account per line (sent as accounts)" };
const HOST = "Server Hostname/ID";
const accounts = (description = "accounts, comma separated", givenBy?: string) =>
  ["accounts", { expected: "Account Name/ID[,..]", description, ...(givenBy !== undefined ? { givenBy } : {}) }] as const;
const destinationM = ["destination", { expected: HOST, description: "FQDN of the destination mailstore" }] as const;

/** Wildcards are refused by the server too; saying so here avoids a round trip and names the account. */
function refuseWildcards(accounts: readonly string[] | undefined): void {
  const bad = accounts?.find((a) => /[*?]/.test(a));
  if (bad !== undefined)
    throw new CliUsageError(`account '${bad}' holds a wildcard (* or ?), which is not supported; name each account, or list them in an input_file`);
}

/** Params of a parsed command line as sent: undefined ones dropped, input_file read into accounts. */
function rpcParamsOf(values: Record<string, unknown>, cwd: string): RpcParams {
  const out: RpcParams = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && k !== "input_file") out[k] = v;
  if ("input_file" in values || "accounts" in values) {
    const accounts = accountsFromParams({ accounts: values.accounts as string[] | undefined, input_file: values.input_file as string | undefined }, cwd);
    refuseWildcards(accounts);
    if (accounts !== undefined) out.accounts = accounts;
    else delete out.accounts;
  }
  return out;
}

interface DefInput {
  name: AdminMethodName;
  /** default: the method's summary in its contract (src/protocol/admin_params.ts) */
  summary?: string;
  params: ParamsSpec;
  notes?: string[];
  examples: string[];
  usage?: string;
  /** Checks between params once parsed (both given, one missing). */
  check?: (p: RpcParams) => void;
  /** Words that mean a bare positional list (getAccountStatus, test), turned into `name value` words. */
  bare?: (words: readonly string[]) => string[];
  format?: (result: unknown, prefix: string) => string[];
  waits?: boolean;
  exitCode?: (result: unknown) => number;
  callTimeoutMs?: number;
}

function define(d: DefInput): AdminCommandDef {
  return {
    name: d.name,
    summary: d.summary ?? CONTRACTS[d.name].summary,
    params: d.params,
    usage: d.usage ?? usageOfParams("", d.params).trim(),
    notes: d.notes ?? [],
    examples: d.examples,
    toParams(words, cwd) {
      const normal = d.bare ? d.bare(words) : [...words];
      const p = rpcParamsOf(parseCarbonioParams(normal, d.params) as Record<string, unknown>, cwd);
      d.check?.(p);
      return p;
    },
    format: d.format ?? ((result, prefix) => formatOperationStart(result, prefix)),
    ...(d.waits ? { waits: true } : {}),
    ...(d.exitCode ? { exitCode: d.exitCode } : {}),
    ...(d.callTimeoutMs !== undefined ? { callTimeoutMs: d.callTimeoutMs } : {}),
  };
}

/** `cmd X ...` where X is not a param name means `cmd <listParam> X ...` (Carbonio's positional examples). */
function barePositional(listParam: string, params: ParamsSpec, allWord?: string): (words: readonly string[]) => string[] {
  const names = params.map((p) => p.name);
  return (words) => {
    const first = words[0];
    if (first === undefined || names.includes(first)) return [...words];
    if (allWord !== undefined && first === allWord) return words.slice(1);
    return [listParam, first, ...words.slice(1)];
  };
}

// ---------------------------------------------------------------- the commands

const setAccountDestination = define({
  name: "setAccountDestination",
  params: paramsOf("setAccountDestination", [
    destinationM,
    ["priority", { description: "lower is promoted first (10 before 20)" }],
    accounts(undefined, "input_file"),
    INPUT_FILE,
    ["delay", { expected: "Seconds", description: "lagged replica: applies an entry only once it is this old (0: not lagged)" }],
  ]),
  notes: [
    "Give the accounts as 'accounts a,b' or 'input_file FILE'. Runs as an operation; the Global Admin is notified when it ends.",
    "With 'delay SECONDS' the replica is lagged: it stays that far behind, and promoteAccounts uses it only when named as destination (then drained to the head first). Without delay an existing replica keeps its delay; 'delay 0' ends it.",
  ],
  examples: [
    "mailstore2.example.com 10 accounts u0@example.com,u1@example.com",
    "mailstore3.example.com 20 input_file /tmp/accounts_for_replica",
    "mailstore4.example.com 90 accounts u0@example.com delay 86400",
  ],
  check: (p) => {
    if (p.accounts === undefined)
      throw new CliUsageError("setAccountDestination needs the accounts to replicate: 'accounts a@x.com,b@x.com' or 'input_file FILE'");
  },
});

const STATUS_PARAMS: ParamsSpec = paramsOf("getAccountStatus", [
  ["mailHost", { expected: `${HOST}[,..]`, description: "accounts whose primary is on these mailstores" }],
  ["replicaServer", { expected: `${HOST}[,..]`, description: "accounts replicated onto these mailstores" }],
  accounts(),
  ["domains", { expected: "String[,..]", description: "replicated accounts of these domains" }],
  ["accountStatus", { description: "replication active or paused on the source" }],
  ["replicaStatus", { description: "replica available or not on the destination" }],
]);

const getAccountStatus = define({
  name: "getAccountStatus",
  params: STATUS_PARAMS,
  usage: `[all | ACCOUNT[,ACCOUNT]] ${usageOfParams("", STATUS_PARAMS).trim()}`,
  notes: ["Without filters (or with 'all') every replicated account is listed. A bare list of accounts is the same as 'accounts LIST'."],
  examples: ["all", "u0@example.com,u1@example.com", "mailHost mailstore1.example.com replicaStatus unavailable"],
  bare: barePositional("accounts", STATUS_PARAMS, "all"),
  format: (result) => formatAccountStatus(result),
});

const promoteAccounts = define({
  name: "promoteAccounts",
  params: paramsOf("promoteAccounts", [
    accounts("accounts to promote (default: all)"),
    INPUT_FILE,
    ["source_mail_host", { expected: HOST, description: "promote every account whose primary is this mailstore" }],
    ["destination", { expected: HOST, description: "promote to this replica instead of the priority order" }],
    [
      "threads",
      { description: "batches of accounts promoted in parallel (default 4, config supervisor.promotionThreads; batch size supervisor.promoteBatchSize, 200)" },
    ],
  ]),
  notes: [
    "Waits for the promotion to end, prints the promoted and failed accounts, and exits 0 when all were promoted, 1 when any failed (2 stopped, 3 removed, 4 interrupted).",
  ],
  examples: ["accounts alice.doe@example.com,bob.doe@example.com", "input_file /tmp/accounts", "source_mail_host mailstore1.example.com threads 8"],
  waits: true,
  check: (p) => {
    if (p.source_mail_host !== undefined && p.accounts !== undefined) {
      throw new CliUsageError("give either the accounts ('accounts LIST' or 'input_file FILE') or 'source_mail_host HOST', not both");
    }
  },
});

const removeAccountDestination = define({
  name: "removeAccountDestination",
  params: paramsOf("removeAccountDestination", [destinationM, accounts("accounts (default: every account replicated there)"), INPUT_FILE]),
  examples: ["mailstore2.example.com accounts u0@example.com,u1@example.com"],
});

const replicaFilter = (method: "pauseReplicas" | "restartReplicas"): ParamsSpec =>
  paramsOf(method, [
    accounts("accounts whose replicas change (default: all)"),
    INPUT_FILE,
    ["destination", { expected: HOST, description: "only the replicas on this mailstore" }],
  ]);

const pauseReplicas = define({
  name: "pauseReplicas",
  params: replicaFilter("pauseReplicas"),
  examples: ["accounts u0@example.com,u1@example.com"],
});

const restartReplicas = define({
  name: "restartReplicas",
  params: replicaFilter("restartReplicas"),
  examples: ["accounts u0@example.com,u1@example.com", "destination mailstore2.example.com"],
});

const monitor = define({
  name: "monitor",
  params: paramsOf("monitor", [
    ["operation_uuid", { type: "uuid", description: "the operationId a command returned" }],
    ["operation_host", { expected: HOST, description: "the supervisor that runs it (any supervisor answers)" }],
  ]),
  notes: ["With --sync (or --progress) it waits until the operation ends and exits with its code."],
  examples: ["123e4567-e89b-12d3-a456-426614174000"],
  format: (result) => formatMonitor(result),
});

const getLicenseInfo = define({
  name: "getLicenseInfo",
  params: paramsOf("getLicenseInfo", []),
  examples: [""],
  format: (result) => formatValue(result),
});

const getServices = define({
  name: "getServices",
  params: paramsOf("getServices", []),
  examples: [""],
  format: (result) => formatServices(result),
});

const getAllAccounts = define({
  name: "getAllAccounts",
  params: paramsOf("getAllAccounts", [
    ["prefix", { expected: "String", description: "only names starting with this (any case)" }],
    ["limit", { description: "most names returned, 1..1000 (default 100)" }],
  ]),
  examples: ["", "prefix john limit 20"],
  format: (result) => formatValue(result),
});

const VERIFY_PARAMS: ParamsSpec = paramsOf("verifyReplicas", [
  accounts("accounts to verify (default: every account with a replica)"),
  INPUT_FILE,
  ["replicaServer", { expected: HOST, description: "only accounts with a replica on this mailstore, and only that replica" }],
]);

const verifyReplicas = define({
  name: "verifyReplicas",
  params: VERIFY_PARAMS,
  usage: `[all | ACCOUNT[,ACCOUNT]] ${usageOfParams("", VERIFY_PARAMS).trim()}`,
  notes: [
    "Each copy (the primary and every replica) digests the account's folders, items (folder, flags, tags, headers, blob) and tags at the same log sequence; a replica that differs is shown with the first differing row and both values.",
    "A copy that is down, paused, unavailable or still catching up is shown UNVERIFIED with the reason; run again when it is back. While writes continue a replica may be UNVERIFIED too: run again when the account is quiet.",
    "Exits 0 when every replica compared equal, 1 when any differs or could not be verified.",
  ],
  examples: ["", "accounts u0@example.com,u1@example.com", "input_file /tmp/accounts", "replicaServer mailstore2.example.com"],
  bare: barePositional("accounts", VERIFY_PARAMS, "all"),
  format: (result) => formatVerify(result),
  exitCode: (result) => {
    const r = result as { different?: unknown; unverified?: unknown } | null;
    return r?.different === 0 && r?.unverified === 0 ? 0 : 1;
  },
  // The supervisor answers after every copy was compared: up to a few seconds per lagging copy.
  callTimeoutMs: 600_000,
});

const SNAPSHOT_PARAMS: ParamsSpec = paramsOf("snapshotAccounts", [
  accounts("accounts to snapshot (default: every account)"),
  INPUT_FILE,
  ["compact", { expected: "true|false", description: "also compact each account's log now, as retention.keepDays allows" }],
]);

const snapshotAccounts = define({
  name: "snapshotAccounts",
  params: SNAPSHOT_PARAMS,
  usage: `[all | ACCOUNT[,ACCOUNT]] ${usageOfParams("", SNAPSHOT_PARAMS).trim()}`,
  notes: [
    "Each account's primary stores a snapshot of its whole state now; new and re-seeded replicas load it, then apply only the entries after it.",
    "Primaries also snapshot by themselves (config snapshots.everyEntries, snapshots.everyMs), and the supervisor compacts by itself (retention.compactEveryMs).",
    "Exits 1 when any account could not be snapshotted (its entry says why).",
  ],
  examples: ["", "accounts u0@example.com,u1@example.com", "all compact true"],
  bare: barePositional("accounts", SNAPSHOT_PARAMS, "all"),
  format: (result) => formatValue(result),
  exitCode: (result) => ((result as { failed?: unknown } | null)?.failed === 0 ? 0 : 1),
  callTimeoutMs: 600_000,
});

const RESTORE_PARAMS: ParamsSpec = paramsOf("restoreAccount", [
  ["account", { expected: "Account Name/ID", description: "the account to restore" }],
  ["into", { expected: "Account Name", description: "the new account that receives the restored state (must not exist); also given positionally" }],
  ["seq", { description: "the state after this log sequence (getAccountStatus shows the current one)" }],
  ["at", { expected: "ISO time", description: "the state as of this time, e.g. 2026-11-30T08:00:00Z" }],
  ["overwrite", { expected: "true|false", description: "restore over the account itself: the difference is written into its log as new entries" }],
]);

const restoreAccount = define({
  name: "restoreAccount",
  params: RESTORE_PARAMS,
  usage: "ACCOUNT NEW_ACCOUNT (seq N | at ISO_TIME)  |  ACCOUNT (seq N | at ISO_TIME) overwrite true",
  notes: [
    "Give exactly one of seq and at. Without overwrite the original is not changed: its state as of then is written into the new account, on the same primary, item ids and folders as they were.",
    "With 'overwrite true' (and no NEW_ACCOUNT) the account itself is restored: items and folders it has now but not then are deleted, those it had then are re-created with their ids, moved back and given back their flags; all as new entries of its log, which replicas follow. The log is never rewritten, so a later restore can go back to any point before.",
    "History reaches back retention.keepDays (default 7): the snapshot at or before the point and the log after it are kept that long.",
  ],
  examples: [
    "john@example.com john.restored@example.com at 2026-11-30T08:00:00Z",
    "john@example.com john.before@example.com seq 4812",
    "john@example.com at 2026-11-30T08:00:00Z overwrite true",
  ],
  // `restoreAccount ACCOUNT NEW_ACCOUNT ...`: the second word, when not a param name, is into.
  bare: (words) => (words.length >= 2 && !RESTORE_PARAMS.some((p) => p.name === words[1]) ? [words[0]!, "into", ...words.slice(1)] : [...words]),
  check: (p) => {
    if (p.into === undefined && p.overwrite !== true) {
      throw new CliUsageError("restoreAccount needs NEW_ACCOUNT (restore into a new account) or 'overwrite true' (restore over the account itself)");
    }
  },
  format: (result) => formatValue(result),
  callTimeoutMs: 600_000,
});

/** `host:port` (Carbonio's brokers) or a URL; a bare host:port becomes nats://host:port. */
function natsUrl(raw: string): string {
  if (/^(nats|tls):\/\/[^\s/:]+:\d+$/.test(raw)) return raw;
  if (/^[^\s/:]+:\d+$/.test(raw)) return `nats://${raw}`;
  throw new CliUsageError(`param 'servers' must be NATS endpoints such as nats://host:4222 or host:4222, got ${JSON.stringify(raw)}`);
}

const TEST_PARAMS: ParamsSpec = paramsOf("test", [
  ["servers", { expected: "URL[,..]", description: "NATS endpoints to check (default: the configured ones)" }],
]);

const testCommand = define({
  name: "test",
  params: TEST_PARAMS,
  usage: "[URL[,URL] | servers URL[,URL]]",
  notes: ["Each check prints ok, warn or fail with the fix to apply. A bare list is the same as 'servers LIST' (Carbonio's 'test BROKERS')."],
  examples: ["", "nats://127.0.0.1:4222", "servers nats1.example.com:4222,nats2.example.com:4222"],
  bare: barePositional("servers", TEST_PARAMS),
  check: (p) => {
    if (Array.isArray(p.servers)) p.servers = (p.servers as string[]).map(natsUrl);
  },
  format: (result) => formatValue(result),
  exitCode: (result) => ((result as { status?: unknown } | null)?.status === "fail" ? 1 : 0),
});

function serviceCommand(name: "doStartService" | "doStopService" | "doRestartService"): AdminCommandDef {
  return define({
    name,
    params: paramsOf(name, [
      ["service_name", { description: "module: a mailstore's replication service" }],
      ["host", { expected: HOST, description: "the mailstore (default: every mailstore)" }],
    ]),
    examples: ["module", "module host mailstore2.example.com"],
    format: (result) => formatValue(result),
  });
}

/** Every admin command, in the order help lists them. */
export const ADMIN_COMMANDS: readonly AdminCommandDef[] = [
  setAccountDestination,
  getAccountStatus,
  promoteAccounts,
  removeAccountDestination,
  pauseReplicas,
  restartReplicas,
  monitor,
  getLicenseInfo,
  getServices,
  getAllAccounts,
  verifyReplicas,
  snapshotAccounts,
  restoreAccount,
  testCommand,
  serviceCommand("doStartService"),
  serviceCommand("doStopService"),
  serviceCommand("doRestartService"),
];

/** The definition named `name` (any case, as Carbonio accepts), or undefined. */
export function findAdminCommand(name: string): AdminCommandDef | undefined {
  return ADMIN_COMMANDS.find((c) => c.name === name) ?? ADMIN_COMMANDS.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

/** Help lines for a definition: params table, notes, examples (each prefixed `prefix` + name). */
export function adminDetails(def: AdminCommandDef, prefix: string): string[] {
  const lines: string[] = [];
  if (def.params.length) lines.push("Params:", ...formatParamsHelp(def.params));
  else lines.push("Params: none");
  if (def.notes.length) lines.push("", ...def.notes);
  if (def.examples.length) lines.push("", "Examples:", ...def.examples.map((e) => `  ${prefix}${def.name}${e ? ` ${e}` : ""}`));
  return lines;
}
