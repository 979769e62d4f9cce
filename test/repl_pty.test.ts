// The REPL at a real terminal: `mailreplica repl` run on a pseudo-terminal (util-linux
// `script`, so no native module), typed at key by key. Node's readline completes and recalls
// history only when its input is a TTY, which the piped tests (repl.test.ts) and the stream
// tests (repl_history.test.ts, repl_complete.test.ts) cannot show. Every step waits for what
// the screen shows, never for a time; one overall deadline only fails the test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import { spawnTracked, tempDir } from "./helpers/processes.js";
import { TestSystem } from "./helpers/system.js";

const PROMPT = "mailreplica> ";
const UP = "\x1b[A";
const CTRL_U = "\x15";
const CTRL_D = "\x04";
/** The whole test fails after this; no step waits for a time. */
const DEADLINE_MS = 180_000;

/**
 * The util-linux `script` command. Missing (or the BSD one, without -c/-e/-E) fails the test
 * with what to install: skipping would hide that completion and history went untested.
 */
function requireScript(): void {
  const r = spawnSync("script", ["--version"], { encoding: "utf8" });
  const install =
    "this test runs the REPL on a pseudo-terminal with util-linux's `script`: install the bsdutils package (Debian, Ubuntu) or util-linux (other distributions)";
  if (r.error) throw new Error(`${install} (${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "no `script` in PATH" : r.error.message})`);
  if (!`${r.stdout}${r.stderr}`.includes("util-linux"))
    throw new Error(`${install}; the \`script\` in PATH is not util-linux's: ${`${r.stdout}${r.stderr}`.trim()}`);
}

