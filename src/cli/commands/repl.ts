// `repl`: the interactive shell for admin commands and mailbox methods, with live notifications.
import { parseOptions } from "../args.js";
import type { Command } from "../types.js";

const command: Command = {
  name: "repl",
  summary: "Interactive shell: admin commands (Carbonio syntax), mailbox methods, live notifications.",
  usage: "repl [--servers URL[,URL]]",
  details: [
    "Type 'help' for the commands; exit, quit or Ctrl-D leaves. Admin commands take the same params",
    "as on the command line, plus --json, --sync and --progress. Mailbox methods take a JSON object",
    '(deliverMessage {"account":"a@x.com","raw":"Subject: hi\\n\\nbody"}) or name value pairs',
    "(listItems account a@x.com folder Inbox). Notifications (MR_NOTIFY) are printed as they arrive.",
    "",
    "Tab completes command words, param names, mailstore hosts (getServices) and account names",
    "(getAllAccounts: every account in the directory). At a terminal, lines are kept across runs in",
    "$XDG_STATE_HOME/mailreplica/repl_history (~/.local/state/...; mode 0600, the last 1,000;",
    "MR_REPL_HISTORY=FILE moves it, MR_REPL_HISTORY=none keeps none); lines that may hold a",
    "secret (a password, a seed, user:pass@ in a URL) or a message's raw text are not kept.",
    "",
    "With stdin not a terminal, lines are read and run in order until EOF, without prompts;",
    "the exit code is 1 when any line failed, else 0.",
  ].join("\n"),
  run: async (argv, io) => {
    parseOptions(argv, {});
    const { nats } = io.config();
    const servers = nats.servers;
    const { Repl, historyFile } = await import("../../repl/index.js");
    const { CallError } = await import("../admin/errors.js");
    const interactive = process.stdin.isTTY === true;
    let repl;
    try {
      repl = await Repl.start({
        servers,
        auth: nats,
        cwd: io.cwd,
        uploadsBucket: io.config().jetstream.buckets.uploads,
        historyFile: historyFile(io.env) ?? null,
        banner: interactive ? [`mailreplica REPL on ${servers.join(",")}; 'help' lists the commands, 'exit' or Ctrl-D leaves.`] : [],
      });
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
      io.err(`mailreplica: ${e.line}`);
      return 1;
    }
    const stop = (): void => repl.close();
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    try {
      const { failures } = await repl.finished;
      // A script learns that a line failed; an operator at the prompt already saw it.
      return failures > 0 && !interactive ? 1 : 0;
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  },
};

export default command;
