// A process `dev` started: its output appended to its own log file (kept after it stops),
// readiness read from that log, an unexpected exit reported, and a stop that escalates
// from SIGTERM to SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, closeSync, openSync, readSync, statSync } from "node:fs";
import { DevError } from "./errors.js";

export interface ProcessSpec {
  /** Shown in messages: `mailstore1.example.com`, `supervisor`, `nats-server`. */
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every process started by this module, so a crashing `dev` still stops them (see below). */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Children are in their own process group (so a terminal's Ctrl-C reaches only dev, which
  // stops them in order); if dev dies without stopping them, ask them to stop on the way out.
  process.on("exit", () => {
    for (const p of live) p.signal("SIGTERM");
  });
}

function describeExit(e: ExitInfo): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly proc: ChildProcess;
  /** Where this run's output starts in the (appended) log file. */
  private readonly logStart: number;
  private stopping = false;
  private exitInfo: ExitInfo | undefined;
  private unexpected: Array<(e: ExitInfo) => void> = [];
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;

  private constructor(spec: ProcessSpec) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    // Logs name accounts and hosts: owner and group may read them, others not (0640).
    appendFileSync(spec.logFile, `--- ${new Date().toISOString()} mailreplica dev starts ${spec.name}: ${spec.command} ${spec.args.join(" ")}\n`, {
      mode: 0o640,
    });
    chmodSync(spec.logFile, 0o640);
    this.logStart = statSync(spec.logFile).size;
    const fd = openSync(spec.logFile, "a");
    try {
      this.proc = spawn(spec.command, [...spec.args], {
        stdio: ["ignore", fd, fd],
        detached: true,
        env: spec.env ?? process.env,
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
      });
    } finally {
      closeSync(fd); // the child has its own copy
    }
    live.add(this);
    installExitHook();
    this.exited = new Promise((resolve) => {
      const finish = (e: ExitInfo): void => {
        if (this.exitInfo) return;
        this.exitInfo = e;
        live.delete(this);
        if (!this.stopping) for (const cb of this.unexpected) cb(e);
        resolve(e);
      };
      this.proc.once("exit", (code, signal) => finish({ code, signal }));
      // spawn failed (no such binary): there is no exit event.
      this.proc.once("error", (err) => {
        appendFileSync(this.logFile, `mailreplica dev: cannot start ${this.name}: ${err.message}\n`);
        finish({ code: null, signal: null });
      });
    });
  }

  static start(spec: ProcessSpec): ManagedProcess {
    return new ManagedProcess(spec);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Called once if the process exits without stop() having been asked. */
  onUnexpectedExit(cb: (e: ExitInfo) => void): void {
    this.unexpected.push(cb);
  }

  /** Sends `sig` if the process still runs; never throws. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      this.proc.kill(sig);
    } catch {
      /* gone meanwhile */
    }
  }

  /** What this run wrote to its log so far. */
  private output(): string {
    let fd: number | undefined;
    try {
      fd = openSync(this.logFile, "r");
      const size = statSync(this.logFile).size;
      const len = Math.max(0, size - this.logStart);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, this.logStart);
      return buf.toString("utf8");
    } catch {
      return "";
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** The last `n` lines of this run's output. */
  tail(n = 15): string[] {
    const lines = this.output().split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-n);
  }

  private failure(why: string): DevError {
    const tail = this.tail();
    return new DevError(
      "DEV_START_FAILED",
      `${this.name} ${why}; its log is ${this.logFile}${tail.length ? `, last lines:\n${tail.map((l) => `    ${l}`).join("\n")}` : " (empty)"}`,
    );
  }

  /**
   * Resolves when this run's log has a line matching `ready`. Rejects with DevError
   * DEV_START_FAILED (with the log's last lines) when the process exits first or `timeoutMs`
   * passes; resolves quietly when `signal` aborts (the caller is stopping anyway).
   */
  async waitReady(ready: RegExp, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted) return;
      if (ready.test(this.output())) return;
      if (!this.running) throw this.failure(`exited before it was ready (${describeExit(this.exitInfo!)})`);
      if (Date.now() > deadline) throw this.failure(`was not ready after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone, `forced` when it took the SIGKILL. */
  async stop(graceMs = 10_000): Promise<{ exit: ExitInfo; forced: boolean }> {
    this.stopping = true;
    if (!this.running) return { exit: this.exitInfo!, forced: false };
    let forced = false;
    this.signal("SIGTERM");
    const timer = setTimeout(() => {
      forced = true;
      this.signal("SIGKILL");
    }, graceMs);
    try {
      return { exit: await this.exited, forced };
    } finally {
      clearTimeout(timer);
    }
  }

  /** `exit code 1` / `killed by SIGKILL`, for messages. */
  static describe(e: ExitInfo): string {
    return describeExit(e);
  }
}
