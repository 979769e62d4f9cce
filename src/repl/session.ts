// Executes one REPL line: an admin command (same definitions and output as the CLI), a
// mailbox method, `call`, `help`, or `exit`. Errors are printed with their code; none
// ends the session.
import { didYouMean } from "../cli/closest.js";
import { CliUsageError } from "../cli/errors.js";
import {
  ADMIN_COMMANDS,
  CallError,
  MAILBOX_METHODS,
  executeAdmin,
  findAdminCommand,
  findMailboxMethod,
  methodSpecOfAdmin,
  parseCallParams,
  type Caller,
} from "../cli/admin/index.js";
import { commandHelp, generalHelp } from "./help.js";
import { ReplSyntaxError, splitHead, tokenize } from "./tokenize.js";
import { printable } from "../text/printable.js";

/** How a line ended: `failed` counts toward the exit code of a scripted REPL. */
export type LineOutcome = "ok" | "failed" | "exit";

export interface SessionOptions {
  call: Caller;
  /** Base of a relative input_file. */
  cwd: string;
  out(lines: string | readonly string[]): void;
}

const FLAGS = new Set(["--json", "--sync", "--progress"]);

interface Flags {
  json: boolean;
  sync: boolean;
  progress: boolean;
  help: boolean;
}

/** Takes --json, --sync, --progress and --help / -h out of the words (anywhere, as on the command line). */
function takeFlags(words: readonly string[]): { words: string[]; flags: Flags } {
  const flags: Flags = { json: false, sync: false, progress: false, help: false };
  const rest: string[] = [];
  for (const w of words) {
    if (FLAGS.has(w)) flags[w.slice(2) as "json" | "sync" | "progress"] = true;
    else if (w === "--help" || w === "-h") flags.help = true;
    else rest.push(w);
  }
  return { words: rest, flags };
}

const ALL_NAMES = [...ADMIN_COMMANDS.map((c) => c.name), ...MAILBOX_METHODS.map((m) => m.name), "help", "exit", "quit", "call", "doctor"];

export class ReplSession {
  constructor(private readonly opts: SessionOptions) {}

  /** Runs `line`; `signal` stops a --sync wait. Never throws for a user's mistake or a failed call. */
  async execute(line: string, signal?: AbortSignal): Promise<LineOutcome> {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return "ok";
    try {
      return await this.dispatch(trimmed, signal);
    } catch (e) {
      this.printError(e, splitHead(trimmed).head);
      return "failed";
    }
  }

  private printError(e: unknown, head: string): void {
    if (e instanceof CallError) this.opts.out(`error: ${e.line}`);
    else if (e instanceof CliUsageError || e instanceof ReplSyntaxError) {
      const help = commandHelp(head) ? ` (help ${head} shows the usage)` : "";
      this.opts.out(`error: ${e.message} [${e.code}]${help}`);
    } else {
      const err = e instanceof Error ? e : new Error(String(e));
      const code = (err as { code?: unknown }).code;
      this.opts.out(`error: ${printable(err.message)}${typeof code === "string" ? ` [${printable(code)}]` : " [INTERNAL]"}`);
    }
  }

  private async dispatch(line: string, signal: AbortSignal | undefined): Promise<LineOutcome> {
    const { head, rest } = splitHead(line);
    const name = head.toLowerCase();
    if (name === "exit" || name === "quit") return "exit";

    const mailbox = findMailboxMethod(head);
    // `method {json}`: the JSON is taken verbatim, not split into words.
    if (mailbox && /^[[{]/.test(rest)) return this.callAndPrint("mailbox", mailbox.name, parseCallParams([rest], mailbox));

    if (name === "call") return this.genericCall(rest);

    const { words, flags } = takeFlags(tokenize(rest));
    if (name === "help" || flags.help) {
      const target = name === "help" ? words[0] : head;
      const lines = target === undefined ? generalHelp() : commandHelp(target);
      if (!lines) throw new CliUsageError(`no command '${target}'${didYouMean(target ?? "", ALL_NAMES)}; 'help' lists them`);
      this.opts.out(lines);
      return "ok";
    }
    const def = findAdminCommand(name === "doctor" ? "test" : head);
    if (def) {
      const code = await executeAdmin(def, def.toParams(words, this.opts.cwd), this.opts.call, {
        out: (l) => this.opts.out(l),
        err: (l) => this.opts.out(l),
        json: flags.json,
        sync: flags.sync,
        progress: flags.progress,
        prefix: "",
        ...(signal ? { signal } : {}),
      });
      if (code !== 0) this.opts.out(`(exit code ${code})`);
      return code === 0 ? "ok" : "failed";
    }
    if (mailbox) return this.callAndPrint("mailbox", mailbox.name, parseCallParams(words, mailbox));
    throw new CliUsageError(`unknown command '${head}'${didYouMean(head, ALL_NAMES)}; 'help' lists the commands`);
  }

  /** `call admin|mailbox METHOD [JSON | name value ...]` (`text` is what follows `call`). */
  private async genericCall(text: string): Promise<LineOutcome> {
    const { head: target, rest: afterTarget } = splitHead(text);
    const { head: method, rest } = splitHead(afterTarget);
    if (target !== "admin" && target !== "mailbox") throw new CliUsageError("usage: call admin|mailbox METHOD [JSON params | name value ...]");
    if (method === "") throw new CliUsageError(`missing method after 'call ${target}'`);
    const def = target === "admin" ? findAdminCommand(method) : undefined;
    const spec = target === "mailbox" ? findMailboxMethod(method) : def && methodSpecOfAdmin(def.name, def.summary, def.params);
    // JSON is taken verbatim: splitting it into words would eat its quotes.
    const params = parseCallParams(/^[[{]/.test(rest) ? [rest] : tokenize(rest), spec);
    return this.callAndPrint(target, spec?.name ?? method, params);
  }

  private async callAndPrint(target: "admin" | "mailbox", method: string, params: Record<string, unknown> | unknown[]): Promise<LineOutcome> {
    const result = await this.opts.call(target, method, params);
    this.opts.out(result === undefined ? "(no result)" : JSON.stringify(result, null, 2));
    return "ok";
  }
}
