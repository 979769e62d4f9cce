// `dev` (what `npm start` runs): the whole cluster on this machine, then the REPL.
import { resolve } from "node:path";
import { formatOptionsHelp, parseOptions } from "../args.js";
import { CliUsageError } from "../errors.js";
import type { Command, OptionsSpec } from "../types.js";
import { projectRoot } from "../../paths.js";

const OPTIONS = {
  "no-repl": { type: "boolean", description: "No REPL: start everything and wait for SIGINT/SIGTERM (for scripts)." },
  "only-nats": { type: "boolean", description: "Start only NATS (the nats-server, or the three nodes) and write the keys, then the REPL or the wait." },
  var: {
    type: "string",
    value: "DIR",
    description: "Folder for the nats store, logs, and (unless configured) data and keys. Default: MR_VAR_DIR, else <project>/var.",
  },
  "nats-nodes": {
    type: "string",
    value: "1|3",
    description: "1 (default): one nats-server. 3: a JetStream cluster of three nodes on loopback, every asset at 3 replicas.",
  },
} as const satisfies OptionsSpec;

/** --nats-nodes, checked before anything starts: 1 or 3 (2 would lose quorum with one node down). */
function natsNodesOption(value: string | undefined): 1 | 3 {
  if (value === undefined || value === "1") return 1;
  if (value === "3") return 3;
  throw new CliUsageError(`option --nats-nodes takes 1 or 3 (one nats-server, or a three-node JetStream cluster), got ${JSON.stringify(value)}`);
}

const command: Command = {
  name: "dev",
  summary: "Run a local cluster: nats-server (JetStream; or 3 clustered nodes), 3 mailstores, a supervisor, and the REPL.",
  usage: "dev [--no-repl] [--only-nats] [--nats-nodes 1|3] [--var DIR] [--servers nats://127.0.0.1:PORT[,...]]",
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
    "--nats-nodes 3 (npm start -- --nats-nodes 3) runs, instead of step 1, three nats-server nodes",
    "n1..n3 clustered on 127.0.0.1 (cluster mailreplica-dev): client ports from the configured",
    "servers (three URLs, or one URL's port and the next two: 4222, 4223, 4224 by default); route",
    "and monitoring ports free ones chosen at each start and printed; stores <var>/nats/n1..n3, logs",
    "<var>/log/nats-n1.log...; three JetStream nats-servers already listening there are used instead.",
    "dev waits until the cluster takes 3-replica assets (meta leader elected, every node current)",
    "before it starts the mailstores, and gives them and the supervisor all three URLs and",
    "MR_JS_REPLICAS=3. The mailstores' data is <data>/cluster/<host>: the single server's store and",
    "data are left as they are, and each mode finds its own data again.",
    "",
    "Environment: MR_VAR_DIR sets the var folder (--var wins); MR_SERVERS the NATS address",
    "(e.g. MR_SERVERS=nats://127.0.0.1:4223 npm start when 4222 is taken).",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, OPTIONS);
    const natsNodes = natsNodesOption(options["nats-nodes"]);
    // npm start runs from the checkout: an installed mailreplica's /etc config is not its.
    const config = io.config(undefined, { ignoreSystemFile: true });
    const { runDev, clusterNodeAddresses, DevError } = await import("../../dev/index.js");
    if (natsNodes === 3) {
      try {
        clusterNodeAddresses(config.nats.servers);
      } catch (e) {
        // The configured addresses do not fit three nodes: a usage error, found before anything starts.
        if (e instanceof DevError) throw new CliUsageError(e.message, e.code);
        throw e;
      }
    }
    const rawVar = options.var ?? (io.env.MR_VAR_DIR?.trim() || undefined);
    const varDir = rawVar !== undefined ? resolve(io.cwd, rawVar) : resolve(projectRoot(), "var");
    return runDev({
      config,
      varDir,
      natsNodes,
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
