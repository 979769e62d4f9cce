// The mailbox methods on mr.rpc.mailbox (docs/jsonrpc.md) as a wire contract: each method's summary,
// params, result (mailbox_results.ts) and errors (method_errors.ts), defined once. The mailstore validates with these specs, rpc.discover publishes
// them, and the CLI's `call`/REPL take their types from them. Light on purpose (no NATS, no
// SQLite, no mail parser), so the CLI can load it for --help.
import { int, intList, oneOf, str, strList } from "../jsonrpc/param_specs.js";
import type { MethodErrorSpec } from "../jsonrpc/openrpc.js";
import { hostParam } from "../directory/key_params.js";
import { REQUEST_ID_PATTERN, REQUEST_ID_RULE } from "../mail/requests.js";
import { contract } from "./method_contract.js";
import { MAILBOX_RESULTS } from "./mailbox_results.js";
import { ACCOUNT_ROUTING, BODY_READ, err, FOLDER_PATH, invalidParams, ITEMS_MISSING, LOG_WRITE, RECORD_INVALID } from "./method_errors.js";

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
const folderMissing = (which: string) => err("FOLDER_NOT_FOUND", `${which} does not exist in the account`);
type MailboxResult = (typeof MAILBOX_RESULTS)[keyof typeof MAILBOX_RESULTS];
/** INVALID_PARAMS (the method's own meaning when `own` gives one), then `shared` and `own`. */
const answers = (result: MailboxResult, shared: readonly MethodErrorSpec[], own: MethodErrorSpec[]) => ({
  result,
  errors: [own.find((e) => e.code === "INVALID_PARAMS") ?? invalidParams(), ...shared, ...own.filter((e) => e.code !== "INVALID_PARAMS")],
});
/** A read on the account's primary, after its actor's read barrier. */
const read = (result: MailboxResult, ...own: MethodErrorSpec[]) => answers(result, ACCOUNT_ROUTING, own);
/** A write through the account's actor and log. */
const write = (result: MailboxResult, ...own: MethodErrorSpec[]) => answers(result, [...ACCOUNT_ROUTING, ...LOG_WRITE], own);
const requestId = () =>
  str({
    maxLength: 128,
    pattern: REQUEST_ID_PATTERN,
    patternHint: REQUEST_ID_RULE,
    description: "idempotency key: a retry with the same requestId and params returns the first outcome and never writes twice",
  });

