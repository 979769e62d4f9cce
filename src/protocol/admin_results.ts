// What each admin method on mr.rpc.admin answers, as JSON Schema (result_schema.ts), with the
// pieces several answers share: the account entry, the operation record and its per-account
// results, an account's replication status. Each mirrors the handler's answer in
// actors/supervisor/ (named beside it); test/openrpc_results.test.ts validates real answers.
import { anyObject, anyOf, bool, int, list, nullable, object, oneOf, optional, str, type ResultSchema } from "./result_schema.js";

const ACCOUNT_TYPES = ["account", "distributionList"] as const;

/** The states of a long operation (operations.ts OperationState). */
export const OPERATION_STATE = oneOf(
  ["running", "successful", "failed", "stopped", "removed", "interrupted"],
  "running until every account is done; failed when any account failed",
);

/** An account as getAllAccounts lists it: its directory record, replicas counted. */
export const ACCOUNT_ENTRY = object({
  name: str("lower-case address"),
  id: str("account id (UUID)"),
  type: oneOf(ACCOUNT_TYPES),
  mailHost: str("the mailstore that is its primary"),
  replicas: int("number of replicas"),
});

/** One account's outcome in an operation (operations.ts OperationResult); the rest per kind. */
export const OPERATION_RESULT = object(
  {
    account: str("account name"),
    accountId: optional(str("account id")),
    ok: optional(bool("the account succeeded (left out where the list already says: promoted, failed)")),
    code: optional(str("the error code, when it failed")),
    message: optional(str("what went wrong, when it failed")),
    // setAccountDestination (replica_init.ts) and removeAccountDestination (replica_control_methods.ts)
    destination: optional(str("the replica's mailstore")),
    sequence: optional(int("setAccountDestination: the log seq the new replica had applied when done")),
    priority: optional(int("removeAccountDestination: the removed replica's priority")),
    removed: optional(bool("removeAccountDestination: the destination no longer holds a copy")),
    reason: optional(str("removeAccountDestination: why removed is false")),
    // promoteAccounts (promotion.ts PromotedAccount)
    from: optional(str("promoteAccounts: the old primary")),
    to: optional(str("promoteAccounts: the new primary")),
    epoch: optional(int("promoteAccounts: the account's epoch on the new primary")),
    ms: optional(int("promoteAccounts: how long it took, ms")),
  },
  "one account's outcome; the fields beside account depend on the operation and on success",
);

/** An operation record as `monitor` shows it (operations.ts OperationRecord, results apart). */
export const OPERATION_RECORD = object({
  operationId: str("the operation's id (UUID)"),
  kind: oneOf(["setAccountDestination", "promoteAccounts", "removeAccountDestination"], "the command that started it"),
  state: OPERATION_STATE,
  startedAt: int("ms since the Unix epoch"),
  endedAt: optional(int("ms since the Unix epoch, once it ended")),
  owner: str("the supervisor that runs it"),
  total: int("accounts it covers"),
  done: int("accounts done"),
  // promoteAccounts: `failed` is the list of failed accounts; other kinds: their number.
  failed: { type: ["integer", "array"], items: OPERATION_RESULT, description: "promoteAccounts: the failed accounts; other operations: how many failed" },
  params: anyObject("what the command was given"),
  progress: int("percent of accounts done or failed"),
  promoted: optional(list(OPERATION_RESULT, "promoteAccounts: the promoted accounts")),
  results: optional(list(OPERATION_RESULT, "other operations: the last 1000 accounts' outcomes")),
  // Only when the whole answer would exceed the NATS server's max_payload (monitor_answer.ts).
  truncated: optional(
    bool(
      "the full answer would exceed the NATS server's max_payload: params keep only their short fields (the account lists are left out), and the lists hold the failed accounts first, then as many others as fit; the counters cover every account",
    ),
  ),
  omitted: optional(int("with truncated: how many accounts' outcomes the lists leave out")),
});

/** One replica in getAccountStatus (account_status.ts ReplicaStatusView). */
export const REPLICA_STATUS = object({
  accountId: str(),
  destination: str("the mailstore holding the replica"),
  priority: int("lower is promoted first"),
  delay: int("lagged replica: seconds an entry waits in the log before it is applied there; 0: not lagged (promotion by priority skips a lagged one)"),
  available: bool("it applies the log and can be promoted"),
  status: oneOf(["available", "unavailable", "paused", "initializing", "unreachable"]),
  sequence: int("log seq applied on the destination"),
  itemId: int("last item id on the destination"),
  mailboxId: nullable(int("the destination's local mailbox number")),
  canConnectToNats: bool(),
  lagEvents: int("log entries not applied yet"),
  lagMs: int("age of the oldest entry not applied, ms"),
  lastAppliedAt: nullable(int("ms since the Unix epoch")),
  error: nullable(str("why it is not available")),
});

