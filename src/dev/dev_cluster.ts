// `mailreplica dev` (what `npm start` runs): a local JetStream nats-server, key files, three
// mailstores and a supervisor, each started only when needed and in that order, then the
// REPL in the foreground. Stopping (exit, Ctrl-D, SIGINT, SIGTERM) stops what dev started:
// the mailstores and the supervisor first, the nats-server last.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config/index.js";
import { natsServerPath } from "../natsserver/binary.js";
import { projectRoot } from "../paths.js";
import { Repl } from "../repl/index.js";
import { ensureDevKeys } from "./keys.js";
import { ensureLocalNats, type NatsEndpoint } from "./local_nats.js";
import { ManagedProcess, type ExitInfo } from "./managed_process.js";
import { DEV_MAILSTORES, devPaths, logFileOf, type DevPaths } from "./paths.js";
import { StopSignal } from "./stop_signal.js";

export interface DevOptions {
  /** The effective configuration (nats.servers[0] is where NATS listens). */
  config: Config;
  /** The var folder (nats store, logs; data and keys unless configured elsewhere). */
  varDir: string;
  /** Run the REPL in the foreground (else wait for SIGINT/SIGTERM). */
  repl: boolean;
  /** Only the nats-server and the keys. */
  onlyNats: boolean;
  /** A --config file, handed on to the mailstores and the supervisor. */
  configFile?: string;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  /** How long each process may take to get ready, ms. Default 30000. */
  readyTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping, ms. Default 10000. */
  stopGraceMs?: number;
}

