// The admin commands, one definition each, with Carbonio's syntax (carbonio-reference.md
// section 5) and DESIGN.md section 9's JSON-RPC params. The CLI and the REPL both use these.
import { formatParamsHelp, parseCarbonioParams, usageOfParams } from "../args.js";
import { CliUsageError } from "../errors.js";
import { accountsFromParams } from "../input_file.js";
import type { ParamsSpec, ParamSpec } from "../types.js";
import { formatAccountStatus, formatMonitor, formatOperationStart, formatServices, formatValue, formatVerify } from "./format.js";
import type { AdminCommandDef, RpcParams } from "./types.js";

const ACCOUNTS: ParamSpec = { name: "accounts", type: "list", expected: "Account Name/ID[,..]", description: "accounts, comma separated" };
const INPUT_FILE: ParamSpec = { name: "input_file", type: "string", expected: "File", description: "file with one account per line (sent as accounts)" };
const DESTINATION_M: ParamSpec = { name: "destination", type: "string", mandatory: true, expected: "Server Hostname/ID", description: "FQDN of the destination mailstore" };

/** Wildcards are refused by the server too; saying so here avoids a round trip and names the account. */
function refuseWildcards(accounts: readonly string[] | undefined): void {
  const bad = accounts?.find((a) => /[*?]/.test(a));
  if (bad !== undefined) throw new CliUsageError(`account '${bad}' holds a wildcard (* or ?), which is not supported; name each account, or list them in an input_file`);
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
  name: string;
  summary: string;
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
    summary: d.summary,
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
  summary: "Create (initialize) replicas of accounts on a destination mailstore, with a priority.",
  params: [
    DESTINATION_M,
    { name: "priority", type: "integer", mandatory: true, expected: "Integer", description: "lower is promoted first (10 before 20)" },
    ACCOUNTS,
    INPUT_FILE,
  ],
  notes: ["Give the accounts as 'accounts a,b' or 'input_file FILE'. Runs as an operation; the Global Admin is notified when it ends."],
  examples: ["mailstore2.example.com 10 accounts u0@example.com,u1@example.com", "mailstore3.example.com 20 input_file /tmp/accounts_for_replica"],
  check: (p) => {
    if (p.accounts === undefined) throw new CliUsageError("setAccountDestination needs the accounts to replicate: 'accounts a@x.com,b@x.com' or 'input_file FILE'");
  },
});

const STATUS_PARAMS: ParamsSpec = [
  { name: "mailHost", type: "list", expected: "Server Hostname/ID[,..]", description: "accounts whose primary is on these mailstores" },
  { name: "replicaServer", type: "list", expected: "Server Hostname/ID[,..]", description: "accounts replicated onto these mailstores" },
  ACCOUNTS,
  { name: "domains", type: "list", expected: "String[,..]", description: "replicated accounts of these domains" },
  { name: "accountStatus", type: "string", values: ["active", "paused"], description: "replication active or paused on the source" },
  { name: "replicaStatus", type: "string", values: ["available", "unavailable"], description: "replica available or not on the destination" },
];

const getAccountStatus = define({
  name: "getAccountStatus",
  summary: "Show replicated accounts: primary, epoch, log head, and each replica's state and lag.",
  params: STATUS_PARAMS,
  usage: `[all | ACCOUNT[,ACCOUNT]] ${usageOfParams("", STATUS_PARAMS).trim()}`,
  notes: ["Without filters (or with 'all') every replicated account is listed. A bare list of accounts is the same as 'accounts LIST'."],
  examples: ["all", "u0@example.com,u1@example.com", "mailHost mailstore1.example.com replicaStatus unavailable"],
  bare: barePositional("accounts", STATUS_PARAMS, "all"),
  format: (result) => formatAccountStatus(result),
});

const promoteAccounts = define({
  name: "promoteAccounts",
  summary: "Promote accounts to their best replica (lowest priority number), even with the source down.",
  params: [
    { ...ACCOUNTS, description: "accounts to promote (default: all)" },
    INPUT_FILE,
    { name: "source_mail_host", type: "string", expected: "Server Hostname/ID", description: "promote every account whose primary is this mailstore" },
    { name: "destination", type: "string", expected: "Server Hostname/ID", description: "promote to this replica instead of the priority order" },
    { name: "threads", type: "integer", min: 1, max: 64, expected: "Integer 1-64", description: "accounts promoted in parallel (default 4, config supervisor.promotionThreads)" },
  ],
  notes: ["Waits for the promotion to end, prints the promoted and failed accounts, and exits 0 when all were promoted, 1 when any failed (2 stopped, 3 removed, 4 interrupted)."],
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
  summary: "Remove the replicas on a destination mailstore (of the given accounts, or of all).",
  params: [DESTINATION_M, { ...ACCOUNTS, description: "accounts (default: every account replicated there)" }, INPUT_FILE],
  examples: ["mailstore2.example.com accounts u0@example.com,u1@example.com"],
});

