// The admin commands (Carbonio's words, docs/jsonrpc.md): one CLI command per admin
// method on mr.rpc.admin, built from the definitions the REPL uses too.
import { ADMIN_COMMANDS, adminDetails } from "../admin/definitions.js";
import type { AdminCommandDef } from "../admin/types.js";
import type { Command } from "../types.js";

const OUTPUT_NOTE = [
  "",
  "Output is human-readable; --json prints the JSON result. A failed call prints 'mailreplica: <message> [<code>]' and exits 1.",
  "With --sync (or --progress, which also prints progress lines) an operation is waited for: exit 0 successful, 1 failed, 2 stopped, 3 removed, 4 interrupted.",
];

function command(def: AdminCommandDef): Command {
  return {
    name: def.name,
    summary: def.summary,
    usage: `${def.name} ${def.usage}`.trimEnd(),
    details: [...adminDetails(def, "mailreplica "), ...OUTPUT_NOTE].join("\n"),
    run: async (argv, io) => {
      const { runAdminCli } = await import("../admin/run.js");
      return runAdminCli(def, argv, io);
    },
  };
}

export default ADMIN_COMMANDS.map(command);