/** A mailstore or the supervisor, as started. */
interface Service {
  proc: ManagedProcess;
  /** data folder (mailstores) */
  data?: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class DevCluster {
  private readonly paths: DevPaths;
  private readonly stop = new StopSignal();
  private nats: NatsEndpoint | undefined;
  private readonly services: Service[] = [];
  private repl: Repl | undefined;

  constructor(private readonly o: DevOptions) {
    this.paths = devPaths(o.varDir, o.config);
  }

  /** Starts, runs until asked to stop, stops. Returns the exit code; start-up failures throw DevError after cleaning up. */
  async run(): Promise<number> {
    try {
      await this.startAll();
      if (this.stop.requested) return 0;
      this.printSummary();
      this.watchDeaths();
      await this.foreground();
      return 0;
    } finally {
      await this.stopAll();
      this.stop.dispose();
    }
  }

  private say(line: string): void {
    this.o.out(line);
  }

  /** Something to see at once, whatever the REPL is doing. */
  private alert(lines: string[]): void {
    if (this.repl) this.repl.print(lines);
    else for (const l of lines) this.o.err(l);
  }

  private async startAll(): Promise<void> {
    const { paths, o } = this;
    mkdirSync(paths.logDir, { recursive: true });
    const readyMs = o.readyTimeoutMs ?? 30_000;
    const url = o.config.nats.servers[0]!;
    this.say(`mailreplica dev: var folder ${paths.varDir}`);
    this.nats = await ensureLocalNats({
      url,
      storeDir: paths.natsStore,
      logFile: logFileOf(paths, "nats-server"),
      binary: natsServerPath,
      readyTimeoutMs: readyMs,
      signal: this.stop.signal,
    });
    this.say(`  NATS ${this.nats.url}: ${this.nats.description}`);
    if (this.stop.requested) return;

    // Keys even with --only-nats: mailstores started by hand afterwards need them.
    const keys = ensureDevKeys(paths.keysDir, DEV_MAILSTORES);
    this.say(`  keys ${keys.dir}: ${keys.created.length ? `created for ${keys.created.join(", ")}` : "existing ones kept"}${keys.created.length && keys.existing.length ? `; kept for ${keys.existing.join(", ")}` : ""}`);
    if (o.onlyNats) return;

    for (const host of DEV_MAILSTORES) {
      if (this.stop.requested) return;
      const data = join(paths.dataDir, host);
      mkdirSync(data, { recursive: true });
      await this.startService(host, ["mailstore", "--host", host, "--data", data], new RegExp(`\\bmailstore ${escapeRegExp(host)} started\\b`), readyMs, data);
    }
    if (this.stop.requested) return;
    await this.startService("supervisor", ["supervisor"], /\bsupervisor \S+ started\b/, readyMs);
  }

  private async startService(name: string, args: string[], ready: RegExp, readyMs: number, data?: string): Promise<void> {
    const { paths, o } = this;
    const started = Date.now();
    const bin = join(projectRoot(), "bin", "mailreplica");
    const config = o.configFile ? ["--config", resolve(o.cwd, o.configFile)] : [];
    const proc = ManagedProcess.start({
      name,
      command: process.execPath,
      args: [bin, ...args, "--servers", this.nats!.url, ...config],
      logFile: logFileOf(paths, name),
      // The keys folder may follow --var rather than the configuration: say it explicitly.
      env: { ...process.env, MR_KEYS_DIR: paths.keysDir },
    });
    this.services.push({ proc, ...(data ? { data } : {}) });
    await proc.waitReady(ready, readyMs, this.stop.signal);
    if (!this.stop.requested) this.say(`  ${name} ready (pid ${proc.pid}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }

  private printSummary(): void {
    const { paths, o } = this;
    const nats = this.nats!;
    const rows: Array<[string, string]> = [[
      "nats-server",
      `${nats.url}  ${nats.process ? `pid ${nats.process.pid}, started here; store ${paths.natsStore}, log ${logFileOf(paths, "nats-server")}` : "already running (not started here; keeps running)"}`,
    ]];
    for (const s of this.services) rows.push([s.proc.name, `pid ${s.proc.pid}${s.data ? `, data ${s.data}` : ""}, log ${s.proc.logFile}`]);
    const w = Math.max(...rows.map(([n]) => n.length));
    this.say("");
    this.say(`mailreplica dev is up (keys ${paths.keysDir}):`);
    for (const [n, d] of rows) this.say(`  ${n.padEnd(w)}  ${d}`);
    this.say(o.onlyNats ? "Only the nats-server runs (--only-nats); start mailstores with 'mailreplica mailstore --host H'." : `Clients: --servers ${nats.url} (mailreplica repl, mailreplica getAccountStatus ...).`);
    this.say(
      o.repl
        ? `Stop: type exit or press Ctrl-D in the REPL (or send SIGTERM to pid ${process.pid}); everything started here stops, the nats-server last.`
        : `Stop: Ctrl-C, or SIGTERM to pid ${process.pid}; everything started here stops, the nats-server last.`,
    );
  }

  /** A dead mailstore or supervisor is reported loudly; the others keep running. */
  private watchDeaths(): void {
    const all = [...this.services.map((s) => s.proc), ...(this.nats?.process ? [this.nats.process] : [])];
    for (const proc of all) {
      proc.onUnexpectedExit((e: ExitInfo) => {
        const tail = proc.tail(8).map((l) => `!!!   ${l}`);
        this.alert([
          `!!! ${proc.name} exited unexpectedly (${ManagedProcess.describe(e)}); the rest keeps running.`,
          `!!! its log: ${proc.logFile}${tail.length ? "; last lines:" : ""}`,
          ...tail,
        ]);
      });
    }
  }

  private async foreground(): Promise<void> {
    if (!this.o.repl) {
      await this.stop.wait();
      return;
    }
    this.repl = await Repl.start({
      servers: [this.nats!.url],
      cwd: this.o.cwd,
      banner: ["", "REPL: 'help' lists the commands; 'exit' or Ctrl-D stops the dev cluster."],
    });
    const repl = this.repl;
    await Promise.race([repl.finished, this.stop.wait()]);
    this.stop.trigger(); // the REPL ended: that is the stop request (and it releases stop.wait())
    repl.close();
    await repl.finished;
    this.repl = undefined;
  }

  /** The supervisor, then the mailstores (in parallel; SIGTERM, SIGKILL after the grace), the nats-server last. */
  private async stopAll(): Promise<void> {
    const grace = this.o.stopGraceMs ?? 10_000;
    const running = this.services.filter((s) => s.proc.running);
    if (running.length || this.nats?.process?.running) this.say("mailreplica dev: stopping what it started...");
    const stopOne = async (p: ManagedProcess): Promise<void> => {
      const { forced } = await p.stop(grace);
      this.say(`  ${p.name} ${forced ? `did not stop within ${Math.round(grace / 1000)} s of SIGTERM: killed (SIGKILL)` : "stopped"}`);
    };
    // The supervisor first, so it does not see the mailstores go and react (auto-failover).
    await Promise.all(running.filter((s) => s.proc.name === "supervisor").map((s) => stopOne(s.proc)));
    await Promise.all(running.filter((s) => s.proc.name !== "supervisor").map((s) => stopOne(s.proc)));
    const natsProc = this.nats?.process;
    if (natsProc?.running) await stopOne(natsProc);
  }
}

/** Runs `mailreplica dev`; see DevCluster. */
export function runDev(o: DevOptions): Promise<number> {
  return new DevCluster(o).run();
}
