// Tab completion, as a pure function of the line typed so far and the names known: command
// words, the params of the command being typed (from the definitions the CLI parses with, so
// there is one list), and hosts and accounts where a param takes them. The lookups that fill
// `KnownNames` live in names.ts; nothing here waits or calls anything.
import { ADMIN_COMMANDS, MAILBOX_METHODS, findAdminCommand, findMailboxMethod } from "../cli/admin/index.js";

/** Names offered as values; empty lists offer nothing. */
export interface KnownNames {
  /** Mailstore hosts (getServices). */
  readonly mailstores: readonly string[];
  /** Supervisor hosts (getServices), for operation_host. */
  readonly supervisors: readonly string[];
  /** Account names. */
  readonly accounts: readonly string[];
}

export const NO_NAMES: KnownNames = { mailstores: [], supervisors: [], accounts: [] };

/** What a param's value is, for completion. */
export type ValueKind = "mailstore" | "supervisor" | "account" | "none";

/** Which names a completion of this line would offer ("none": it needs no lookup). */
export type NamesNeeded = "mailstore" | "supervisor" | "account" | "none";

/** The REPL's own words (help.ts describes them). */
export const REPL_WORDS: readonly string[] = ["help", "call", "doctor", "exit", "quit"];
const FLAGS: readonly string[] = ["--json", "--sync", "--progress", "--help"];

/** Every word a line may start with, in the spelling the definitions use. */
export function commandWords(): string[] {
  return [...ADMIN_COMMANDS.map((c) => c.name), ...MAILBOX_METHODS.map((m) => m.name), ...REPL_WORDS];
}

/** Mailbox params whose names say what they take (their specs carry no `expected`). */
const MAILSTORE_PARAM_NAMES = new Set(["mailHost", "destination", "source_mail_host", "replicaServer", "host"]);
const ACCOUNT_PARAM_NAMES = new Set(["account", "accounts"]);

/** What `param` takes: from its Carbonio TYPE (`Server Hostname/ID`, `Account Name/ID`), else its name. */
export function valueKind(param: { readonly name: string; readonly expected?: string }): ValueKind {
  if (param.name === "operation_host") return "supervisor";
  if (param.expected?.startsWith("Server Hostname") || MAILSTORE_PARAM_NAMES.has(param.name)) return "mailstore";
  if (param.expected?.startsWith("Account Name") || ACCOUNT_PARAM_NAMES.has(param.name)) return "account";
  return "none";
}

interface ParamInfo {
  readonly name: string;
  readonly mandatory: boolean;
  readonly list: boolean;
  readonly kind: ValueKind;
  readonly values?: readonly string[];
}

/** Where the cursor is: which command, and whether a param name or which param's value is typed. */
type Slot = { kind: "word"; words: readonly string[] } | { kind: "name"; names: readonly string[] } | { kind: "value"; param: ParamInfo } | { kind: "nothing" };

function startsWithCi(word: string, prefix: string): boolean {
  return word.toLowerCase().startsWith(prefix.toLowerCase());
}

