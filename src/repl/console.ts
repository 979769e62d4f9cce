// The REPL's terminal: reads lines, shows the prompt, and prints output that arrives at any
// time (notifications, a dead child in `dev`) above the prompt without mangling what the
// operator is typing. Without a TTY it just reads lines and writes output, no prompt.
import { clearLine, createInterface, cursorTo, type AsyncCompleter, type Interface } from "node:readline";
import type { ReplHistory } from "./history.js";

export interface ConsoleOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Line editing, prompt and Ctrl-C handling (a TTY). */
  terminal: boolean;
  prompt: string;
  /** Tab completion (TTY only). */
  completer?: AsyncCompleter;
  /** History across runs (TTY only: a script piped in is not the operator's typing). */
  history?: ReplHistory;
}

export class ReplConsole {
  private readonly rl: Interface;
  private readonly output: NodeJS.WritableStream;
  readonly terminal: boolean;
  /** A command runs: Ctrl-C interrupts it rather than the prompt. */
  private busy = false;
  /** The prompt is on screen: output goes above it, and it is redrawn. */
  private prompting = false;
  private closed = false;
  private interruptHandler: () => void = () => {};
  private lastCtrlC = 0;

  constructor(opts: ConsoleOptions) {
    this.output = opts.output;
    this.terminal = opts.terminal;
    const history = opts.terminal ? opts.history : undefined;
    this.rl = createInterface({
      input: opts.input,
      output: opts.output,
      terminal: opts.terminal,
      prompt: opts.prompt,
      historySize: 1_000,
      ...(history ? { history: history.newestFirst() } : {}),
      ...(opts.terminal && opts.completer ? { completer: opts.completer } : {}),
    });
    if (history) this.rl.on("line", (line) => history.add(line));
    this.rl.on("close", () => {
      // Ctrl-D leaves the cursor after the prompt: what follows starts on a line of its own.
      // (After `exit` and Enter the cursor is already on a fresh line: no blank line.)
      if (this.terminal && this.prompting && !this.closed) this.output.write("\n");
      this.closed = true;
    });
    // Only a TTY sends Ctrl-C here (raw mode); otherwise it is a process signal, handled by the command.
    this.rl.on("SIGINT", () => this.onCtrlC());
  }

  /** The lines typed, in order, until EOF, Ctrl-D or close(). */
  lines(): AsyncIterableIterator<string> {
    return this.rl[Symbol.asyncIterator]();
  }

  /** Called on Ctrl-C while a command runs (e.g. to stop a --sync wait). */
  onInterrupt(handler: () => void): void {
    this.interruptHandler = handler;
  }

  private onCtrlC(): void {
    if (this.busy) {
      this.interruptHandler();
      return;
    }
    const now = Date.now();
    if (this.rl.line.length > 0) {
      // Like a shell: drop the half-typed line.
      this.rl.write(null, { ctrl: true, name: "u" });
      this.lastCtrlC = 0;
      return;
    }
    if (now - this.lastCtrlC < 2_000) {
      this.close();
      return;
    }
    this.lastCtrlC = now;
    this.print("(to leave, press Ctrl-C again, Ctrl-D, or type exit)");
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    if (busy) this.prompting = false;
  }

  /** Shows the prompt (TTY only: piped input gets no prompts in its output). */
  prompt(): void {
    if (!this.terminal || this.closed) return;
    this.rl.prompt();
    this.prompting = true;
  }

  /** Writes lines; at an idle TTY prompt they go above it and the prompt and typed text are redrawn. */
  print(lines: string | readonly string[]): void {
    const text = (typeof lines === "string" ? [lines] : lines).map((l) => `${l}\n`).join("");
    if (!this.terminal || !this.prompting || this.closed) {
      this.output.write(text);
      return;
    }
    clearLine(this.output, 0);
    cursorTo(this.output, 0);
    this.output.write(text);
    this.rl.prompt(true);
  }

  close(): void {
    if (this.closed) return;
    this.rl.close();
    this.closed = true;
  }
}
