// Error codes. The five protocol codes are fixed by the JSON-RPC 2.0 spec; the application
// codes below are this project's stable contract: clients branch on `data.code` (the string)
// or on the number, README lists them (generated from appErrorRows()), and neither a string
// nor a number is ever reused for something else. To add one: append an entry with the next
// free number in -32000..-32099 and a one-line hint telling the operator what to do.

/** Codes reserved by the JSON-RPC 2.0 spec, with the spec's own messages. */
export const ProtocolErrors = {
  PARSE_ERROR: { code: -32700, message: "Parse error" },
  INVALID_REQUEST: { code: -32600, message: "Invalid Request" },
  METHOD_NOT_FOUND: { code: -32601, message: "Method not found" },
  INVALID_PARAMS: { code: -32602, message: "Invalid params" },
  INTERNAL_ERROR: { code: -32603, message: "Internal error" },
} as const;

/** An application error code: its JSON-RPC number and what the operator should do. */
export interface AppErrorEntry {
  readonly rpcCode: number;
  readonly hint: string;
}

/** Another name for an existing code, e.g. a runtime error code that means the same thing. */
export interface AppErrorAlias {
  readonly aliasOf: string;
}

/** The one list of application error codes (string code → number and hint, or alias). */
export const AppErrorCodes = {
  APP_ERROR: { rpcCode: -32000, hint: "generic application error; data.cause names the cause, the message says what went wrong" },
  ACCOUNT_UNKNOWN: { rpcCode: -32001, hint: "no such account; check the name or id with getAccountStatus" },
  NOT_PRIMARY: {
    rpcCode: -32002,
    hint: "this mailstore is not the account's primary; retry so the request reaches the current primary (getAccountStatus shows it)",
  },
  FENCED: { rpcCode: -32003, hint: "a newer primary took over the account's log and this writer stepped down; retry against the current primary" },
  REPLICA_UNAVAILABLE: { rpcCode: -32004, hint: "the replica cannot be used now; check its mailstore with getServices and test, then restartReplicas" },
  LICENCE_EXCEEDED: { rpcCode: -32005, hint: "the HA licence quota is used up; see getLicenseInfo, remove destinations or raise the quota" },
  UNSUPPORTED_ACCOUNT_PATTERN: { rpcCode: -32006, hint: "wildcards (* and ?) are not accepted in account names; name each account or use input_file" },
  DISTRIBUTION_LIST_UNSUPPORTED: { rpcCode: -32007, hint: "distribution lists are not replicated; name their member accounts instead" },
  MAILSTORE_UNKNOWN: { rpcCode: -32008, hint: "no such mailstore; list the known ones with getServices" },
  DESTINATION_IS_PRIMARY: { rpcCode: -32009, hint: "the destination is already the account's primary; choose another mailstore" },
  ACCOUNT_EXISTS: { rpcCode: -32010, hint: "an account with this name already exists; use it or choose another name" },
  FOLDER_NOT_FOUND: { rpcCode: -32011, hint: "no such folder in this account; check the path or create the folder first" },
  FOLDER_EXISTS: { rpcCode: -32012, hint: "a folder with this path already exists; choose another path" },
  FOLDER_SYSTEM: { rpcCode: -32013, hint: "system folders (Inbox and the like) cannot be renamed, moved or deleted" },
  FOLDER_INVALID_MOVE: { rpcCode: -32014, hint: "a folder cannot be moved into itself or into one of its subfolders" },
  ITEM_NOT_FOUND: { rpcCode: -32015, hint: "no such item in this account; list the items with listItems" },
  INVALID_FLAG: { rpcCode: -32016, hint: "unknown flag; use seen, flagged, answered, draft or a keyword" },
  INVALID_FOLDER_PATH: { rpcCode: -32017, hint: "malformed folder path; use names separated by / such as Archive/2026" },
  OPERATION_UNKNOWN: { rpcCode: -32018, hint: "no operation with this id; check the operationId that was returned" },
  OVERLOADED: { rpcCode: -32019, hint: "the target is busy (its mailbox is full); retry after a short back-off" },
  MAILBOX_FULL: { aliasOf: "OVERLOADED" },
  TIMEOUT: { rpcCode: -32020, hint: "no answer in time; the request may still complete, check its effect before retrying" },
  ASK_TIMEOUT: { aliasOf: "TIMEOUT" },
  UNAVAILABLE: { rpcCode: -32021, hint: "the service that handles this is not reachable; check it runs (getServices, test) and retry" },
  NO_RESPONDER: { aliasOf: "UNAVAILABLE" },
  LOG_APPEND_FAILED: { aliasOf: "UNAVAILABLE" },
  SIGNER_NOT_TRUSTED: { aliasOf: "UNAVAILABLE" },
  NOT_SUPERVISOR: { rpcCode: -32022, hint: "this process is not the active supervisor; send the request to the active one (getServices shows it)" },
  BLOB_MISSING: { rpcCode: -32023, hint: "the message body is missing from centralized storage; run test to check the storage" },
  INVALID_MESSAGE: { rpcCode: -32024, hint: "raw is not an RFC 822 message; give headers, a blank line and the body" },
  INVALID_PAGING: { rpcCode: -32025, hint: "limit and offset must be whole numbers in range; see listItems" },
  ACCOUNT_NOT_FOUND: { aliasOf: "ACCOUNT_UNKNOWN" },
  DIRECTORY_CONFLICT: { rpcCode: -32026, hint: "the account's directory record kept changing under this change; retry" },
  DIRECTORY_RECORD_INVALID: {
    rpcCode: -32054,
    hint: "a directory record is not what mailreplica writes (data.key names it); restore it from the bucket's history or delete it with the operator identity",
  },
  APPLY_FAILED: {
    rpcCode: -32027,
    hint: "the mailstore could not apply the account's log; the account was left as it was; see getAccountStatus and the mailstore's log",
  },
  ACTOR_STOPPED: { aliasOf: "NOT_PRIMARY" },
  LICENCE_INVALID: {
    rpcCode: -32028,
    hint: "the licence file is invalid, tampered, untrusted or expired, so no new replicas can be enabled (existing ones keep working); see getLicenseInfo for the reason and install a valid licence",
  },
  REPLICA_NOT_FOUND: { rpcCode: -32029, hint: "the account has no replica on that mailstore; getAccountStatus lists where its replicas are" },
  OUTCOME_UNKNOWN: {
    rpcCode: -32030,
    hint: "the write may or may not have been stored (its acknowledgement was lost); check its effect (listItems, getItem) before retrying, or retry with the same requestId, which never writes twice",
  },
  REQUEST_ID_REUSED: {
    rpcCode: -32031,
    hint: "this requestId was already used for a call with other parameters; use a new requestId for a new request, the same one only to retry the very same call",
  },
  BLOB_UNREADABLE: {
    rpcCode: -32032,
    hint: "the message body in centralized storage was changed, damaged or replaced (it fails its authentication or its name); restore it from a backup of the blobs stream (see the operator's guide); the message's metadata is intact",
  },
  BLOB_KEY_UNKNOWN: {
    rpcCode: -32033,
    hint: "the message body is encrypted under a cluster key id this mailstore does not hold; copy the cluster.secretbox.json that has that key id (data.kid) from another node",
  },
  // Write-path bounds (group commit below max_payload, large messages, mailparser limits).
  ENTRY_TOO_LARGE: {
    rpcCode: -32050,
    hint: "this write alone is over what one append to the account's log may carry (the NATS server's max_payload); nothing was stored; make it smaller (fewer ids, shorter headers) or raise max_payload",
  },
  MESSAGE_TOO_LARGE: {
    rpcCode: -32051,
    hint: "the message is over limits.maxMessageBytes (or, given inline as raw, over what one request may carry); nothing was stored; deliver large messages through the upload object store (upload instead of raw) or raise the limit; from getItem: the text does not fit in one answer, read it in parts with getItemBody",
  },
  UPLOAD_NOT_FOUND: {
    rpcCode: -32052,
    hint: "no object with this name in the upload object store (jetstream.buckets.uploads); put the message there first, then call deliverMessage with its name",
  },
  MESSAGE_TOO_COMPLEX: {
    rpcCode: -32053,
    hint: "the message is over the parser's limits (a header section over 1 MiB, or more than 1000 MIME parts); nothing was stored",
  },
  REQUEST_TOO_LARGE: {
    rpcCode: -32045,
    hint: "the request names or would touch more accounts than a limits.* setting allows; split it into smaller requests or narrow its filters (the message names the limit)",
  },
  BUSY: {
    rpcCode: -32046,
    hint: "this process already runs as many expensive requests as limits.maxConcurrentExpensive allows; retry after the running ones end",
  },
  RESTORE_TARGET_NOT_EMPTY: {
    rpcCode: -32055,
    hint: "restoreAccount writes into a new, empty account; name an account that does not exist yet with into",
  },
  RESTORE_POINT_UNAVAILABLE: {
    rpcCode: -32056,
    hint: "the account's log no longer reaches back to that point (history is kept for retention.keepDays), or the point is after its last entry; choose a point within the kept history",
  },
  RESTORE_CONFLICT: {
    rpcCode: -32057,
    hint: "the account kept changing while restoreAccount overwrite wrote its passes; what was written stays in its log; stop what writes to the account and run the restore again (it continues from the state then)",
  },
  PROBE_NOT_CONFIGURED: { rpcCode: -32047, hint: "test and probes only reach the configured NATS servers (nats.servers); name only those, or none" },
} as const satisfies Record<string, AppErrorEntry | AppErrorAlias>;

