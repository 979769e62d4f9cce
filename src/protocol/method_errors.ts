// The errors the methods may answer, as the contracts list them: each canonical code (what
// data.code carries) with one line saying when this method answers it. Groups here are the
// failures many methods share (found in the handlers they all go through); each contract adds
// its own. openrpc.ts refuses an unknown code or an alias at build time.
import type { MethodErrorSpec } from "../jsonrpc/openrpc.js";

export const err = (code: MethodErrorSpec["code"], meaning: string): MethodErrorSpec => ({ code, meaning });

/** Every method checks its params before anything runs. */
export const invalidParams = (meaning = "a param is missing, of the wrong type, out of its bounds, or unknown"): MethodErrorSpec =>
  err("INVALID_PARAMS", meaning);

/** NATS failures that escape a method (src/jsonrpc/errors.ts fromNatsClient; a node or supervisor asked did not answer). */
export const NATS_FAILURES: readonly MethodErrorSpec[] = [
  err("UNAVAILABLE", "JetStream, a mailstore or the supervisor it needs did not answer (no leader, connection closed); nothing was done"),
  err("TIMEOUT", "an answer it waited for did not come in time; it may still complete"),
];

/** A directory record it read is not one mailreplica writes. */
export const RECORD_INVALID = err("DIRECTORY_RECORD_INVALID", "an account record in the directory is damaged (not what mailreplica writes)");

// ---- admin (actors/supervisor)

/** boundedAdminMethods: the `accounts` list against limits.maxAccountsPerRequest. */
export const ACCOUNTS_TOO_MANY = err("REQUEST_TOO_LARGE", "accounts names more entries than limits.maxAccountsPerRequest");
/** boundedAdminMethods: the expensive methods run a few at once. */
export const EXPENSIVE_BUSY = err("BUSY", "limits.maxConcurrentExpensive expensive requests already run here");

/** resolveAccounts (admin_methods.ts): the accounts named, checked before anything changes. */
export const NAMED_ACCOUNTS: readonly MethodErrorSpec[] = [
  err("UNSUPPORTED_ACCOUNT_PATTERN", "an account name holds a wildcard (* or ?)"),
  err("ACCOUNT_UNKNOWN", "an account named does not exist (data.accounts lists them)"),
  err("DISTRIBUTION_LIST_UNSUPPORTED", "an account named is a distribution list"),
];

/** requireKnownMailstore (known_mailstores.ts) for the param that names a host. */
export const unknownMailstore = (param: string): MethodErrorSpec => err("MAILSTORE_UNKNOWN", `${param} is not a registered (or running) mailstore`);

/** selectAccounts (replica_control_methods.ts). */
export const NO_SUCH_REPLICA = err("REPLICA_NOT_FOUND", "an account named has no replica (on destination, when given)");

// ---- mailbox (actors/mailstore)

/** onPrimary, the account actor and its read barrier: every method that names an account. */
export const ACCOUNT_ROUTING: readonly MethodErrorSpec[] = [
  err("ACCOUNT_UNKNOWN", "no account with this name or id (also: it has no mailbox on its primary yet)"),
  RECORD_INVALID,
  err("DISTRIBUTION_LIST_UNSUPPORTED", "the account is a distribution list (it has no mailbox)"),
  err("NOT_PRIMARY", "the account is being promoted or moved away; retry, the request reaches the new primary"),
  err("APPLY_FAILED", "the primary refused the account's log, so it serves nothing of it"),
  err("OVERLOADED", "the account's actor has too many requests queued"),
  ...NATS_FAILURES,
];

/** A write through the account log (account actor): the log's own failures, and the idempotency key. */
export const LOG_WRITE: readonly MethodErrorSpec[] = [
  err("FENCED", "a newer primary took over the account's log; nothing was written here"),
  err("OUTCOME_UNKNOWN", "the log's acknowledgement was lost: the write may have been stored; retry with the same requestId"),
  err("ENTRY_TOO_LARGE", "the write alone is over what one log append may carry (the NATS max_payload)"),
  err("REQUEST_ID_REUSED", "requestId was used for a call with other params"),
];

/** Reading a message body from centralized storage (src/blobs). */
export const BODY_READ: readonly MethodErrorSpec[] = [
  err("BLOB_MISSING", "the body is missing from centralized storage"),
  err("BLOB_UNREADABLE", "the body in centralized storage fails its authentication (damaged or replaced)"),
  err("BLOB_KEY_UNKNOWN", "the body is encrypted under a cluster key id this mailstore lacks"),
];

export const FOLDER_PATH = err("INVALID_FOLDER_PATH", "a folder path is malformed");
export const ITEMS_MISSING = err("ITEM_NOT_FOUND", "an id is no item of the account (data.ids lists them); nothing was changed");