/** A single-quoted shell word. */
function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Just enough of a terminal to know what the operator sees: characters written at the
 * cursor, CR, LF (down only, as a terminal does: the pty's ONLCR must add the CR), backspace
 * and the CSI sequences readline sends (cursor moves, erase in line and display). Other
 * escape sequences change nothing visible here and are dropped.
 */
class Screen {
  private rows: string[] = [""];
  private row = 0;
  private col = 0;
  private pending = "";

  feed(chunk: string): void {
    const text = this.pending + chunk;
    this.pending = "";
    for (let i = 0; i < text.length;) {
      const ch = text[i]!;
      if (ch === "\x1b") {
        const csi = /^\x1b\[([0-?]*)[ -/]*([@-~])/.exec(text.slice(i));
        if (csi) {
          this.control(csi[2]!, csi[1]!);
          i += csi[0].length;
          continue;
        }
        if (text.length - i < 16 && /^\x1b(\[[0-?]*[ -/]*)?$/.test(text.slice(i))) {
          this.pending = text.slice(i); // a sequence cut between two chunks
          return;
        }
        i += 2; // ESC and one character (charset, keypad mode ...)
        continue;
      }
      i++;
      if (ch === "\r") this.col = 0;
      else if (ch === "\n") this.moveTo(this.row + 1, this.col);
      else if (ch === "\b") this.col = Math.max(0, this.col - 1);
      else if (ch >= " ") {
        const line = this.rows[this.row]!.padEnd(this.col);
        this.rows[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
        this.col++;
      }
    }
  }

  private moveTo(row: number, col: number): void {
    this.row = Math.max(0, row);
    this.col = Math.max(0, col);
    while (this.rows.length <= this.row) this.rows.push("");
  }

  private control(final: string, params: string): void {
    const n = Number(params.split(";")[0]) || 1;
    const line = this.rows[this.row]!;
    switch (final) {
      case "A":
        return this.moveTo(this.row - n, this.col);
      case "B":
        return this.moveTo(this.row + n, this.col);
      case "C":
        return this.moveTo(this.row, this.col + n);
      case "D":
        return this.moveTo(this.row, this.col - n);
      case "G":
        return this.moveTo(this.row, n - 1);
      case "K": // erase in line: 0 to the end, 1 to the cursor, 2 all
        if (params === "" || params === "0") this.rows[this.row] = line.slice(0, this.col);
        else if (params === "1") this.rows[this.row] = " ".repeat(this.col + 1) + line.slice(this.col + 1);
        else this.rows[this.row] = "";
        return;
      case "J": // erase in display: only "from the cursor down" is used
        this.rows[this.row] = line.slice(0, this.col);
        this.rows.length = this.row + 1;
        return;
    }
  }

  /** The line the cursor is on, without trailing blanks. */
  cursorLine(): string {
    return this.rows[this.row]!.trimEnd();
  }

  /** Every line written so far, from the first. */
  text(): string {
    return this.rows.map((l) => l.trimEnd()).join("\n");
  }

  /** Rows written since `from` (a row number from rowCount()). */
  since(from: number): string {
    return this.rows
      .slice(from)
      .map((l) => l.trimEnd())
      .join("\n");
  }

  rowCount(): number {
    return this.row;
  }
}

/** `mailreplica repl` on a pseudo-terminal: keys go in, the screen is read. */
class PtyRepl {
  readonly screen = new Screen();
  private readonly waiters = new Set<() => void>();
  readonly child: ChildProcess;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly deadline: number,
  ) {
    // 200 columns: no line here wraps, so Screen needs no wrapping either.
    const command = `stty cols 200 rows 50 && exec ${shellWord(process.execPath)} ${shellWord(join(projectRoot(), "bin", "mailreplica"))} repl`;
    // -q no start/done lines, -f flush at once, -e the REPL's exit code, -E never: the pty
    // echoes nothing itself (readline echoes what it edits), -c the command, /dev/null no typescript.
    this.child = spawnTracked("script", ["-q", "-f", "-e", "-E", "never", "-c", command, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...env, SHELL: "/bin/sh", TERM: "xterm" },
    });
    const seen = (d: Buffer): void => {
      this.screen.feed(d.toString("utf8"));
      for (const w of this.waiters) w();
    };
    this.child.stdout!.on("data", seen);
    this.child.stderr!.on("data", seen);
    this.child.once("exit", () => {
      for (const w of this.waiters) w();
    });
  }

  /** Types `keys` (one write: what readline gets as one chunk). */
  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Resolves when `check` holds; fails at the test's deadline or when the REPL has exited first. */
  until(what: string, check: () => boolean, opts: { orExit?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        done();
        reject(
          new Error(`${why} waiting for ${what}; the terminal showed:\n${this.screen.text()}\n[cursor line: ${JSON.stringify(this.screen.cursorLine())}]`),
        );
      };
      const timer = setTimeout(() => fail("deadline passed"), Math.max(0, this.deadline - Date.now()));
      const poll = (): void => {
        if (check()) {
          done();
          resolve();
        } else if (!opts.orExit && this.exited()) fail(`the REPL exited (code ${this.child.exitCode}, signal ${this.child.signalCode})`);
      };
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(poll);
      };
      this.waiters.add(poll);
      poll();
    });
  }

  /** Waits until the line being edited reads `line` (after the prompt). */
  editing(line: string): Promise<void> {
    return this.until(`the line '${PROMPT}${line}'`, () => this.screen.cursorLine() === `${PROMPT}${line}`.trimEnd());
  }

  /**
   * Presses Tab until the line being edited reads `line`. Names come from a lookup over NATS
   * that offers nothing when later than its own 1.5 s deadline (so Tab never hangs), and is
   * kept once it arrives: a second Tab, on a loaded machine, gets it. Another Tab on a
   * completed name changes nothing.
   */
  async tabUntil(line: string): Promise<void> {
    this.type("\t");
    const again = setInterval(() => this.type("\t"), 5_000);
    try {
      await this.editing(line);
    } finally {
      clearInterval(again);
    }
  }

  exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Ends a REPL a failed step left running (its pty closes: the REPL gets SIGHUP), so the test process can end. */
  kill(): void {
    if (!this.exited()) this.child.kill("SIGKILL");
    this.child.stdin!.destroy();
  }

  async exit(): Promise<number | null> {
    await this.until("the REPL to exit", () => this.exited(), { orExit: true });
    this.child.stdin!.end();
    return this.child.exitCode;
  }
}

const MS1 = "ms1.example.com";

