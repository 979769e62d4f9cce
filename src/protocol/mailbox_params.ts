// The mailbox methods on mr.rpc.mailbox (DESIGN §9) as a wire contract: each method's summary
// and params, defined once. The mailstore validates with these specs, rpc.discover publishes
// them, and the CLI's `call`/REPL take their types from them. Light on purpose (no NATS, no
// SQLite, no mail parser), so the CLI can load it for --help.
import { int, intList, oneOf, str, strList } from "../jsonrpc/param_specs.js";
import { hostParam } from "../directory/key_params.js";
import { REQUEST_ID_PATTERN, REQUEST_ID_RULE } from "../mail/requests.js";
import { contract } from "./method_contract.js";

/** 1–200 characters of letters, digits, '.', '_', '@', ':' and '-', starting with a letter or digit. */
export const UPLOAD_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,199}$/;
export const UPLOAD_NAME_RULE = "letters A-Z a-z, digits 0-9, '.', '_', '@', ':' and '-', starting with a letter or digit";

/** Most item ids one call may name. */
export const IDS_MAX = 1_000;
/** The schema's bound on inline raw (characters); limits.maxMessageBytes (bytes) is checked on parsing. */
export const MAX_MESSAGE_BYTES_CEILING = 512 * 1024 * 1024;

const account = () => str({ required: true, maxLength: 320, description: "account name or id" });
const ids = () => intList({ required: true, min: 1, minItems: 1, maxItems: IDS_MAX, description: "item ids" });
const path = (description: string) => str({ required: true, maxLength: 2048, description });
const requestId = () =>
  str({ maxLength: 128, pattern: REQUEST_ID_PATTERN, patternHint: REQUEST_ID_RULE, description: "idempotency key: a retry with the same requestId and params returns the first outcome and never writes twice" });

export const MAILBOX_METHODS = {
  createAccount: contract("Create an account with its primary on a mailstore.", {
    name: str({ required: true, maxLength: 254, description: "address such as john.doe@example.com" }),
    mailHost: hostParam({ required: true, description: "the mailstore that becomes its primary" }),
    type: oneOf(["account", "distributionList"] as const, { default: "account", description: "an account or a distribution list" }),
    requestId: requestId(),
  }),
  deliverMessage: contract("Deliver an RFC 822 message into a folder (default Inbox).", {
    account: account(),
    // Inline: bounded by what fits in one request (the NATS max_payload) and by limits.maxMessageBytes.
    raw: str({ maxLength: MAX_MESSAGE_BYTES_CEILING, description: "the RFC 822 message inline (exactly one of raw or upload)" }),
    // Larger messages: the name of an object the client put in the upload object store.
    upload: str({ maxLength: 200, pattern: UPLOAD_NAME_PATTERN, patternHint: UPLOAD_NAME_RULE, description: "name of an object in the upload object store holding the message (exactly one of raw or upload)" }),
    folder: str({ default: "Inbox", maxLength: 2048, description: "folder path" }),
    flags: strList({ default: [], maxItems: 64, description: "seen, flagged, answered, draft or keywords" }),
    requestId: requestId(),
  }),
  listItems: contract("List an account's messages (of one folder, or all), newest first.", {
    account: account(),
    folder: str({ maxLength: 2048, description: "folder path (default: every folder)" }),
    limit: int({ min: 1, max: 1000, default: 50, description: "items per page" }),
    offset: int({ min: 0, default: 0, description: "items to skip" }),
  }),
  listFolders: contract("List an account's folders.", { account: account() }),
  getItem: contract("Show one message: its metadata and raw text.", { account: account(), id: int({ required: true, min: 1, description: "item id" }) }),
  // Its own method rather than ranges on getItem: the answer is bytes (base64, exact even
  // for 8-bit messages), with a shape and a size bound of its own whatever the metadata.
  getItemBody: contract("Read part of a message's exact bytes (base64), with the size and sha256 of the whole.", {
    account: account(),
    id: int({ required: true, min: 1, description: "item id" }),
    offset: int({ min: 0, default: 0, description: "first byte" }),
    length: int({ min: 1, description: "bytes to read (default and most: what one answer carries under the NATS max_payload)" }),
  }),
  setFlags: contract("Set the flags of messages (replacing theirs; an empty list clears them).", {
    account: account(),
    ids: ids(),
    flags: strList({ required: true, minItems: 0, maxItems: 64, description: "seen, flagged, answered, draft or keywords" }),
    requestId: requestId(),
  }),
  moveItems: contract("Move messages to a folder.", { account: account(), ids: ids(), folder: path("target folder path"), requestId: requestId() }),
  deleteItems: contract("Delete messages.", { account: account(), ids: ids(), requestId: requestId() }),
  createFolder: contract("Create a folder.", { account: account(), path: path("folder path such as Archive/2026"), requestId: requestId() }),
  renameFolder: contract("Rename or move a folder.", { account: account(), path: path("folder path"), newPath: path("new folder path"), requestId: requestId() }),
  deleteFolder: contract("Delete a folder and its messages.", { account: account(), path: path("folder path"), requestId: requestId() }),
} as const;

export type MailboxMethodName = keyof typeof MAILBOX_METHODS;
