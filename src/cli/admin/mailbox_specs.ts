// The mailbox methods on mr.rpc.mailbox (docs/jsonrpc.md) as the REPL and `call` know
// them: names, one-line summaries and param types, so `method name value ...` can be typed
// and checked before it is sent. Types and rules come from the server's specs (src/protocol);
// the mailstore validates again. Here only the help text and the CLI's own params (file, out).
import type { CallParamSpec, MethodSpec } from "./call_params.js";
import { MAILBOX_METHODS as CONTRACTS, type MailboxMethodName } from "../../protocol/mailbox_params.js";
import { callParam } from "./server_params.js";

function isText(p: readonly [string, string] | CallParamSpec): p is readonly [string, string] {
  return Array.isArray(p);
}

/** A method as the CLI knows it: the server's summary; each param typed by the server's spec, with the CLI's help text. */
function method(name: MailboxMethodName, params: readonly (readonly [string, string] | CallParamSpec)[], summary?: string): MethodSpec {
  const c = CONTRACTS[name];
  return {
    name,
    summary: summary ?? c.summary,
    params: params.map((p) => (isText(p) ? callParam(name, c, p[0], p[1]) : p)),
  };
}

const account = ["account", "account name or id"] as const;
const ids = ["ids", "item ids, comma separated"] as const;
const path = ["path", "folder path such as Archive/2026"] as const;

export const MAILBOX_METHODS: readonly MethodSpec[] = [
  method("createAccount", [
    ["name", "address such as john.doe@example.com"],
    ["mailHost", "the mailstore that becomes its primary"],
    ["type", "account (default) or distributionList"],
  ]),
  method("deliverMessage", [
    account,
    ["raw", "RFC 822 text (in the REPL, \\n in double quotes is a newline); or file, or upload"],
    {
      name: "file",
      type: "string",
      cliOnly: true,
      description: "a file holding the message: sent inline when it fits in one request, else through the upload object store",
    },
    ["upload", "name of an object already put in the upload object store (jetstream.buckets.uploads)"],
    ["folder", "default Inbox"],
    ["flags", "seen, flagged, answered, draft or keywords"],
  ]),
  method("listItems", [account, ["folder", "folder path"], ["limit", "1..1000, default 50"], ["offset", "default 0"]]),
  method("listFolders", [account]),
  method(
    "getItem",
    [
      account,
      ["id", "item id"],
      {
        name: "out",
        type: "string",
        cliOnly: true,
        description:
          "a file to write the message's exact bytes to (read with getItemBody, part after part, checked against its sha256), or - for standard output; prints id, size, sha256",
      },
    ],
    "Show one message: its metadata and raw text; with out, save the message (any size) to a file.",
  ),
  method("getItemBody", [
    account,
    ["id", "item id"],
    ["offset", "first byte, from 0 (default 0)"],
    ["length", "bytes to read, at most what one answer carries (the default: 756 KiB under a 1 MiB max_payload)"],
  ]),
  method("setFlags", [account, ids, ["flags", "flags, comma separated"]], "Set the flags of messages (replacing theirs; '' clears them)."),
  method("moveItems", [account, ids, ["folder", "target folder path"]]),
  method("deleteItems", [account, ids]),
  method("createFolder", [account, path]),
  method("renameFolder", [account, path, ["newPath", "new folder path"]]),
  method("deleteFolder", [account, path]),
];

/** The mailbox method named `name` (any case), or undefined. */
export function findMailboxMethod(name: string): MethodSpec | undefined {
  return MAILBOX_METHODS.find((m) => m.name === name) ?? MAILBOX_METHODS.find((m) => m.name.toLowerCase() === name.toLowerCase());
}
