// The admin methods on mr.rpc.admin (docs/jsonrpc.md) as a wire contract: each method's summary,
// params, result (admin_results.ts) and errors (method_errors.ts), defined once. The supervisor's method modules validate with these specs, rpc.discover
// publishes them, and the CLI's admin commands take their types and bounds from them. Light on
// purpose (no NATS, no SQLite), so the CLI can load it for --help.
import { bool, int, oneOf, str, strOrList } from "../jsonrpc/param_specs.js";
import { ACCOUNT_REF_ITEM, hostParam, operationIdParam } from "../directory/key_params.js";
import { MAX_REPLICA_DELAY_S } from "../directory/types.js";
import { contract } from "./method_contract.js";
import { ADMIN_RESULTS } from "./admin_results.js";
import {
  ACCOUNTS_TOO_MANY,
  err,
  EXPENSIVE_BUSY,
  invalidParams,
  NAMED_ACCOUNTS,
  NATS_FAILURES,
  NO_SUCH_REPLICA,
  RECORD_INVALID,
  unknownMailstore,
} from "./method_errors.js";

/** The services a mailstore runs that the do*Service commands may name. */
export const SERVICE_NAMES = ["module"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** nats://host:port, tls://host:port, or Carbonio's bare host:port (read as nats://). */
export const NATS_URL = /^(?:(?:nats|tls):\/\/)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

/** The `servers` param of `test` and probeNats: NATS URLs, as a list or comma separated. */
export function natsServersParam() {
  return strOrList({
    minItems: 1,
    maxItems: 32,
    item: { maxLength: 300, pattern: NATS_URL, patternHint: "NATS URLs such as nats://host:4222, tls://host:4222 or host:4222" },
    description: "NATS endpoints to check (default: the configured ones; only those may be named)",
  });
}

/** The longest list of accounts one request may name (limits.maxAccountsPerRequest may be lower). */
export const ACCOUNTS_MAX = 100_000;

const hostList = (description: string) => strOrList({ maxItems: 1_000, description });
const accountList = (description: string) => strOrList({ minItems: 1, maxItems: ACCOUNTS_MAX, item: ACCOUNT_REF_ITEM, description });
const serviceParams = () => ({
  service_name: oneOf(SERVICE_NAMES, { required: true, description: "module: a mailstore's replication service" }),
  host: hostParam({ description: "the mailstore (default: every mailstore)" }),
});

/** pauseReplicas and restartReplicas select replicas alike: by account, by destination, or all. */
const replicaSelectionParams = () => ({
  accounts: accountList("accounts whose replicas change (default: all)"),
  destination: hostParam({ description: "only the replicas on this mailstore" }),
});
const replicaSelectionErrors = () => [
  invalidParams(),
  ACCOUNTS_TOO_MANY,
  EXPENSIVE_BUSY,
  unknownMailstore("destination"),
  ...NAMED_ACCOUNTS,
  NO_SUCH_REPLICA,
  RECORD_INVALID,
  ...NATS_FAILURES,
];

export const ADMIN_METHODS = {
  setAccountDestination: contract(
    "Create (initialize) replicas of accounts on a destination mailstore, with a priority.",
    {
      destination: hostParam({ required: true, description: "the destination mailstore" }),
      priority: int({ required: true, min: 0, max: 1_000_000, description: "lower is promoted first (10 before 20)" }),
      accounts: strOrList({ required: true, minItems: 1, maxItems: ACCOUNTS_MAX, item: ACCOUNT_REF_ITEM, description: "account names or ids" }),
      delay: int({
        min: 0,
        max: MAX_REPLICA_DELAY_S,
        description:
          "lagged replica: seconds an entry must be in the log before it is applied there (0: not lagged; default: a new replica 0, an existing one keeps its delay)",
      }),
    },
    {
      result: ADMIN_RESULTS.setAccountDestination,
      errors: [
        invalidParams(),
        ACCOUNTS_TOO_MANY,
        unknownMailstore("destination"),
        ...NAMED_ACCOUNTS,
        err("DESTINATION_IS_PRIMARY", "destination is already the primary of an account named"),
        err("LICENCE_EXCEEDED", "giving these accounts a replica would exceed the HA licence quantity"),
        err("LICENCE_INVALID", "the licence is not valid, so no account can get its first replica"),
        err("DIRECTORY_CONFLICT", "an account record or the quota ledger kept changing; accounts before it got the replica"),
        RECORD_INVALID,
        ...NATS_FAILURES,
      ],
    },
  ),
  getAccountStatus: contract(
    "Show replicated accounts: primary, epoch, log head, and each replica's state and lag.",
    {
      mailHost: hostList("accounts whose primary is on these mailstores"),
      replicaServer: hostList("accounts replicated onto these mailstores"),
      accounts: strOrList({ maxItems: ACCOUNTS_MAX, item: ACCOUNT_REF_ITEM, description: "these accounts (names or ids); default: every replicated account" }),
      domains: strOrList({ maxItems: 1_000, description: "replicated accounts of these domains" }),
      accountStatus: oneOf(["active", "paused"] as const, { description: "replication active or paused on the source" }),
      replicaStatus: oneOf(["available", "unavailable"] as const, { description: "replica available or not on the destination" }),
    },
    {
      result: ADMIN_RESULTS.getAccountStatus,
      errors: [
        invalidParams(),
        err(
          "REQUEST_TOO_LARGE",
          "accounts names more entries than limits.maxAccountsPerRequest, or the selection holds more accounts than limits.maxStatusAccounts",
        ),
        EXPENSIVE_BUSY,
        ...NAMED_ACCOUNTS,
        RECORD_INVALID,
        ...NATS_FAILURES,
      ],
    },
  ),
  promoteAccounts: contract(
    "Promote accounts to their best replica (lowest priority number, lagged replicas skipped), even with the source down.",
    {
      accounts: accountList("accounts to promote (default: every account with a replica)"),
      source_mail_host: hostParam({ description: "promote every account whose primary is this mailstore" }),
      destination: hostParam({ description: "promote to this replica instead of the priority order (a lagged one is first drained to the log head)" }),
      threads: int({
        min: 1,
        max: 64,
        description:
          "batches promoted in parallel, each up to supervisor.promoteBatchSize (200) accounts in one call to their target (default: supervisor.promotionThreads, else 4)",
      }),
    },
    {
      result: ADMIN_RESULTS.promoteAccounts,
      errors: [
        invalidParams("a param is wrong, or both accounts and source_mail_host were given"),
        ACCOUNTS_TOO_MANY,
        err("MAILSTORE_UNKNOWN", "source_mail_host or destination is not a registered mailstore"),
        ...NAMED_ACCOUNTS,
        RECORD_INVALID,
        ...NATS_FAILURES,
      ],
    },
  ),
  removeAccountDestination: contract(
    "Remove the replicas on a destination mailstore (of the given accounts, or of all).",
    {
      destination: hostParam({ required: true, description: "the destination mailstore" }),
      accounts: accountList("accounts (default: every account replicated there)"),
    },
    {
      result: ADMIN_RESULTS.removeAccountDestination,
      errors: [
        invalidParams(),
        ACCOUNTS_TOO_MANY,
        EXPENSIVE_BUSY,
        unknownMailstore("destination"),
        ...NAMED_ACCOUNTS,
        NO_SUCH_REPLICA,
        err("DIRECTORY_CONFLICT", "the quota ledger kept changing under the removal; nothing was changed"),
        err("NOT_SUPERVISOR", "another supervisor took the operation over while it ran (monitor shows it)"),
        RECORD_INVALID,
        ...NATS_FAILURES,
      ],
    },
  ),
  pauseReplicas: contract("Pause replicas: they stop applying the account logs (status paused).", replicaSelectionParams(), {
    result: ADMIN_RESULTS.pauseReplicas,
    errors: replicaSelectionErrors(),
  }),
  restartReplicas: contract("Restart replicas (paused, unavailable or not): each drops its copy and re-seeds from the account log.", replicaSelectionParams(), {
    result: ADMIN_RESULTS.restartReplicas,
    errors: replicaSelectionErrors(),
  }),
  monitor: contract(
    "Show the progress of a long operation (total, done, failed, state).",
    {
      operation_uuid: operationIdParam({ required: true, description: "the operationId a command returned" }),
      operation_host: hostParam({ description: "the supervisor that runs it (any supervisor answers)" }),
    },
    {
      result: ADMIN_RESULTS.monitor,
      errors: [invalidParams(), err("OPERATION_UNKNOWN", "no operation with this operation_uuid"), ...NATS_FAILURES],
    },
  ),
  getLicenseInfo: contract(
    "Show the licence: HA quantity, accounts enabled, validity.",
    {},
    { result: ADMIN_RESULTS.getLicenseInfo, errors: [invalidParams("params were given (it takes none)"), RECORD_INVALID, ...NATS_FAILURES] },
  ),
  getServices: contract(
    "List every mailstore and supervisor seen, with liveness and role.",
    {},
    { result: ADMIN_RESULTS.getServices, errors: [invalidParams("params were given (it takes none)"), ...NATS_FAILURES] },
  ),
  getAllAccounts: contract(
    "List account names (replicated or not) in name order, optionally those starting with a prefix; at most limit of them.",
    {
      prefix: str({ maxLength: 320, description: "only names starting with this (any case)" }),
      limit: int({ min: 1, max: 1_000, default: 100, description: "most names returned (more: true when there are others)" }),
    },
    { result: ADMIN_RESULTS.getAllAccounts, errors: [invalidParams(), RECORD_INVALID, ...NATS_FAILURES] },
  ),
  verifyReplicas: contract(
    "Check that replicas equal their primary: each copy's digest of the account's metadata, at a log sequence they agree on.",
    {
      accounts: strOrList({ maxItems: ACCOUNTS_MAX, item: ACCOUNT_REF_ITEM, description: "accounts to verify (default: every account with a replica)" }),
      replicaServer: hostParam({ description: "only accounts with a replica on this mailstore, and only that replica" }),
    },
    {
      result: ADMIN_RESULTS.verifyReplicas,
      errors: [invalidParams(), ACCOUNTS_TOO_MANY, EXPENSIVE_BUSY, unknownMailstore("replicaServer"), ...NAMED_ACCOUNTS, RECORD_INVALID, ...NATS_FAILURES],
    },
  ),
  snapshotAccounts: contract(
    "Snapshot accounts now on their primaries (replicas then seed from the snapshot); with compact, compact their logs below it as the retention allows.",
    {
      accounts: strOrList({ maxItems: ACCOUNTS_MAX, item: ACCOUNT_REF_ITEM, description: "accounts to snapshot (default: every account)" }),
      compact: bool({ description: "also compact each account's log now, as retention.keepDays allows (default false)" }),
    },
    {
      result: ADMIN_RESULTS.snapshotAccounts,
      errors: [invalidParams(), ACCOUNTS_TOO_MANY, EXPENSIVE_BUSY, ...NAMED_ACCOUNTS, ...NATS_FAILURES],
    },
  ),
  restoreAccount: contract(
    "Point-in-time restore: the account as of a log sequence or a time, written into a new account on the same primary, or with overwrite over the account itself (the difference written into its log as new entries).",
    {
      account: str({ required: true, maxLength: 320, description: "the account to restore (name or id)" }),
      into: str({ maxLength: 254, description: "the new account that receives the restored state (must not exist); required unless overwrite" }),
      seq: int({ min: 1, description: "the state after this log sequence of the account" }),
      at: str({ maxLength: 40, description: "the state as of this time (ISO 8601, e.g. 2026-11-30T08:00:00Z): after the last entry stored at or before it" }),
      overwrite: bool({
        description:
          "restore over the live account itself: what differs from the point is written into its log as new entries (items deleted, re-created, moved, flags and folders put back); into left out or naming the account itself",
      }),
    },
    {
      result: ADMIN_RESULTS.restoreAccount,
      errors: [
        invalidParams(
          "a param is wrong, neither or both of seq and at are given, into is missing without overwrite, or into names another account with overwrite",
        ),
        EXPENSIVE_BUSY,
        ...NAMED_ACCOUNTS,
        err("ACCOUNT_EXISTS", "into names an account that exists (the account itself: give overwrite true to restore over it)"),
        err("RESTORE_POINT_UNAVAILABLE", "the log no longer reaches back to the point, or the point is after its last entry"),
        err("RESTORE_TARGET_NOT_EMPTY", "the new account was written to during the restore"),
        err("RESTORE_CONFLICT", "overwrite: the account kept changing during the restore (writes landing between its passes)"),
        err("BLOB_MISSING", "overwrite: the body of an item to re-create is no longer in centralized storage"),
        err("NOT_PRIMARY", "the account's primary changed during the restore"),
        ...NATS_FAILURES,
      ],
    },
  ),
  test: contract(
    "Run the troubleshooting checks (NATS endpoints, JetStream assets, heartbeats, storage, replicas).",
    { servers: natsServersParam() },
    {
      result: ADMIN_RESULTS.test,
      errors: [invalidParams(), EXPENSIVE_BUSY, err("PROBE_NOT_CONFIGURED", "servers names a NATS server that is not configured (nats.servers)")],
    },
  ),
  doStartService: contract("Start a service (module: the replication service of a mailstore).", serviceParams(), {
    result: ADMIN_RESULTS.doStartService,
    errors: [invalidParams(), unknownMailstore("host"), ...NATS_FAILURES],
  }),
  doStopService: contract("Stop a service (module: the replication service of a mailstore).", serviceParams(), {
    result: ADMIN_RESULTS.doStopService,
    errors: [invalidParams(), unknownMailstore("host"), ...NATS_FAILURES],
  }),
  doRestartService: contract("Restart a service (module: the replication service of a mailstore).", serviceParams(), {
    result: ADMIN_RESULTS.doRestartService,
    errors: [invalidParams(), unknownMailstore("host"), ...NATS_FAILURES],
  }),
} as const;

export type AdminMethodName = keyof typeof ADMIN_METHODS;
