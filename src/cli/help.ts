// Help texts: the command list with the environment variables, and one command's usage.
import { envVariables } from "../config/index.js";
import { formatOptionsHelp } from "./args.js";
import { listCommands } from "./command.js";
import { GLOBAL_OPTIONS } from "./globals.js";
import type { Command } from "./types.js";

function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const w = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`);
}

/** Every runnable command path with its summary: `keys init`, `config show`, ... */
function commandRows(): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const visit = (c: Command, prefix: string): void => {
    const path = prefix ? `${prefix} ${c.name}` : c.name;
    if (c.subcommands?.length) for (const s of c.subcommands) visit(s, path);
    else rows.push([path, c.summary]);
  };
  for (const c of listCommands()) visit(c, "");
  return rows;
}

/** `mailreplica --help`: usage, commands, global options, environment variables. */
export function generalHelp(version: string): string[] {
  const commands = commandRows();
  return [
    `mailreplica ${version}: account-based mailbox replication over NATS JetStream`,
    "",
    "Usage: mailreplica [global options] <command> [arguments]",
    "",
    "Commands:",
    ...(commands.length ? table(commands) : ["  (none registered)"]),
    "",
    "Global options:",
    ...formatOptionsHelp(GLOBAL_OPTIONS),
    "",
    "Environment variables (config file < environment < command-line options):",
    ...table([
      ...envVariables().map((v): [string, string] => [v.name, `${v.description} ${v.key ? `[${v.key}] ` : ""}Values: ${v.values}.`]),
      ["MR_DEBUG", "Set to 1 to print the stack trace of unexpected errors."],
    ]),
    "",
    "Run 'mailreplica help <command>' for a command's parameters.",
  ];
}

/** `mailreplica help <command>` and `<command> --help`. */
export function commandHelp(command: Command, path: readonly string[]): string[] {
  const lines = [`Usage: mailreplica ${command.usage}`, "", command.summary];
  if (command.subcommands?.length) {
    lines.push("", "Sub-commands:", ...table(command.subcommands.map((s) => [`${path.join(" ")} ${s.name}`, s.summary])));
  }
  if (command.details) lines.push("", ...command.details.split("\n"));
  lines.push("", "Global options (--json, --sync, --progress, --config FILE, --servers URL) work with every command; see 'mailreplica --help'.");
  return lines;
}