test("repl on a terminal - Tab completes commands, params, hosts and accounts; history comes back with the up arrow, in a 0600 file", async () => {
  requireScript();
  const deadline = Date.now() + DEADLINE_MS;
  const sys = await TestSystem.start({ hosts: [MS1] });
  const sessions: PtyRepl[] = [];
  const repl = (env: NodeJS.ProcessEnv): PtyRepl => {
    const r = new PtyRepl(env, deadline);
    sessions.push(r);
    return r;
  };
  try {
    await sys.startSupervisor();
    await sys.startMailstore(MS1);
    for (const name of ["alice@example.com", "bob@example.com"]) await sys.mailbox("createAccount", { name, mailHost: MS1 });
    const historyFile = join(tempDir("repl-pty-"), "state", "repl_history");
    const env = { ...sys.childEnv(), MR_SYSTEM_CONFIG: "none", MR_REPL_HISTORY: historyFile, NO_COLOR: "1" };

    const first = repl(env);
    await first.until("the banner", () => first.screen.text().includes("mailreplica REPL on nats://"));
    await first.editing("");

    // A command word: the rest of it.
    first.type("getAccountSt\t");
    await first.editing("getAccountStatus");
    first.type(CTRL_U);
    await first.editing("");

    // An ambiguous prefix: the first Tab completes what the candidates share, the second lists
    // them under the line and redraws it. (Each Tab is its own write, waited for: readline
    // takes a Tab inside a longer chunk as pasted text, not as a key.)
    first.type("getI\t");
    await first.editing("getItem");
    const before = first.screen.rowCount();
    first.type("\t");
    await first.until(
      "getItem and getItemBody listed",
      () => /^getItem\s+getItemBody$/m.test(first.screen.since(before)) && first.screen.cursorLine() === `${PROMPT}getItem`,
    );
    first.type(CTRL_U);
    await first.editing("");

    // A mailstore host from getServices (the supervisor, also a service, is not offered).
    first.type("setAccountDestination m");
    await first.editing("setAccountDestination m");
    await first.tabUntil(`setAccountDestination ${MS1}`);
    first.type(CTRL_U);
    await first.editing("");

    // A param name, then an account name from the directory, then the completed line runs.
    first.type("listFolders acc\t");
    await first.editing("listFolders account");
    first.type(" al");
    await first.editing("listFolders account al");
    await first.tabUntil("listFolders account alice@example.com");
    const ran = first.screen.rowCount();
    first.type("\r");
    await first.until(
      "listFolders' answer and the next prompt",
      () => first.screen.since(ran).includes("Inbox") && first.screen.cursorLine() === PROMPT.trimEnd(),
    );

    first.type("exit\r");
    assert.is(await first.exit(), 0, first.screen.text());
    // The shell's prompt would come right under the line typed: no blank line.
    assert.ok(first.screen.text().endsWith(`\n${PROMPT}exit\n`), first.screen.text());
    // Only lines that were run are kept (a line cleared with Ctrl-U is not), in a file only its owner reads.
    assert.equal(readFileSync(historyFile, "utf8"), "listFolders account alice@example.com\nexit\n");
    assert.is(statSync(historyFile).mode & 0o777, 0o600);

    // The next run, same history file: up arrow goes back line by line, Enter runs what came back.
    const second = repl(env);
    await second.until("the banner", () => second.screen.text().includes("mailreplica REPL on nats://"));
    await second.editing("");
    second.type(UP);
    await second.editing("exit");
    second.type(UP);
    await second.editing("listFolders account alice@example.com");
    const recalled = second.screen.rowCount();
    second.type("\r");
    await second.until(
      "listFolders' answer and the next prompt",
      () => second.screen.since(recalled).includes("Inbox") && second.screen.cursorLine() === PROMPT.trimEnd(),
    );
    second.type(CTRL_D);
    assert.is(await second.exit(), 0, second.screen.text());
    // Ctrl-D left the cursor after the prompt: the REPL ends that line.
    assert.ok(second.screen.text().endsWith(`\n${PROMPT.trimEnd()}\n`), second.screen.text());
    assert.equal(readFileSync(historyFile, "utf8"), "listFolders account alice@example.com\nexit\nlistFolders account alice@example.com\n");
    assert.is(statSync(historyFile).mode & 0o777, 0o600);
  } finally {
    for (const r of sessions) r.kill();
    await sys.stop();
  }
});

test.run();