/** The words before the cursor and the one being typed; undefined inside quotes or JSON (not completed). */
function split(line: string): { done: string[]; partial: string } | undefined {
  if (/['"\\{[]/.test(line)) return undefined;
  const parts = line.trimStart().split(/[ \t]+/);
  const partial = parts.pop() ?? "";
  return { done: parts.filter((w) => w !== ""), partial };
}

/** Params of a known command, and whether the mandatory ones come positionally (admin) or by name (mailbox, call). */
function paramsOf(command: string, target: "admin" | "mailbox" | "either"): { params: ParamInfo[]; positional: boolean } | undefined {
  const def = target === "mailbox" ? undefined : findAdminCommand(command === "doctor" ? "test" : command);
  if (def) {
    const params = def.params.map((p) => ({
      name: p.name,
      mandatory: !!p.mandatory,
      list: p.type === "list",
      kind: valueKind(p),
      ...(p.values ? { values: p.values } : {}),
    }));
    return { params: target === "admin" ? params.filter((p) => p.name !== "input_file") : params, positional: target === "either" };
  }
  const m = target === "admin" ? undefined : findMailboxMethod(command);
  if (m) return { params: m.params.map((p) => ({ name: p.name, mandatory: !!p.mandatory, list: p.type === "list", kind: valueKind(p) })), positional: false };
  return undefined;
}

/** The slot after `args` (the command's words so far, flags removed). */
function slotOfParams(info: { params: ParamInfo[]; positional: boolean }, args: readonly string[]): Slot {
  const { params, positional } = info;
  const mandatory = positional ? params.filter((p) => p.mandatory) : [];
  if (args.length < mandatory.length) return { kind: "value", param: mandatory[args.length]! };
  const named = args.slice(mandatory.length);
  if (named.length % 2 === 1) {
    const p = params.find((x) => x.name === named[named.length - 1]);
    return p ? { kind: "value", param: p } : { kind: "nothing" };
  }
  const given = new Set(named.filter((_, i) => i % 2 === 0));
  const open = params.filter((p) => !given.has(p.name) && !mandatory.includes(p));
  return { kind: "name", names: open.map((p) => p.name) };
}

function slotOf(done: readonly string[]): Slot {
  if (done.length === 0) return { kind: "word", words: commandWords() };
  const head = done[0]!;
  const lower = head.toLowerCase();
  const rest = done.slice(1).filter((w) => !FLAGS.includes(w));
  if (lower === "help") return rest.length === 0 ? { kind: "word", words: commandWords() } : { kind: "nothing" };
  if (lower === "exit" || lower === "quit") return { kind: "nothing" };
  if (lower === "call") {
    if (rest.length === 0) return { kind: "word", words: ["admin", "mailbox"] };
    const target = rest[0];
    if (target !== "admin" && target !== "mailbox") return { kind: "nothing" };
    if (rest.length === 1) return { kind: "word", words: target === "admin" ? ADMIN_COMMANDS.map((c) => c.name) : MAILBOX_METHODS.map((m) => m.name) };
    const info = paramsOf(rest[1]!, target);
    return info ? slotOfParams(info, rest.slice(2)) : { kind: "nothing" };
  }
  const info = paramsOf(head, "either");
  return info ? slotOfParams(info, rest) : { kind: "nothing" };
}

function namesOfKind(kind: ValueKind, known: KnownNames): readonly string[] {
  return kind === "mailstore" ? known.mailstores : kind === "supervisor" ? known.supervisors : kind === "account" ? known.accounts : [];
}

/** The names a completion of `line` would offer: the REPL looks up only these. */
export function namesNeeded(line: string): NamesNeeded {
  const s = split(line);
  if (!s) return "none";
  const slot = slotOf(s.done);
  return slot.kind === "value" && !slot.param.values ? slot.param.kind : "none";
}

/**
 * Readline's completion of `line` (the text before the cursor): the candidates and the text
 * they replace (the word being typed). Command words match in any case (as the REPL accepts
 * them); a list value (`accounts a@x.com,b`) completes its last item.
 */
export function complete(line: string, known: KnownNames = NO_NAMES): [string[], string] {
  const s = split(line);
  if (!s) return [[], ""];
  const { partial } = s;
  const slot = slotOf(s.done);
  const pick = (candidates: readonly string[], ci: boolean): [string[], string] => [
    [...new Set(candidates)].filter((c) => (ci ? startsWithCi(c, partial) : c.startsWith(partial))).sort(),
    partial,
  ];
  switch (slot.kind) {
    case "word":
      return pick(slot.words, true);
    case "name":
      return partial.startsWith("-") ? pick(FLAGS, false) : pick(slot.names, false);
    case "nothing":
      return partial.startsWith("-") ? pick(FLAGS, false) : [[], partial];
    case "value": {
      const { param } = slot;
      const names = param.values ?? namesOfKind(param.kind, known);
      if (!param.list) return pick(names, param.kind === "account");
      // The items already in the list are not offered again.
      const cut = partial.lastIndexOf(",") + 1;
      const before = partial.slice(0, cut);
      const item = partial.slice(cut);
      const taken = new Set(before.split(",").map((x) => x.toLowerCase()));
      const hits = names.filter((n) => !taken.has(n.toLowerCase()) && (param.kind === "account" ? startsWithCi(n, item) : n.startsWith(item)));
      return [[...new Set(hits)].sort().map((n) => before + n), partial];
    }
  }
}
