// The names completion offers, from the running system over the admin JSON-RPC: hosts from
// getServices, account names from getAllAccounts (the directory's names, replicated or not,
// those starting with what is typed). A thin layer over complete.ts: each kind
// is asked only when the line needs it, kept for a few seconds, capped, and a lookup that
// fails or is late gives no names, so Tab never breaks or holds up the prompt.
import type { Caller } from "../cli/admin/index.js";
import { complete, namesNeeded, NO_NAMES, type KnownNames, type NamesNeeded } from "./complete.js";

export interface NameLookupOptions {
  /** How long names are reused before they are asked again (default 5 s). */
  cacheMs?: number;
  /** How long Tab waits for a lookup; later, it offers nothing (default 1.5 s). */
  deadlineMs?: number;
  /** Most names kept of one kind (default 1,000). */
  maxNames?: number;
  /** Default Date.now. */
  now?: () => number;
}

type Kind = Exclude<NamesNeeded, "none">;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Hosts of one role in a getServices result. */
export function hostsOfServices(result: unknown, role: "mailstore" | "supervisor"): string[] {
  const services = isObject(result) && Array.isArray(result.services) ? result.services : [];
  return services.filter((s): s is Record<string, unknown> => isObject(s) && s.role === role && typeof s.host === "string").map((s) => s.host as string);
}

/** Account names in a getAllAccounts result. */
export function accountsOfListing(result: unknown): string[] {
  const accounts = isObject(result) && Array.isArray(result.accounts) ? result.accounts : [];
  return accounts.filter((a): a is Record<string, unknown> => isObject(a) && typeof a.name === "string").map((a) => a.name as string);
}

/** What is being typed at the end of `line`: the text after the last space or comma. */
function typedWord(line: string): string {
  return line.split(/[\s,]+/).pop() ?? "";
}

export class NameLookup {
  /** by kind; account names also by the prefix typed (`account:<prefix>`) */
  private readonly cache = new Map<string, { at: number; names: Promise<string[]> }>();
  private readonly cacheMs: number;
  private readonly deadlineMs: number;
  private readonly maxNames: number;
  private readonly now: () => number;

  constructor(
    private readonly call: Caller,
    opts: NameLookupOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 5_000;
    this.deadlineMs = opts.deadlineMs ?? 1_500;
    this.maxNames = opts.maxNames ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  /** The names of `kind`; never rejects (a failed lookup is no names). */
  names(kind: Kind, prefix = ""): Promise<string[]> {
    const key = kind === "account" ? `account:${prefix.toLowerCase()}` : kind;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.cacheMs) return hit.names;
    const names = this.fetch(kind, prefix).then(
      (n) => [...new Set(n)].slice(0, this.maxNames),
      () => {
        this.cache.delete(key); // a failure is not remembered: the next Tab asks again
        return [];
      },
    );
    this.cache.set(key, { at: this.now(), names });
    return names;
  }

  private async fetch(kind: Kind, prefix: string): Promise<string[]> {
    const opts = { timeoutMs: this.deadlineMs };
    if (kind === "account")
      return accountsOfListing(await this.call("admin", "getAllAccounts", { ...(prefix ? { prefix } : {}), limit: Math.min(this.maxNames, 1_000) }, opts));
    return hostsOfServices(await this.call("admin", "getServices", {}, opts), kind);
  }

  /** The names `line` needs, or none when they do not come within the deadline. */
  async known(line: string): Promise<KnownNames> {
    const kind = namesNeeded(line);
    if (kind === "none") return NO_NAMES;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), this.deadlineMs);
    });
    try {
      const names = await Promise.race([this.names(kind, kind === "account" ? typedWord(line) : ""), late]);
      return { ...NO_NAMES, [kind === "account" ? "accounts" : kind === "mailstore" ? "mailstores" : "supervisors"]: names };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Readline's async completer: never fails, offers nothing rather than wait past the deadline. */
  completer(): (line: string, callback: (err: null, result: [string[], string]) => void) => void {
    return (line, callback) => {
      this.known(line)
        .then((known) => complete(line, known))
        .catch((): [string[], string] => [[], ""])
        .then((result) => callback(null, result));
    };
  }
}
