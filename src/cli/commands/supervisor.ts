// `supervisor [--host NAME]`: serves the admin JSON-RPC until SIGTERM/SIGINT.
import { formatOptionsHelp, parseOptions } from "../args.js";
import type { Command, OptionsSpec } from "../types.js";
import { untilSignal } from "../signals.js";

const OPTIONS = {
  host: { type: "string", value: "NAME", description: "Name of this supervisor in getServices. Default: this machine's hostname." },
} as const satisfies OptionsSpec;

const command: Command = {
  name: "supervisor",
  summary: "Run the supervisor: the admin JSON-RPC (mr.rpc.admin) and long operations.",
  usage: "supervisor [--host NAME] [--servers URL[,URL]]",
  details: ["Options:", ...formatOptionsHelp(OPTIONS), "", "SIGTERM or SIGINT stops it gracefully."].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, OPTIONS);
    const config = io.config();
    const { SupervisorNode } = await import("../../../actors/supervisor/node.js");
    const { supervisorOptionsOf } = await import("../../../actors/supervisor/supervisor_options.js");
    const { StartupTimeoutError } = await import("../../jetstream/startup_wait.js");
    // Log events go to standard error as JSON lines (pretty on a terminal): src/log.
    const node = await SupervisorNode.start(supervisorOptionsOf(config, options.host)).catch((e: unknown) => {
      if (e instanceof StartupTimeoutError) return e;
      throw e;
    });
    // The start-up deadline passed: its own exit status, so a service manager can tell it apart.
    if (node instanceof StartupTimeoutError) {
      io.err(`mailreplica supervisor: ${node.message} [${node.code}]`);
      return node.exitCode;
    }
    await untilSignal();
    await node.stop();
    return 0;
  },
};

export default command;
