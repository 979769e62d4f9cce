// The REPL's history across runs: the last lines typed at a terminal, in a file only its
// owner may read (mode 0600), rewritten whole on each line (at most 1,000 short lines) so it
// never grows past its bound. Lines that may hold a secret or a message's text are not kept.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { userStateDir } from "../paths.js";
import { errnoCode, fileReadProblem } from "../text/file_read_problem.js";

/** Where the history goes: a file path, or `none` for no history. */
export const HISTORY_ENV = "MR_REPL_HISTORY";
export const DEFAULT_HISTORY_LINES = 1_000;

/** The history file `env` asks for (MR_REPL_HISTORY, else the user's state folder), or undefined for `none`. */
export function historyFile(env: NodeJS.ProcessEnv, home: string = homedir()): string | undefined {
  const v = env[HISTORY_ENV];
  if (v === "none") return undefined;
  if (v !== undefined && v !== "") return v;
  return join(userStateDir(env, home), "repl_history");
}

// No REPL command takes a password or a seed; these are the ways one could still be typed:
// a URL with user:password (`test servers nats://u:p@host:4222`), a param or JSON key that
// names a secret (`call ... {"password": ...}`), or an nkey seed pasted anywhere (S + role
// letter + base32). deliverMessage's `raw` is someone's mail: not kept either.
const SECRET_PATTERNS: readonly RegExp[] = [
  /[a-z][a-z0-9+.-]*:\/\/[^\s/@]*:[^\s/@]*@/i,
  /(^|[^a-z])(pass(word|wd|phrase)?|secret|seed|token|creds|credentials|nkey|jwt|private_?key|api_?key)([^a-z]|$)/i,
  /\bS[A-Z][A-Z2-7]{50,}/,
  /(^|\s)(call\s+mailbox\s+)?deliverMessage\s.*(\braw\b|"raw")/i,
];

/** Whether `line` may carry a secret (or a message's text), so it is not written to the history file. */
export function holdsSecret(line: string): boolean {
  return SECRET_PATTERNS.some((p) => p.test(line));
}

export interface HistoryOptions {
  /** Most lines kept (default 1,000). */
  maxLines?: number;
  /** Told once when the file cannot be read or written (the REPL goes on without it). */
  onError?: (message: string) => void;
}

/** The lines of one history file, oldest first. */
export class ReplHistory {
  private lines: string[];
  private readonly maxLines: number;
  private readonly onError: (message: string) => void;
  private failed = false;

  /** Reads `file` (a missing file is an empty history). */
  constructor(
    readonly file: string,
    opts: HistoryOptions = {},
  ) {
    this.maxLines = opts.maxLines ?? DEFAULT_HISTORY_LINES;
    this.onError = opts.onError ?? (() => {});
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") this.fail(`${fileReadProblem(file, e)}; set ${HISTORY_ENV}=none to keep none`);
    }
    this.lines = text
      .split("\n")
      .filter((l) => l.trim() !== "" && !holdsSecret(l))
      .slice(-this.maxLines);
  }

  /** Newest first, as readline's `history` option takes it. */
  newestFirst(): string[] {
    return [...this.lines].reverse();
  }

  /** Keeps `line` (unless blank, the same as the last one, or holding a secret) and writes the file. */
  add(line: string): void {
    if (line.trim() === "" || line.includes("\n") || holdsSecret(line) || this.lines[this.lines.length - 1] === line) return;
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines = this.lines.slice(-this.maxLines);
    this.write();
  }

  private write(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      // A new file with mode 0600 renamed over the old one: never a moment readable by others.
      // (A tmp left by a crash keeps its mode: remove it; chmod undoes an unusual umask.)
      rmSync(tmp, { force: true });
      writeFileSync(tmp, this.lines.map((l) => `${l}\n`).join(""), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file);
    } catch (e) {
      this.fail(`cannot write ${this.file} (${(e as Error).message}); set ${HISTORY_ENV}=none to keep none`);
    }
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(`*** history: ${message}`);
  }
}