/** Every string code in the table, aliases included. */
export type AppErrorCode = keyof typeof AppErrorCodes;

/** A string code resolved through its alias: the canonical code, its number and hint. */
export interface ResolvedAppCode {
  /** the canonical string code clients see in data.code */
  code: string;
  rpcCode: number;
  hint: string;
  /** the code as thrown, when it was an alias of `code` */
  alias?: string;
}

const APP_MIN = -32099;
const APP_MAX = -32000;

function isAlias(e: AppErrorEntry | AppErrorAlias): e is AppErrorAlias {
  return "aliasOf" in e;
}

// Checked once at import: a clash or a dangling alias is a programming error that must fail
// every test run, not surface as a wrong code on the wire.
const resolved: ReadonlyMap<string, ResolvedAppCode> = (() => {
  const entries = Object.entries(AppErrorCodes) as [string, AppErrorEntry | AppErrorAlias][];
  const byNumber = new Map<number, string>();
  const out = new Map<string, ResolvedAppCode>();
  for (const [code, e] of entries) {
    if (isAlias(e)) continue;
    if (!Number.isInteger(e.rpcCode) || e.rpcCode < APP_MIN || e.rpcCode > APP_MAX) {
      throw new Error(`jsonrpc: ${code} has number ${e.rpcCode}, outside the application range ${APP_MIN}..${APP_MAX}`);
    }
    const clash = byNumber.get(e.rpcCode);
    if (clash) throw new Error(`jsonrpc: ${code} and ${clash} both use ${e.rpcCode}`);
    byNumber.set(e.rpcCode, code);
    out.set(code, { code, rpcCode: e.rpcCode, hint: e.hint });
  }
  for (const [code, e] of entries) {
    if (!isAlias(e)) continue;
    const target = out.get(e.aliasOf);
    if (!target) throw new Error(`jsonrpc: alias ${code} points at ${e.aliasOf}, which is not a code with a number`);
    out.set(code, { ...target, alias: code });
  }
  return out;
})();

/** The canonical code, number and hint for a string code (alias or not); undefined when unknown. */
export function resolveAppCode(code: string): ResolvedAppCode | undefined {
  return resolved.get(code);
}

/** One README row per canonical code, in number order, with its aliases. */
export interface AppErrorRow {
  code: string;
  rpcCode: number;
  hint: string;
  aliases: string[];
}

export function appErrorRows(): AppErrorRow[] {
  const rows = new Map<string, AppErrorRow>();
  for (const r of resolved.values()) {
    if (r.alias === undefined) rows.set(r.code, { code: r.code, rpcCode: r.rpcCode, hint: r.hint, aliases: [] });
  }
  for (const r of resolved.values()) if (r.alias !== undefined) rows.get(r.code)?.aliases.push(r.alias);
  return [...rows.values()].sort((a, b) => b.rpcCode - a.rpcCode);
}
