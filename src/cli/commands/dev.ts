// `dev` (what `npm start` runs): the whole cluster on this machine, then the REPL.
import { resolve } from "node:path";
import { formatOptionsHelp, parseOptions } from "../args.js";
import type { Command, OptionsSpec } from "../types.js";
import { projectRoot } from "../../paths.js";

const OPTIONS = {
  "no-repl": { type: "boolean", description: "No REPL: start everything and wait for SIGINT/SIGTERM (for scripts)." },
  "only-nats": { type: "boolean", description: "Start only the nats-server (and write the keys), then the REPL or the wait." },
  var: { type: "string", value: "DIR", description: "Folder for the nats store, logs, and (unless configured) data and keys. Default: MR_VAR_DIR, else <project>/var." },
} as const satisfies OptionsSpec;

const command: Command = {
  name: "dev",
  summary: "Run a local cluster: nats-server (JetStream), 3 mailstores, a supervisor, and the REPL.",
  usage: "dev [--no-repl] [--only-nats] [--var DIR] [--servers nats://127.0.0.1:PORT]",
  details: [
    "Options:",
    ...formatOptionsHelp(OPTIONS),
    "",
    "Starts, each only when needed and in this order:",
    "  1. a nats-server with JetStream on 127.0.0.1 at the port of the first configured server",
    "     (default 4222), store <var>/nats, log <var>/log/nats-server.log; a JetStream nats-server",
    "     already listening there is used instead (and left running);",
    "  2. key files of mailstore1..3.example.com in the keys folder (config keys.dir, else <var>/keys);",
    "  3. mailstore1.example.com, mailstore2.example.com, mailstore3.example.com (data <data>/<host>,",
    "     data = config data.dir, else <var>/data; logs <var>/log/<host>.log);",
    "  4. a supervisor (log <var>/log/supervisor.log).",
    "Then the REPL. exit, Ctrl-D, SIGINT or SIGTERM stops everything dev started: mailstores and",
    "supervisor get SIGTERM (SIGKILL after 10 s), the nats-server stops last. A new run finds the",
    "same data again.",
    "",
    "Environment: MR_VAR_DIR sets the var folder (--var wins); MR_SERVERS the NATS address",
    "(e.g. MR_SERVERS=nats://127.0.0.1:4223 npm start when 4222 is taken).",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, OPTIONS);
    const config = io.config();
    const rawVar = options.var ?? (io.env.MR_VAR_DIR?.trim() || undefined);
    const varDir = rawVar !== undefined ? resolve(io.cwd, rawVar) : resolve(projectRoot(), "var");
    const { runDev } = await import("../../dev/index.js");
    return runDev({
      config,
      varDir,
      repl: options["no-repl"] !== true,
      onlyNats: options["only-nats"] === true,
      ...(io.globals.configFile !== undefined ? { configFile: io.globals.configFile } : {}),
      cwd: io.cwd,
      out: io.out,
      err: io.err,
    });
  },
};

export default command;
