// `mailstore --host H [--data DIR]`: runs one mailstore until SIGTERM/SIGINT (graceful stop).
import { resolve } from "node:path";
import { formatOptionsHelp, parseOptions } from "../args.js";
import type { Command, OptionsSpec } from "../types.js";
import { untilSignal } from "../signals.js";

const OPTIONS = {
  host: { type: "string", value: "H", description: "This mailstore's FQDN, e.g. mailstore1.example.com (required)." },
  data: { type: "string", value: "DIR", description: "Folder of its metadata.sqlite. Default: config data.dir (MR_DATA_DIR)." },
} as const satisfies OptionsSpec;

const command: Command = {
  name: "mailstore",
  summary: "Run a mailstore: its primary accounts, its replicas, the mailbox JSON-RPC.",
  usage: "mailstore --host H [--data DIR] [--servers URL[,URL]]",
  details: [
    "Options:",
    ...formatOptionsHelp(OPTIONS),
    "",
    "Keys must exist first: mailreplica keys init --host H. SIGTERM or SIGINT stops it gracefully.",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, OPTIONS);
    const { CliUsageError } = await import("../errors.js");
    if (!options.host) throw new CliUsageError("mailstore needs --host H (this mailstore's FQDN, e.g. mailstore1.example.com)");
    const config = io.config();
    const dataDir = options.data !== undefined ? resolve(io.cwd, options.data) : config.data.dir;
    const { MailstoreNode } = await import("../../../actors/mailstore/node.js");
    const { mailstoreOptionsOf } = await import("../../../actors/mailstore/options.js");
    const { StartupTimeoutError } = await import("../../jetstream/startup_wait.js");
    // Log events go to standard error as JSON lines (pretty on a terminal): src/log.
    const node = await MailstoreNode.start(mailstoreOptionsOf(config, options.host, dataDir)).catch((e: unknown) => {
      if (e instanceof StartupTimeoutError) return e;
      throw e;
    });
    // The start-up deadline passed: its own exit status, so a service manager can tell it apart.
    if (node instanceof StartupTimeoutError) {
      io.err(`mailreplica mailstore: ${node.message} [${node.code}]`);
      return node.exitCode;
    }
    await untilSignal();
    await node.stop();
    return 0;
  },
};

export default command;
