// Global options: Carbonio's --json/--sync/--progress plus --config and --servers. They go
// before the command (`mailreplica --json getAccountStatus`) and are also taken after it
// up to a `--` (`mailreplica mailstore --servers nats://h:4222`), so commands never
// declare them.
import { didYouMean } from "./closest.js";
import { CliUsageError } from "./errors.js";
import type { GlobalOptions, OptionsSpec } from "./types.js";

export const GLOBAL_OPTIONS = {
  help: { type: "boolean", short: "h", description: "Print help (of the command, when one is given) and exit." },
  version: { type: "boolean", description: "Print the version and exit (before the command only)." },
  json: { type: "boolean", description: "Machine-readable JSON output." },
  sync: { type: "boolean", description: "Wait for the operation; exit 0 successful, 1 failed, 2 stopped, 3 removed, 4 interrupted." },
  progress: { type: "boolean", description: "Stream the operation's progress." },
  config: { type: "string", value: "FILE", description: "JSON config file (wins over MR_CONFIG)." },
  servers: { type: "list", value: "URL[,URL]", description: "NATS endpoints (win over the config and MR_SERVERS)." },
} as const satisfies OptionsSpec;

export function defaultGlobalOptions(): GlobalOptions {
  return { json: false, sync: false, progress: false };
}

/** The command line split into global options, the command words and its arguments. */
export interface SplitArgs {
  globals: GlobalOptions;
  help: boolean;
  version: boolean;
  /** Everything from the command's name on, global options removed (up to a `--`). */
  command: string[];
}

type Step = { state: "taken"; next: number } | { state: "not-global" };

function take(argv: readonly string[], i: number, out: SplitArgs, afterCommand: boolean): Step {
  const tok = argv[i]!;
  const eq = tok.indexOf("=");
  const flag = eq >= 0 ? tok.slice(0, eq) : tok;
  const inline = eq >= 0 ? tok.slice(eq + 1) : undefined;
  const name = flag === "-h" ? "help" : flag.startsWith("--") ? flag.slice(2) : undefined;
  if (name === undefined || !(name in GLOBAL_OPTIONS) || (afterCommand && name === "version")) return { state: "not-global" };
  const spec = GLOBAL_OPTIONS[name as keyof typeof GLOBAL_OPTIONS];
  if (spec.type === "boolean") {
    if (inline !== undefined) throw new CliUsageError(`option ${flag} takes no value, got ${JSON.stringify(inline)}`);
    if (name === "help") out.help = true;
    else if (name === "version") out.version = true;
    else out.globals[name as "json" | "sync" | "progress"] = true;
    return { state: "taken", next: i + 1 };
  }
  let raw = inline;
  let next = i + 1;
  if (raw === undefined) {
    raw = argv[i + 1];
    next = i + 2;
    if (raw === undefined || raw.startsWith("--")) throw new CliUsageError(`option --${name} needs a value (${spec.value})`);
  }
  if (name === "config") {
    if (out.globals.configFile !== undefined) throw new CliUsageError("option --config is given twice; give it once");
    if (raw === "") throw new CliUsageError("option --config needs a file name");
    out.globals.configFile = raw;
  } else {
    if (out.globals.servers !== undefined) throw new CliUsageError("option --servers is given twice; give one comma-separated list");
    const servers = raw.split(",").map((s) => s.trim());
    if (servers.some((s) => s === ""))
      throw new CliUsageError(`option --servers has an empty entry in ${JSON.stringify(raw)}; give nats://host:port[,nats://host:port] without spaces`);
    out.globals.servers = servers;
  }
  return { state: "taken", next };
}

/**
 * Splits argv. Before the command every `-x` must be a global option (else CliUsageError);
 * after it, only known global options are taken and everything else is left to the command.
 */
export function splitGlobalOptions(argv: readonly string[]): SplitArgs {
  const out: SplitArgs = { globals: defaultGlobalOptions(), help: false, version: false, command: [] };
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-") && argv[i] !== "--") {
    const step = take(argv, i, out, false);
    if (step.state === "not-global") {
      const flag = argv[i]!.split("=")[0]!;
      const names = Object.keys(GLOBAL_OPTIONS);
      throw new CliUsageError(
        `unknown option '${flag}'${didYouMean(flag.replace(/^-+/, ""), names)}; options before the command: ${names.map((n) => `--${n}`).join(", ")}`,
      );
    }
    i = step.next;
  }
  if (argv[i] === "--") i++;
  if (i < argv.length) out.command.push(argv[i++]!);
  while (i < argv.length) {
    if (argv[i] === "--") {
      out.command.push(...argv.slice(i));
      break;
    }
    const step = take(argv, i, out, true);
    if (step.state === "taken") {
      i = step.next;
    } else {
      out.command.push(argv[i]!);
      i++;
    }
  }
  return out;
}
