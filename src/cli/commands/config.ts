// `config show` and `config check`: what configuration a process would run with.
import { commandGroup } from "../command.js";
import { parseOptions } from "../args.js";
import type { Command } from "../types.js";

const show: Command = {
  name: "show",
  summary: "Print the effective configuration as JSON (defaults < config file or system file < MR_* < options).",
  usage: "config show [--config FILE] [--servers URL[,URL]]",
  details:
    "The output holds no secrets, so it can be shared: NATS URLs with credentials are refused, credential files are shown by path, a password from the environment as (set).",
  run: async (argv, io) => {
    parseOptions(argv, {});
    const { shownConfig } = await import("../../config/index.js");
    io.json(shownConfig(io.config()));
    return 0;
  },
};

const check: Command = {
  name: "check",
  summary: "Validate the configuration; print ok, or every problem (exit 2).",
  usage: "config check [--config FILE]",
  details:
    "Checks the defaults merged with the config file (--config, else MR_CONFIG, else the system file /etc/mailreplica/config.json or MR_SYSTEM_CONFIG), the MR_* variables and --servers.\nExit 0 when valid, 2 when not.",
  run: async (argv, io) => {
    parseOptions(argv, {});
    const { ConfigError, configFileInUse } = await import("../../config/index.js");
    try {
      io.config();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (io.globals.json) io.json({ ok: false, code: e.code, message: e.message, problems: e.problems });
      else for (const line of e.message.split("\n")) io.err(line);
      return 2;
    }
    const file = configFileInUse({ ...(io.globals.configFile !== undefined ? { file: io.globals.configFile } : {}), env: io.env, cwd: io.cwd });
    if (io.globals.json) io.json({ ok: true, ...(file ? { file } : {}) });
    else io.out(`ok: the configuration is valid${file ? ` (config file ${file})` : " (no config file; defaults and environment)"}`);
    return 0;
  },
};

export default commandGroup({
  name: "config",
  summary: "Show or check the configuration.",
  subcommands: [show, check],
});
