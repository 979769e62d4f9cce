// The command registry. Command files in src/cli/commands/ export their command(s) as
// `default`; `loadCommands` imports every one of them, so adding a command touches no
// shared file.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { didYouMean } from "./closest.js";
import { CliUsageError, DuplicateCommandError } from "./errors.js";
import type { Command } from "./types.js";

const registry = new Map<string, Command>();

/** Names the CLI handles itself. */
const BUILT_IN = new Set(["help"]);

function checkName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
    throw new CliUsageError(
      `command name ${JSON.stringify(name)} is not one word; use letters, digits, '_' or '-', starting with a letter`,
      "CLI_BAD_COMMAND_NAME",
    );
  }
}

function checkSubcommands(cmd: Command): void {
  const seen = new Set<string>();
  for (const sub of cmd.subcommands ?? []) {
    checkName(sub.name);
    const key = sub.name.toLowerCase();
    if (seen.has(key)) throw new DuplicateCommandError(`${cmd.name} ${sub.name}`);
    seen.add(key);
    checkSubcommands(sub);
  }
}

/** Adds a top-level command. Names are unique regardless of case. */
export function registerCommand(cmd: Command): void {
  checkName(cmd.name);
  const key = cmd.name.toLowerCase();
  if (registry.has(key) || BUILT_IN.has(key)) throw new DuplicateCommandError(cmd.name);
  checkSubcommands(cmd);
  registry.set(key, cmd);
}

/** Top-level commands, sorted by name. */
export function listCommands(): Command[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name, "en", { sensitivity: "base" }));
}

function pick(list: readonly Command[], word: string | undefined): Command | undefined {
  if (word === undefined) return undefined;
  // Exact first; then any case, since Carbonio users type getaccountstatus too.
  return list.find((c) => c.name === word) ?? list.find((c) => c.name.toLowerCase() === word.toLowerCase());
}

/** A found command: its full name path (`["keys", "init"]`) and the arguments after it. */
export interface FoundCommand {
  command: Command;
  path: string[];
  rest: string[];
}

/** The command `argv` names, descending into sub-commands; undefined when argv[0] is no command. */
export function findCommand(argv: readonly string[]): FoundCommand | undefined {
  let command = pick(listCommands(), argv[0]);
  if (command === undefined) return undefined;
  const path = [command.name];
  let i = 1;
  for (;;) {
    const sub = pick(command.subcommands ?? [], argv[i]);
    if (sub === undefined) break;
    command = sub;
    path.push(sub.name);
    i++;
  }
  return { command, path, rest: argv.slice(i) };
}

/** A command that only groups sub-commands (`keys` for `keys init`). */
export function commandGroup(def: { name: string; summary: string; details?: string; subcommands: readonly Command[] }): Command {
  const names = def.subcommands.map((s) => s.name);
  const group: Command = {
    name: def.name,
    summary: def.summary,
    usage: `${def.name} <${names.join("|")}> [arguments]`,
    subcommands: def.subcommands,
    // Reached only when no sub-command matched: findCommand descends into known ones.
    run: async (argv) => {
      const word = argv[0];
      if (word === undefined) throw new CliUsageError(`missing sub-command; allowed: ${names.join(", ")}`);
      throw new CliUsageError(`unknown sub-command '${word}'${didYouMean(word, names)}; allowed: ${names.join(", ")}`);
    },
  };
  if (def.details !== undefined) group.details = def.details;
  return group;
}

function isCommand(v: unknown): v is Command {
  const c = v as Partial<Command> | null;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.name === "string" &&
    typeof c.summary === "string" &&
    typeof c.usage === "string" &&
    typeof c.run === "function"
  );
}

let loaded: Promise<string[]> | undefined;

/**
 * Imports every module of the commands folder once and registers its default export (a
 * Command or an array of them). Returns one line per module that could not be used; the
 * other commands still work, so one broken file does not take down `--help`.
 */
export function loadCommands(dir: string = join(dirname(fileURLToPath(import.meta.url)), "commands")): Promise<string[]> {
  loaded ??= (async () => {
    const problems: string[] = [];
    let files: string[];
    try {
      files = readdirSync(dir)
        .filter((f) => f.endsWith(".js"))
        .sort();
    } catch (e) {
      return [`cannot list the commands folder ${dir}: ${(e as Error).message}`];
    }
    for (const f of files) {
      try {
        const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: unknown };
        const list = Array.isArray(mod.default) ? mod.default : [mod.default];
        if (!list.every(isCommand)) throw new Error("its default export is not a command (or an array of commands)");
        for (const c of list) registerCommand(c);
      } catch (e) {
        problems.push(`command module ${f} not loaded: ${(e as Error).message}`);
      }
    }
    return problems;
  })();
  return loaded;
}