/** One account in getAccountStatus (account_status.ts AccountStatusView). */
export const ACCOUNT_STATUS = object({
  accountId: str(),
  accountName: str(),
  accountMailHost: str("its primary"),
  paused: bool("every replica is paused"),
  mailboxId: nullable(int("the primary's local mailbox number")),
  epoch: int("+1 at each promotion"),
  sequence: int("log head: the last seq of the account's log"),
  itemId: int("last item id on the primary"),
  replicas: list(REPLICA_STATUS, "by priority"),
});

/** A mailstore or supervisor in getServices (services.ts ServiceStatus). */
export const SERVICE_STATUS = object({
  host: str(),
  role: oneOf(["mailstore", "supervisor"]),
  alive: bool("a fresh heartbeat exists"),
  lastHeartbeatAt: nullable(int("ms since the Unix epoch")),
  startedAt: nullable(int("ms since the Unix epoch")),
  version: nullable(str()),
  pid: nullable(int()),
  services: object({ module: object({ running: bool(), could_start: bool(), could_stop: bool() }, "the replication module") }),
  info: optional(anyObject("what the process reports in its heartbeat")),
});

/** A replica whose state pauseReplicas / restartReplicas set (replica_control_methods.ts). */
const REPLICA_CHANGE = object({
  account: str(),
  accountId: str(),
  destination: str(),
  status: oneOf(["paused", "initializing"], "as getAccountStatus will show it"),
  state: oneOf(["active", "paused"], "the replica's state in the directory"),
  generation: int("restartReplicas raises it: the copy is seeded again"),
  changed: bool("false when it already was as asked"),
});

const REPLICA_CHANGES = object({
  replicas: list(REPLICA_CHANGE),
  total: int("replicas listed"),
  failed: optional(list(OPERATION_RESULT, "accounts whose record could not be changed")),
});

/** One mailstore's outcome of doStartService and the like (service_methods.ts HostOutcome). */
const SERVICE_HOST_OUTCOME = object({
  host: str(),
  service: str(),
  running: nullable(bool("null when the mailstore did not answer or refused")),
  changed: bool("false when it already was in the asked state"),
  message: str(),
  code: optional(str("why the mailstore did not do it")),
});

const SERVICE_ACTION = object({
  service_name: oneOf(["module"]),
  ok: bool("every mailstore did it"),
  hosts: list(SERVICE_HOST_OUTCOME),
});

const FIRST_DIFFERENCE: ResultSchema = {
  ...object({
    kind: oneOf(["account", "folder", "item", "tag"]),
    id: optional(anyOf(["integer", "string"])),
    path: optional(str("a folder's path")),
    primary: nullable(anyObject("the primary's values of the fields that differ (null: the row is missing there)")),
    replica: nullable(anyObject("the replica's values")),
  }),
  type: ["object", "null"],
};

const REPLICA_VERDICT = object({
  destination: str(),
  sequence: nullable(int("the seq it was compared at")),
  digest: nullable(str()),
  equal: nullable(bool("null when not compared (see error)")),
  firstDifference: FIRST_DIFFERENCE,
  error: optional(str()),
});

const ACCOUNT_VERDICT = object({
  account: str(),
  accountId: str(),
  primary: str(),
  sequence: nullable(int("the primary's applied seq its digest is of")),
  digest: nullable(str()),
  equal: nullable(bool("true: every replica equal; false: one differs; null: one could not be compared")),
  replicas: list(REPLICA_VERDICT),
});

/** One account's snapshot (actors/supervisor/snapshot_methods.ts). */
const ACCOUNT_SNAPSHOT = object({
  account: str(),
  accountId: str(),
  primary: str("the mailstore that took it"),
  sequence: nullable(int("the log seq the snapshot is at; null when none was taken")),
  items: nullable(int("null when none was taken, or one at this seq was already stored")),
  bytes: nullable(int("sealed bytes stored; null as items")),
  existing: nullable(bool("a snapshot at this seq was already stored: nothing new was written")),
  compactedTo: nullable(int("compact: the log now starts at this seq; null when nothing was removed")),
  entriesRemoved: nullable(int("compact: log entries removed")),
  error: nullable(str("why no snapshot was taken (the primary down, nothing written yet)")),
});

