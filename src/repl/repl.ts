// The interactive REPL (`mailreplica repl`, and the foreground of `mailreplica dev`): one
// NATS connection for calls and live notifications, lines executed one at a time in order.
import type { NatsConnection } from "@nats-io/transport-node";
import { callMethod, closeQuietly, connectNats, type Caller } from "../cli/admin/index.js";
import type { NatsAuth } from "../natsauth/connect_options.js";
import { ReplConsole } from "./console.js";
import { historyFile, ReplHistory } from "./history.js";
import { NameLookup } from "./names.js";
import { watchNotifications } from "./notifications.js";
import { ReplSession } from "./session.js";

export const PROMPT = "mailreplica> ";

export interface ReplOptions {
  /** NATS endpoints. */
  servers: readonly string[];
  /** Credentials, TLS and inbox prefix (config nats.*): the admin identity's. */
  auth?: NatsAuth;
  /** Base of relative input_file names. */
  cwd: string;
  /** Default process.stdin. */
  input?: NodeJS.ReadableStream;
  /** Default process.stdout. */
  output?: NodeJS.WritableStream;
  /** Prompt and line editing; default: input and output are TTYs. */
  terminal?: boolean;
  /** Lines printed before the first prompt. */
  banner?: readonly string[];
  /** upload object store for `deliverMessage ... file PATH` (jetstream.buckets.uploads); default mr_uploads */
  uploadsBucket?: string;
  /** History file of a TTY session; null for none. Default: historyFile(process.env) (MR_REPL_HISTORY). */
  historyFile?: string | null;
}

/** How a REPL ended. */
export interface ReplResult {
  /** Lines that failed (a scripted REPL exits 1 when any did). */
  failures: number;
}

export class Repl {
  private readonly console: ReplConsole;
  private readonly session: ReplSession;
  private readonly notifications: { stop(): void };
  /** Aborts the running command's --sync wait. */
  private current: AbortController | undefined;
  private closing = false;
  /** Resolves when the REPL has ended (exit, quit, EOF, Ctrl-D, close()) and its connection is closed. */
  readonly finished: Promise<ReplResult>;

  private constructor(
    private readonly nc: NatsConnection,
    opts: ReplOptions,
  ) {
    const input = opts.input ?? process.stdin;
    const output = opts.output ?? process.stdout;
    const terminal = opts.terminal ?? (!!(input as { isTTY?: boolean }).isTTY && !!(output as { isTTY?: boolean }).isTTY);
    const call: Caller = (target, method, params, callOpts) =>
      callMethod(nc, target, method, params, { cwd: opts.cwd, ...(opts.uploadsBucket ? { uploadsBucket: opts.uploadsBucket } : {}), ...callOpts });
    const file = opts.historyFile === undefined ? historyFile(process.env) : (opts.historyFile ?? undefined);
    // A script piped in keeps no history: only a terminal session opens the file.
    // Reading the file may fail before the console exists: that note waits for it.
    const notes: string[] = [];
    let note = (m: string): void => void notes.push(m);
    const history = terminal && file !== undefined ? new ReplHistory(file, { onError: (m) => note(m) }) : undefined;
    this.console = new ReplConsole({ input, output, terminal, prompt: PROMPT, completer: new NameLookup(call).completer(), ...(history ? { history } : {}) });
    this.console.onInterrupt(() => this.current?.abort());
    this.session = new ReplSession({
      call,
      cwd: opts.cwd,
      out: (lines) => this.console.print(lines),
    });
    if (opts.banner?.length) this.console.print(opts.banner);
    if (notes.length) this.console.print(notes);
    note = (m) => this.console.print(m);
    this.notifications = watchNotifications(nc, (line) => this.console.print(line));
    this.watchConnection().catch(() => {}); // only a closed connection ends it
    this.finished = this.loop();
  }

  /** Connects to NATS (CallError NATS_UNREACHABLE when it cannot) and starts reading lines. */
  static async start(opts: ReplOptions): Promise<Repl> {
    const nc = await connectNats(opts.servers, { name: "mailreplica repl", reconnectForever: true, ...(opts.auth ? { auth: opts.auth } : {}) });
    return new Repl(nc, opts);
  }

  /** Prints lines without disturbing the prompt (for notices from outside, e.g. `dev`). */
  print(lines: string | readonly string[]): void {
    this.console.print(lines);
  }

  /** Ends the REPL: stops a running --sync wait and reading; `finished` resolves afterwards. */
  close(): void {
    this.closing = true;
    this.current?.abort();
    this.console.close();
  }

  private async loop(): Promise<ReplResult> {
    let failures = 0;
    try {
      this.console.prompt();
      for await (const line of this.console.lines()) {
        this.current = new AbortController();
        this.console.setBusy(true);
        const outcome = await this.session.execute(line, this.current.signal);
        this.console.setBusy(false);
        this.current = undefined;
        if (outcome === "exit" || this.closing) break;
        if (outcome === "failed") failures++;
        this.console.prompt();
      }
    } finally {
      this.console.close();
      this.notifications.stop();
      await closeQuietly(this.nc);
    }
    return { failures };
  }

  /** Says when NATS goes away and comes back, so a failing command is not a mystery. */
  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") this.console.print(`*** NATS connection lost (${s.server}); reconnecting...`);
      else if (s.type === "reconnect") this.console.print(`*** NATS connection back (${s.server})`);
    }
  }
}
