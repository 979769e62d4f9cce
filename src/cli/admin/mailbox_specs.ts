// The mailbox methods on mr.rpc.mailbox (DESIGN.md section 9) as the REPL and `call` know
// them: names, one-line summaries and param types, so `method name value ...` can be typed
// and checked before it is sent. The mailstore validates again; this is for the operator.
import type { CallParamSpec, MethodSpec } from "./call_params.js";

const account: CallParamSpec = { name: "account", type: "string", mandatory: true, description: "account name or id" };
const ids: CallParamSpec = { name: "ids", type: "intList", mandatory: true, description: "item ids, comma separated" };
const path: CallParamSpec = { name: "path", type: "string", mandatory: true, description: "folder path such as Archive/2026" };

export const MAILBOX_METHODS: readonly MethodSpec[] = [
  {
    name: "createAccount",
    summary: "Create an account with its primary on a mailstore.",
    params: [
      { name: "name", type: "string", mandatory: true, description: "address such as john.doe@example.com" },
      { name: "mailHost", type: "string", mandatory: true, description: "the mailstore that becomes its primary" },
      { name: "type", type: "string", description: "account (default) or distributionList" },
    ],
  },
  {
    name: "deliverMessage",
    summary: "Deliver an RFC 822 message into a folder (default Inbox).",
    params: [
      account,
      { name: "raw", type: "string", description: "RFC 822 text (in the REPL, \\n in double quotes is a newline); or file, or upload" },
      { name: "file", type: "string", description: "a file holding the message: sent inline when it fits in one request, else through the upload object store" },
      { name: "upload", type: "string", description: "name of an object already put in the upload object store (jetstream.buckets.uploads)" },
      { name: "folder", type: "string", description: "default Inbox" },
      { name: "flags", type: "list", description: "seen, flagged, answered, draft or keywords" },
    ],
  },
  {
    name: "listItems",
    summary: "List an account's messages (of one folder, or all), newest first.",
    params: [account, { name: "folder", type: "string", description: "folder path" }, { name: "limit", type: "integer", description: "1..1000, default 50" }, { name: "offset", type: "integer", description: "default 0" }],
  },
  { name: "listFolders", summary: "List an account's folders.", params: [account] },
  {
    name: "getItem",
    summary: "Show one message: its metadata and raw text; with out, save the message (any size) to a file.",
    params: [
      account,
      { name: "id", type: "integer", mandatory: true, description: "item id" },
      { name: "out", type: "string", description: "a file to write the message's exact bytes to (read with getItemBody, part after part, checked against its sha256), or - for standard output; prints id, size, sha256" },
    ],
  },
  {
    name: "getItemBody",
    summary: "Read part of a message's exact bytes (base64), with the size and sha256 of the whole.",
    params: [
      account,
      { name: "id", type: "integer", mandatory: true, description: "item id" },
      { name: "offset", type: "integer", description: "first byte, from 0 (default 0)" },
      { name: "length", type: "integer", description: "bytes to read, at most what one answer carries (the default: 756 KiB under a 1 MiB max_payload)" },
    ],
  },
  { name: "setFlags", summary: "Set the flags of messages (replacing theirs; '' clears them).", params: [account, ids, { name: "flags", type: "list", mandatory: true, description: "flags, comma separated" }] },
  { name: "moveItems", summary: "Move messages to a folder.", params: [account, ids, { name: "folder", type: "string", mandatory: true, description: "target folder path" }] },
  { name: "deleteItems", summary: "Delete messages.", params: [account, ids] },
  { name: "createFolder", summary: "Create a folder.", params: [account, path] },
  { name: "renameFolder", summary: "Rename or move a folder.", params: [account, path, { name: "newPath", type: "string", mandatory: true, description: "new folder path" }] },
  { name: "deleteFolder", summary: "Delete a folder and its messages.", params: [account, path] },
];

/** The mailbox method named `name` (any case), or undefined. */
export function findMailboxMethod(name: string): MethodSpec | undefined {
  return MAILBOX_METHODS.find((m) => m.name === name) ?? MAILBOX_METHODS.find((m) => m.name.toLowerCase() === name.toLowerCase());
}
