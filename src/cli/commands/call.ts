// `call <admin|mailbox> <method> [params]`: calls any JSON-RPC method and prints its result.
import { findAdminCommand } from "../admin/definitions.js";
import { findMailboxMethod, MAILBOX_METHODS } from "../admin/mailbox_specs.js";
import { methodSpecOfAdmin, parseCallParams, type MethodSpec } from "../admin/call_params.js";
import { didYouMean } from "../closest.js";
import { CliUsageError } from "../errors.js";
import type { Command } from "../types.js";

/** The spec of a known method (to type `name value` params); undefined for others, which are sent as given. */
function knownSpec(target: "admin" | "mailbox", method: string): MethodSpec | undefined {
  if (target === "mailbox") return findMailboxMethod(method);
  const def = findAdminCommand(method);
  return def && methodSpecOfAdmin(def.name, def.summary, def.params);
}

const command: Command = {
  name: "call",
  summary: "Call any JSON-RPC method on mr.rpc.admin or mr.rpc.mailbox and print its JSON result.",
  usage: "call <admin|mailbox> <method> [JSON params | name value ...]",
  details: [
    "Params are one JSON object, or name value pairs. For the known methods the values are typed by",
    "the method's params (integers, comma lists); for others a value that reads as JSON (number,",
    "true/false, null, [..], {..}) is sent as such, anything else as a string.",
    "",
    "Mailbox methods: " + MAILBOX_METHODS.map((m) => m.name).join(", ") + ".",
    "",
    "Examples:",
    `  mailreplica call mailbox createAccount name a@x.com mailHost mailstore1.example.com`,
    `  mailreplica call mailbox deliverMessage '{"account":"a@x.com","raw":"Subject: hi\\n\\nbody"}'`,
    "  mailreplica call mailbox listItems account a@x.com folder Inbox limit 10",
    "  mailreplica call mailbox deliverMessage account a@x.com file big.eml",
    "  mailreplica call mailbox getItem account a@x.com id 257 out big-copy.eml",
    "  mailreplica call admin getServices",
    "",
    "Exit 0 with the result on stdout; 1 and 'mailreplica: <message> [<code>]' on stderr when the call fails.",
  ].join("\n"),
  run: async (argv, io) => {
    const [target, method, ...rest] = argv;
    if (target !== "admin" && target !== "mailbox") {
      throw new CliUsageError(
        target === undefined
          ? "missing target: admin or mailbox"
          : `unknown target '${target}'${didYouMean(target, ["admin", "mailbox"])}; use admin (mr.rpc.admin) or mailbox (mr.rpc.mailbox)`,
      );
    }
    if (method === undefined) throw new CliUsageError(`missing method after '${target}'`);
    const spec = knownSpec(target, method);
    const params = parseCallParams(rest, spec);
    const { runCallCli } = await import("../admin/run.js");
    return runCallCli(target, spec?.name ?? method, params, io);
  },
};

export default command;