export const MAILBOX_METHODS = {
  createAccount: contract(
    "Create an account with its primary on a mailstore.",
    {
      name: str({ required: true, maxLength: 254, description: "address such as john.doe@example.com" }),
      mailHost: hostParam({ required: true, description: "the mailstore that becomes its primary" }),
      type: oneOf(["account", "distributionList"] as const, { default: "account", description: "an account or a distribution list" }),
      requestId: requestId(),
    },
    {
      result: MAILBOX_RESULTS.createAccount,
      errors: [
        invalidParams("a param is wrong, or name is not a valid address"),
        err("UNSUPPORTED_ACCOUNT_PATTERN", "name holds a wildcard (* or ?)"),
        err("MAILSTORE_UNKNOWN", "mailHost is not a registered (or running) mailstore"),
        err("ACCOUNT_EXISTS", "the name is taken (by another mailHost or type)"),
        err("NOT_PRIMARY", "the new account's actor stopped while being created; retry"),
        err("OVERLOADED", "the new account's actor has too many requests queued"),
        ...LOG_WRITE.filter((e) => e.code !== "ENTRY_TOO_LARGE"),
        RECORD_INVALID,
        err("UNAVAILABLE", "no supervisor answers (only it writes account records), or JetStream or mailHost did not answer; retry"),
        err("TIMEOUT", "an answer it waited for did not come in time; it may still complete"),
      ],
    },
  ),
  deliverMessage: contract(
    "Deliver an RFC 822 message into a folder (default Inbox).",
    {
      account: account(),
      // Inline: bounded by what fits in one request (the NATS max_payload) and by limits.maxMessageBytes.
      raw: str({ maxLength: MAX_MESSAGE_BYTES_CEILING, description: "the RFC 822 message inline (exactly one of raw or upload)" }),
      // Larger messages: the name of an object the client put in the upload object store.
      upload: str({
        maxLength: 200,
        pattern: UPLOAD_NAME_PATTERN,
        patternHint: UPLOAD_NAME_RULE,
        description: "name of an object in the upload object store holding the message (exactly one of raw or upload)",
      }),
      folder: str({ default: "Inbox", maxLength: 2048, description: "folder path" }),
      flags: strList({ default: [], maxItems: 64, description: "seen, flagged, answered, draft or keywords" }),
      requestId: requestId(),
    },
    write(
      MAILBOX_RESULTS.deliverMessage,
      invalidParams("a param is wrong, or not exactly one of raw and upload was given"),
      folderMissing("folder"),
      FOLDER_PATH,
      err("INVALID_FLAG", "a flag is neither a system flag nor a valid keyword"),
      err("INVALID_MESSAGE", "the message is not RFC 822 (headers, a blank line, the body)"),
      err("MESSAGE_TOO_LARGE", "the message is over limits.maxMessageBytes; nothing was stored"),
      err("MESSAGE_TOO_COMPLEX", "the message is over the parser's limits (headers over 1 MiB, over 1000 MIME parts)"),
      err("UPLOAD_NOT_FOUND", "no object named upload in the upload object store"),
    ),
  ),
  listItems: contract(
    "List an account's messages (of one folder, or all), newest first.",
    {
      account: account(),
      folder: str({ maxLength: 2048, description: "folder path (default: every folder)" }),
      limit: int({ min: 1, max: 1000, default: 50, description: "items per page" }),
      offset: int({ min: 0, default: 0, description: "items to skip" }),
    },
    read(MAILBOX_RESULTS.listItems, folderMissing("folder"), FOLDER_PATH),
  ),
  listFolders: contract("List an account's folders.", { account: account() }, read(MAILBOX_RESULTS.listFolders)),
  getItem: contract(
    "Show one message: its metadata and raw text.",
    { account: account(), id: int({ required: true, min: 1, description: "item id" }) },
    read(
      MAILBOX_RESULTS.getItem,
      err("ITEM_NOT_FOUND", "no item with this id in the account"),
      err("MESSAGE_TOO_LARGE", "the text does not fit in one answer; read it with getItemBody"),
      ...BODY_READ,
    ),
  ),
  // Its own method rather than ranges on getItem: the answer is bytes (base64, exact even
  // for 8-bit messages), with a shape and a size bound of its own whatever the metadata.
  getItemBody: contract(
    "Read part of a message's exact bytes (base64), with the size and sha256 of the whole.",
    {
      account: account(),
      id: int({ required: true, min: 1, description: "item id" }),
      offset: int({ min: 0, default: 0, description: "first byte" }),
      length: int({ min: 1, description: "bytes to read (default and most: what one answer carries under the NATS max_payload)" }),
    },
    read(
      MAILBOX_RESULTS.getItemBody,
      invalidParams("a param is wrong, length is over what one answer carries, or offset is at or past the body's end"),
      err("ITEM_NOT_FOUND", "no item with this id in the account"),
      err("BUSY", "limits.maxConcurrentExpensive large bodies are being loaded here"),
      ...BODY_READ,
    ),
  ),
  setFlags: contract(
    "Set the flags of messages (replacing theirs; an empty list clears them).",
    {
      account: account(),
      ids: ids(),
      flags: strList({ required: true, minItems: 0, maxItems: 64, description: "seen, flagged, answered, draft or keywords" }),
      requestId: requestId(),
    },
    write(MAILBOX_RESULTS.setFlags, ITEMS_MISSING, err("INVALID_FLAG", "a flag is neither a system flag nor a valid keyword")),
  ),
  moveItems: contract(
    "Move messages to a folder.",
    { account: account(), ids: ids(), folder: path("target folder path"), requestId: requestId() },
    write(MAILBOX_RESULTS.moveItems, ITEMS_MISSING, folderMissing("folder"), FOLDER_PATH),
  ),
  deleteItems: contract("Delete messages.", { account: account(), ids: ids(), requestId: requestId() }, write(MAILBOX_RESULTS.deleteItems, ITEMS_MISSING)),
  createFolder: contract(
    "Create a folder.",
    { account: account(), path: path("folder path such as Archive/2026"), requestId: requestId() },
    write(
      MAILBOX_RESULTS.createFolder,
      err("FOLDER_EXISTS", "a folder with this path exists (paths compare ignoring case)"),
      folderMissing("the parent folder"),
      FOLDER_PATH,
    ),
  ),
  renameFolder: contract(
    "Rename or move a folder.",
    { account: account(), path: path("folder path"), newPath: path("new folder path"), requestId: requestId() },
    write(
      MAILBOX_RESULTS.renameFolder,
      folderMissing("path (or newPath's parent)"),
      err("FOLDER_EXISTS", "a folder with newPath exists"),
      err("FOLDER_SYSTEM", "path is a system folder (Inbox and the like)"),
      err("FOLDER_INVALID_MOVE", "newPath is inside path"),
      FOLDER_PATH,
    ),
  ),
  deleteFolder: contract(
    "Delete a folder and its messages.",
    { account: account(), path: path("folder path"), requestId: requestId() },
    write(MAILBOX_RESULTS.deleteFolder, folderMissing("path"), err("FOLDER_SYSTEM", "path is a system folder (Inbox and the like)"), FOLDER_PATH),
  ),
} as const;

export type MailboxMethodName = keyof typeof MAILBOX_METHODS;