const REPLICA_FILTER: ParamsSpec = [
  { ...ACCOUNTS, description: "accounts whose replicas change (default: all)" },
  INPUT_FILE,
  { name: "destination", type: "string", expected: "Server Hostname/ID", description: "only the replicas on this mailstore" },
];

const pauseReplicas = define({
  name: "pauseReplicas",
  summary: "Pause replicas: they stop applying the account logs (status paused).",
  params: REPLICA_FILTER,
  examples: ["accounts u0@example.com,u1@example.com"],
});

const restartReplicas = define({
  name: "restartReplicas",
  summary: "Restart replicas (paused, unavailable or not): each drops its copy and re-seeds from the account log.",
  params: REPLICA_FILTER,
  examples: ["accounts u0@example.com,u1@example.com", "destination mailstore2.example.com"],
});

const monitor = define({
  name: "monitor",
  summary: "Show the progress of a long operation (total, done, failed, state).",
  params: [
    { name: "operation_uuid", type: "uuid", mandatory: true, description: "the operationId a command returned" },
    { name: "operation_host", type: "string", expected: "Server Hostname/ID", description: "the supervisor that runs it (any supervisor answers)" },
  ],
  notes: ["With --sync (or --progress) it waits until the operation ends and exits with its code."],
  examples: ["123e4567-e89b-12d3-a456-426614174000"],
  format: (result) => formatMonitor(result),
});

const getLicenseInfo = define({
  name: "getLicenseInfo",
  summary: "Show the licence: HA quantity, accounts enabled, validity.",
  params: [],
  examples: [""],
  format: (result) => formatValue(result),
});

const getServices = define({
  name: "getServices",
  summary: "List every mailstore and supervisor seen, with liveness and role.",
  params: [],
  examples: [""],
  format: (result) => formatServices(result),
});

const VERIFY_PARAMS: ParamsSpec = [
  { ...ACCOUNTS, description: "accounts to verify (default: every account with a replica)" },
  INPUT_FILE,
  { name: "replicaServer", type: "string", expected: "Server Hostname/ID", description: "only accounts with a replica on this mailstore, and only that replica" },
];

const verifyReplicas = define({
  name: "verifyReplicas",
  summary: "Check that replicas equal their primary: each copy's digest of the account's metadata, at a log sequence they agree on.",
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

/** `host:port` (Carbonio's brokers) or a URL; a bare host:port becomes nats://host:port. */
function natsUrl(raw: string): string {
  if (/^(nats|tls):\/\/[^\s/:]+:\d+$/.test(raw)) return raw;
  if (/^[^\s/:]+:\d+$/.test(raw)) return `nats://${raw}`;
  throw new CliUsageError(`param 'servers' must be NATS endpoints such as nats://host:4222 or host:4222, got ${JSON.stringify(raw)}`);
}

const TEST_PARAMS: ParamsSpec = [{ name: "servers", type: "list", expected: "URL[,..]", description: "NATS endpoints to check (default: the configured ones)" }];

const testCommand = define({
  name: "test",
  summary: "Run the troubleshooting checks (NATS endpoints, JetStream assets, heartbeats, storage, replicas).",
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

const SERVICE_PARAMS: ParamsSpec = [
  { name: "service_name", type: "string", mandatory: true, values: ["module"], description: "module: a mailstore's replication service" },
  { name: "host", type: "string", expected: "Server Hostname/ID", description: "the mailstore (default: every mailstore)" },
];

function serviceCommand(name: string, verb: string): AdminCommandDef {
  return define({
    name,
    summary: `${verb} a service (module: the replication service of a mailstore).`,
    params: SERVICE_PARAMS,
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
  verifyReplicas,
  testCommand,
  serviceCommand("doStartService", "Start"),
  serviceCommand("doStopService", "Stop"),
  serviceCommand("doRestartService", "Restart"),
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
