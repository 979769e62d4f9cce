// The OpenRPC documents rpc.discover answers on mr.rpc.admin and mr.rpc.mailbox, and
// docs/jsonrpc.md is generated from: each built once, from the contracts the servers
// validate with (params) and answer by (result, errors).
import { deepFreeze, openRpcDocument, type DescribedMethod, type OpenRpcDocument } from "../jsonrpc/openrpc.js";
import { VERSION } from "../version.js";
import { ADMIN_METHODS } from "./admin_params.js";
import { MAILBOX_METHODS } from "./mailbox_params.js";
import type { MethodContracts } from "./method_contract.js";
import { ADMIN_SUBJECT, MAILBOX_SUBJECT } from "./subjects.js";

// The subjects the documents describe (one definition: subjects.ts).
export const ADMIN_RPC_SUBJECT = ADMIN_SUBJECT;
export const MAILBOX_RPC_SUBJECT = MAILBOX_SUBJECT;

function described(contracts: MethodContracts): DescribedMethod[] {
  return Object.entries(contracts).map(([name, c]) => ({ name, summary: c.summary, params: c.params, result: c.result, errors: c.errors }));
}

function build(title: string, description: string, contracts: MethodContracts): OpenRpcDocument {
  const doc = openRpcDocument({ title, version: VERSION, description, methods: described(contracts) });
  // A copy of its own (no object shared with the param specs), then frozen: one for every caller.
  return deepFreeze(JSON.parse(JSON.stringify(doc)) as OpenRpcDocument);
}

let admin: OpenRpcDocument | undefined;
let mailbox: OpenRpcDocument | undefined;

/** The admin methods (served by the active supervisor on mr.rpc.admin). */
export function adminDocument(): OpenRpcDocument {
  admin ??= build(
    "mailreplica admin",
    `JSON-RPC 2.0 over NATS requests on ${ADMIN_RPC_SUBJECT}, answered by the active supervisor: the Carbonio-compatible admin commands. Params are by name; a list param also takes one comma-separated string.`,
    ADMIN_METHODS,
  );
  return admin;
}

/** The mailbox methods (any mailstore on mr.rpc.mailbox, routed to the account's primary). */
export function mailboxDocument(): OpenRpcDocument {
  mailbox ??= build(
    "mailreplica mailbox",
    `JSON-RPC 2.0 over NATS requests on ${MAILBOX_RPC_SUBJECT}, answered by any mailstore and routed to the account's primary. Params are by name; account is a name or an id.`,
    MAILBOX_METHODS,
  );
  return mailbox;
}
