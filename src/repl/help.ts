// `help` and `help <command>` in the REPL: the admin commands (same definitions as the CLI),
// the mailbox methods, and the REPL's own words.
import { ADMIN_COMMANDS, adminDetails, callDetails, findAdminCommand, findMailboxMethod, MAILBOX_METHODS } from "../cli/admin/index.js";

/** The REPL's own words with their summaries. */
export const BUILT_INS: ReadonlyArray<readonly [string, string]> = [
  ["help [COMMAND]", "List the commands, or show one command's params and examples."],
  ["call admin|mailbox METHOD ...", "Call any JSON-RPC method (params as JSON or name value pairs)."],
  ["doctor", "The troubleshooting checks (same as test)."],
  ["exit, quit", "Leave (Ctrl-D too)."],
];

function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const w = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`);
}

export function generalHelp(): string[] {
  return [
    "Admin commands (Carbonio syntax: mandatory params first, then name value; add --json, --sync or --progress):",
    ...table(ADMIN_COMMANDS.map((c) => [c.name, c.summary] as const)),
    "",
    'Mailbox methods (METHOD {JSON params}, or METHOD name value ...; quote values with spaces, \\n in "..." is a newline):',
    ...table(MAILBOX_METHODS.map((m) => [m.name, m.summary] as const)),
    "",
    "REPL:",
    ...table(BUILT_INS),
  ];
}

/** Help of one command, or undefined when `name` is no command. */
export function commandHelp(name: string): string[] | undefined {
  const lower = name.toLowerCase();
  if (lower === "doctor") return commandHelp("test");
  const def = findAdminCommand(name);
  if (def) return [`Usage: ${def.name} ${def.usage}`.trimEnd(), "", def.summary, "", ...adminDetails(def, "")];
  const m = findMailboxMethod(name);
  if (m) return callDetails(m);
  const builtIn = BUILT_INS.find(([w]) => w.split(/[ ,]+/).includes(lower));
  return builtIn ? [`${builtIn[0]}: ${builtIn[1]}`] : undefined;
}
