// Params whose values become storage keys or subjects: a mailstore host (KV key
// `mailstore.<host>`, subject `mr.node.<host>.*`), an account id (`acct.<id>`, `mr.tx.<id>`)
// and an operation id (`op.<id>`). NATS gives `*`, `>`, `.`, spaces and control characters a
// meaning there, so each is checked against its exact form before any handler runs: a bad
// value is a -32602 naming the param and the allowed form, never a KV or subject error.
import { str } from "../jsonrpc/param_specs.js";
import { HOST_NAME_PATTERN } from "../envelope/types.js";
import { ACCOUNT_ID_PATTERN } from "./types.js";

/** A random (v4-style) UUID in lower case, as randomUUID() writes account and operation ids. */
export const UUID_RULE = "a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e (lower-case hex)";
export const HOST_RULE = 'a DNS host name (letters, digits, inner "-" and "." only, like mailstore1.example.com)';

/**
 * The longest account name or id a param may hold (the mailbox methods' `account` limit): a
 * name is looked up under the KV key `name.<hex of its UTF-8>`, and a subject longer than
 * nats-server's max_control_line (4096) makes the server drop the whole connection.
 */
export const ACCOUNT_REF_MAX_LENGTH = 320;

/** Item rules for a list of account names or ids (strOrList/strList `item`). */
export const ACCOUNT_REF_ITEM = { maxLength: ACCOUNT_REF_MAX_LENGTH } as const;

interface KeyParamOptions {
  required?: boolean;
  /** what the param means, in one line (rpc.discover) */
  description?: string;
}

/** A mailstore's host name. */
export function hostParam<O extends KeyParamOptions>(opts?: O) {
  return str({ ...(opts ?? ({} as O)), maxLength: 253, pattern: HOST_NAME_PATTERN, patternHint: HOST_RULE });
}

/** An account id (not a name: these methods are asked by id only). */
export function accountIdParam<O extends KeyParamOptions>(opts?: O) {
  return str({ ...(opts ?? ({} as O)), maxLength: 36, pattern: ACCOUNT_ID_PATTERN, patternHint: UUID_RULE });
}

/** An operation id, as a command returned it. */
export function operationIdParam<O extends KeyParamOptions>(opts?: O) {
  return str({ ...(opts ?? ({} as O)), maxLength: 36, pattern: ACCOUNT_ID_PATTERN, patternHint: UUID_RULE });
}
