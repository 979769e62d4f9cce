// Entry point of `mailreplica`. Imports only the light framework: command files load their
// heavy modules inside `run`, so `--help` never pays for nats, sqlite or crypto.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, type Config, type DeepPartial } from "../config/index.js";
import { projectRoot } from "../paths.js";
import { didYouMean } from "./closest.js";
import { findCommand, listCommands, loadCommands } from "./command.js";
import { CliUsageError } from "./errors.js";
import { splitGlobalOptions } from "./globals.js";
import { commandHelp, generalHelp } from "./help.js";
import type { CliIo, CommandIo, GlobalOptions } from "./types.js";
import { printable } from "../text/printable.js";

/** The io of a real process: stdout, stderr, process.env, process.cwd(). */
export function processIo(): CliIo {
  return {
    out: (line) => void process.stdout.write(line + "\n"),
    err: (line) => void process.stderr.write(line + "\n"),
    // Resolves once the bytes are handed over: a large message is written part after part.
    outBytes: (bytes) => new Promise<void>((done, fail) => void process.stdout.write(bytes, (e) => (e ? fail(e) : done()))),
    env: process.env,
    cwd: process.cwd(),
  };
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), "package.json"), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function commandIo(io: CliIo, globals: GlobalOptions): CommandIo {
  return {
    out: (line) => io.out(line),
    err: (line) => io.err(line),
    ...(io.outBytes ? { outBytes: (bytes: Uint8Array) => io.outBytes!(bytes) } : {}),
    env: io.env,
    cwd: io.cwd,
    globals,
    config: (overrides?: DeepPartial<Config>, opts?: { ignoreSystemFile?: boolean }): Config => {
      const o: DeepPartial<Config> = structuredClone(overrides ?? {});
      // The command's own overrides are more specific than the global --servers.
      if (globals.servers && o.nats?.servers === undefined) o.nats = { ...o.nats, servers: globals.servers };
      return loadConfig({ file: globals.configFile, env: io.env, cwd: io.cwd, overrides: o, ...(opts?.ignoreSystemFile ? { systemFile: null } : {}) });
    },
    json: (value) => io.out(JSON.stringify(value, null, 2)),
  };
}

/** Prints an error the way the CLI does and returns its exit code (2 usage or config, 1 otherwise). */
function report(e: unknown, io: CliIo, json: boolean, path: readonly string[] = []): number {
  const prefix = path.length ? `mailreplica ${path.join(" ")}` : "mailreplica";
  const err = e instanceof Error ? e : new Error(String(e));
  const rawCode: unknown = (err as Error & { code?: unknown }).code;
  const code = typeof rawCode === "string" ? rawCode : undefined;
  let exit = 1;
  let text = `${prefix}: ${printable(err.message)}${code ? ` [${printable(code)}]` : ""}`;
  if (e instanceof CliUsageError) {
    exit = 2;
    text = `${prefix}: ${err.message}. Run 'mailreplica ${path.length ? `help ${path.join(" ")}' for usage` : "--help' for the list"}.`;
  } else if (e instanceof ConfigError) {
    exit = 2;
    text = `${prefix}: ${err.message}`;
  }
  if (json) {
    const body: Record<string, unknown> = { code: code ?? "INTERNAL", message: err.message };
    if (e instanceof ConfigError && e.problems.length) body.problems = e.problems;
    io.err(JSON.stringify({ error: body }));
  } else {
    io.err(text);
  }
  if (exit === 1 && io.env.MR_DEBUG && err.stack) io.err(err.stack);
  return exit;
}

function unknownCommand(words: readonly string[]): CliUsageError {
  const names = listCommands().map((c) => c.name);
  const shown = words.join(" ");
  // Message ends without a period: report() appends ". Run 'mailreplica --help' ...".
  return new CliUsageError(`unknown command '${shown}'${didYouMean(words[0] ?? "", names)}`);
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 wrong command line or
 * configuration (commands with --sync use Carbonio's 0-4 operation codes).
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  for (const problem of await loadCommands()) io.err(`mailreplica: warning: ${problem}`);
  const jsonAnywhere = argv.slice(0, argv.includes("--") ? argv.indexOf("--") : argv.length).includes("--json");
  let split;
  try {
    split = splitGlobalOptions(argv);
  } catch (e) {
    return report(e, io, jsonAnywhere);
  }
  const { globals, command: words } = split;
  if (split.version) {
    io.out(`mailreplica ${version()}`);
    return 0;
  }

  if (words[0] === "help" || words.length === 0) {
    const target = words.slice(1);
    if (target.length === 0) {
      // Bare `mailreplica` is a usage error; asking for help is not.
      const asked = split.help || words[0] === "help";
      for (const line of generalHelp(version())) (asked ? io.out : io.err)(line);
      return asked ? 0 : 2;
    }
    const found = findCommand(target);
    if (!found || found.rest.length > 0) return report(unknownCommand(target), io, globals.json);
    for (const line of commandHelp(found.command, found.path)) io.out(line);
    return 0;
  }

  const found = findCommand(words);
  if (!found) return report(unknownCommand(words.slice(0, 1)), io, globals.json);
  if (split.help) {
    for (const line of commandHelp(found.command, found.path)) io.out(line);
    return 0;
  }
  try {
    return await found.command.run(found.rest, commandIo(io, globals));
  } catch (e) {
    return report(e, io, globals.json, found.path);
  }
}