const CHECK_STATUS = oneOf(["ok", "warn", "fail"]);

/** Each admin method's answer. */
export const ADMIN_RESULTS = {
  setAccountDestination: object({
    operationId: str("follow it with monitor"),
    accounts: list(
      object({ account: str(), accountId: str(), destination: str(), priority: int(), delay: int("seconds; 0: not lagged"), status: oneOf(["initializing"]) }),
    ),
  }),
  getAccountStatus: object({ accounts: list(ACCOUNT_STATUS), total: int() }),
  promoteAccounts: object({ operationId: str("follow it with monitor"), state: OPERATION_STATE, total: int("accounts to promote") }),
  removeAccountDestination: object({
    operationId: str(),
    state: OPERATION_STATE,
    destination: str(),
    total: int(),
    removed: int("accounts whose destination no longer holds a copy"),
    accounts: list(
      object({
        account: str(),
        accountId: str(),
        destination: optional(str()),
        priority: optional(int()),
        removed: optional(bool("the destination no longer holds a copy")),
        reason: optional(str("why removed is false")),
        ok: optional(bool("false: the record could not be changed (see code, message)")),
        code: optional(str()),
        message: optional(str()),
      }),
    ),
  }),
  pauseReplicas: REPLICA_CHANGES,
  restartReplicas: REPLICA_CHANGES,
  monitor: OPERATION_RECORD,
  getLicenseInfo: object({
    ZxHA: object({ quantity: int(), licensed: bool() }),
    features: list(object({ name: str(), quantity: int(), enabled: bool() })),
    accountsEnabled: int("accounts with at least one replica"),
    validUntil: nullable(str("ISO date")),
    source: oneOf(["file", "default"]),
    valid: bool(),
    reason: optional(str("why it is not valid")),
    issuedTo: optional(nullable(str())),
    file: optional(str()),
    developmentIssuer: optional(object({ key: str(), file: str(), warning: str() }, "present only while a development issuer is trusted")),
  }),
  getServices: object({ services: list(SERVICE_STATUS) }),
  getAllAccounts: object({ accounts: list(ACCOUNT_ENTRY, "in name order"), more: bool("other names follow") }),
  verifyReplicas: object({ total: int(), equal: int(), different: int(), unverified: int(), accounts: list(ACCOUNT_VERDICT) }),
  snapshotAccounts: object({ total: int(), taken: int(), existing: int(), failed: int(), accounts: list(ACCOUNT_SNAPSHOT) }),
  restoreAccount: object({
    account: str("the account restored"),
    accountId: str(),
    into: str("the account holding the restored state: the new one, or with overwrite the account itself"),
    intoId: str(),
    mailHost: str("the primary of both"),
    overwrite: bool("restored over the account itself"),
    sequence: int("the log seq of the original whose state was restored"),
    at: str("when the entry at that seq was stored (ISO 8601)"),
    folders: int("user folders of the restored state"),
    items: int("items of the restored state"),
    tags: int("keywords of the restored state"),
    changes: optional(
      object(
        {
          itemsDeleted: int("items that did not exist at the point"),
          itemsRecreated: int("items of the point re-created with their ids"),
          itemsUpdated: int("items moved back or given back their flags and keywords"),
          foldersCreated: int("folders of the point re-created with their ids"),
          foldersRemoved: int("folders that did not exist at the point, with their subfolders"),
          foldersRenamed: int("folders put back at their path"),
          tagsAdded: int("keywords of the point the account no longer knew"),
        },
        "overwrite: what differed from the point before the restore",
      ),
    ),
    passes: optional(int("overwrite: passes written; more than 1 when writes landed during the restore (they were undone too)")),
  }),
  test: object({
    status: { ...CHECK_STATUS, description: "the worst status of all checks" },
    summary: object({ ok: int(), warn: int(), fail: int() }),
    checks: list(object({ check: str(), status: CHECK_STATUS, detail: str(), fix: nullable(str("what to do; null when nothing is needed")) })),
  }),
  doStartService: SERVICE_ACTION,
  doStopService: SERVICE_ACTION,
  doRestartService: SERVICE_ACTION,
} as const satisfies Record<string, ResultSchema>;
