// The system under test: one nats-server, key files in a temp folder, two mailstores and a
// supervisor in this process (ms1 primary, ms2 replica), and mailstores in child processes
// where memory or CPU time must be read for one mailstore alone.
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerConfig, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { initKeys } from "../../src/keys/index.js";
import { MailstoreNode, type MailstoreOptions } from "../../actors/mailstore/node.js";
import { SupervisorNode } from "../../actors/supervisor/node.js";
import { localSystemConfig, localDataDir } from "../../src/dev/local_system.js";
import { mailstoreOptionsOf } from "../../actors/mailstore/options.js";
import { supervisorOptionsOf } from "../../actors/supervisor/supervisor_options.js";
import { rpcCall } from "../../src/jsonrpc/index.js";
import type { Config } from "../../src/config/index.js";
import { BenchNats } from "./nats.js";
import { exited, tempDir, track } from "./util.js";

export const MS1 = "ms1.bench.example.com";
export const MS2 = "ms2.bench.example.com";
const SUPERVISOR = "sup.bench";

export interface ChildStats {
  cpuMs: number;
  mem: NodeJS.MemoryUsage;
  agent?: { read: number; applied: number; skipped: number; catchUps: number; consumers: number };
  primaryActors: number;
  replicated: number;
}

/** A child process driven over IPC: each request gets one answer with the same id. */
export class IpcChild {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: any): void; reject(e: unknown): void }>();

  private constructor(
    readonly label: string,
    readonly proc: ChildProcess,
  ) {
    proc.on("message", (m: { id: number; ok: boolean; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m);
      else w.reject(new Error(`${label}: ${m.error}`));
    });
    proc.once("exit", (code, sig) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${label} exited (${code ?? sig})`));
      this.waiting.clear();
    });
  }

  /** Forks dist/scripts/bench/<script>. MR_BENCH_PROFILE=<dir>: it writes a V8 CPU profile there when it exits. */
  static fork(script: string, label: string): IpcChild {
    const file = join(fileURLToPath(new URL(".", import.meta.url)), script);
    const prof = process.env.MR_BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.MR_BENCH_PROFILE}`, `--cpu-prof-name=${label}.cpuprofile`] : [];
    const proc = track(fork(file, [], { execArgv: ["--expose-gc", ...prof], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    return new IpcChild(label, proc);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  call<T>(req: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.send({ id, ...req });
    });
  }

  /** Sends the stop request `req`, then waits for the exit (SIGKILL after 10 s). */
  async stop<T>(req: Record<string, unknown>): Promise<T | undefined> {
    if (!this.running) return undefined;
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    const r = await this.call<T>(req).catch(() => undefined);
    await exited(this.proc);
    clearTimeout(t);
    return r;
  }
}

/** A mailstore in a child process (see child.ts). */
export class ChildMailstore {
  private constructor(
    readonly host: string,
    readonly child: IpcChild,
  ) {}

  static async start(host: string, opts: Omit<MailstoreOptions, "log" | "clock">): Promise<ChildMailstore> {
    const c = new ChildMailstore(host, IpcChild.fork("child.js", host));
    await c.child.call({ cmd: "start", opts });
    return c;
  }

  stats(gc = false): Promise<ChildStats> {
    return this.child.call<ChildStats>({ cmd: "stats", gc });
  }

  /** The copy of each account on this mailstore (null where it has none), in the order asked. */
  async states(accounts: string[]): Promise<Array<AccountCopy | null>> {
    return (await this.child.call<{ states: Array<AccountCopy | null> }>({ cmd: "states", accounts })).states;
  }

  /** From now on, records when each log entry is applied here (until `applies`). */
  async track(): Promise<void> {
    await this.child.call({ cmd: "track" });
  }

  /** The entries applied since `track`: [accountId, seq, wallMs()]; stops recording. */
  async applies(): Promise<Array<[string, number, number]>> {
    return (await this.child.call<{ applies: Array<[string, number, number]> }>({ cmd: "applies" })).applies;
  }

  /** kill -9: the process ends without any cleanup (a crashed mailstore). */
  async kill9(): Promise<void> {
    if (!this.child.running) return;
    this.child.proc.kill("SIGKILL");
    await exited(this.child.proc);
  }

  async stop(): Promise<void> {
    await this.child.stop({ cmd: "stop" });
  }
}

/** One account's copy on a mailstore. */
export interface AccountCopy {
  role: string;
  status: string;
  appliedSeq: number;
}

export interface ReaderStats {
  count: number;
  cpuMs: number;
  rss: number;
}

/** A plain live JetStream reader in a child process (see reader.ts). */
export class Reader {
  private constructor(readonly child: IpcChild) {}

  /** Creates the consumers and starts reading; returns how long the creation took. */
  static async open(label: string, servers: string[], stream: string, configs: ConsumerConfig[]): Promise<{ reader: Reader; createMs: number }> {
    const r = new Reader(IpcChild.fork("reader.js", label));
    const { createMs } = await r.child.call<{ createMs: number }>({ cmd: "open", servers, stream, configs });
    return { reader: r, createMs };
  }

  stats(): Promise<ReaderStats> {
    return this.child.call<ReaderStats>({ cmd: "stats" });
  }

  /** Stops reading, deletes its consumers; returns how long the deletion took. */
  async close(): Promise<number> {
    return (await this.child.stop<{ deleteMs: number }>({ cmd: "close" }))?.deleteMs ?? NaN;
  }
}

export class BenchEnv {
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  ms1!: MailstoreNode;
  ms2!: MailstoreNode;
  supervisor!: SupervisorNode;
  readonly children: ChildMailstore[] = [];
  private readonly inProcess: MailstoreNode[] = [];

  private constructor(
    readonly nats: BenchNats,
    readonly root: string,
    readonly config: Config,
  ) {}

  static async start(): Promise<BenchEnv> {
    const env = await BenchEnv.startBare();
    env.ms1 = await MailstoreNode.start({ ...env.mailstoreOptions(MS1), log: () => {} });
    env.supervisor = await SupervisorNode.start({ ...supervisorOptionsOf(env.config, SUPERVISOR), log: () => {} });
    return env;
  }

  /**
   * nats-server and the client connection only: the caller starts the mailstores it needs
   * (startChild, startInProcess) and the supervisor (startSupervisor), so that no other
   * mailstore's agent reads the log while it measures.
   */
  static async startBare(): Promise<BenchEnv> {
    const root = tempDir("mr-bench-");
    const nats = await BenchNats.start();
    const config = localSystemConfig({ root, servers: [nats.url], heartbeatMs: 1_000, heartbeatTtlMs: 5_000, licence: 1_000_000 });
    const env = new BenchEnv(nats, root, config);
    // The supervisor's grant-signing key, before any mailstore reads the trusted signers.
    initKeys({ dir: config.keys.dir, host: SUPERVISOR, role: "supervisor" });
    env.nc = await connect({ servers: nats.url, name: "bench" });
    env.js = jetstream(env.nc);
    env.jsm = await jetstreamManager(env.nc);
    return env;
  }

  async startSupervisor(): Promise<SupervisorNode> {
    this.supervisor = await SupervisorNode.start({ ...supervisorOptionsOf(this.config, SUPERVISOR), log: () => {} });
    return this.supervisor;
  }

  /** A further mailstore in this process (stopped with the others by stop()). */
  async startInProcess(host: string): Promise<MailstoreNode> {
    const node = await MailstoreNode.start({ ...this.mailstoreOptions(host), log: () => {} });
    this.inProcess.push(node);
    return node;
  }

  /** The replica mailstore, started when a phase needs it (its agent reads every tx entry). */
  async startMs2(): Promise<MailstoreNode> {
    this.ms2 = await MailstoreNode.start({ ...this.mailstoreOptions(MS2), log: () => {} });
    return this.ms2;
  }

  mailstoreOptions(host: string): Omit<MailstoreOptions, "log" | "clock"> {
    initKeys({ dir: this.config.keys.dir, host });
    return mailstoreOptionsOf(this.config, host, localDataDir(this.config, host));
  }

  async startChild(host: string): Promise<ChildMailstore> {
    const c = await ChildMailstore.start(host, this.mailstoreOptions(host));
    this.children.push(c);
    return c;
  }

  get txStream(): string {
    return this.config.jetstream.streams.tx;
  }

  mailbox<T = any>(method: string, params: Record<string, unknown>, subject = "mr.rpc.mailbox", timeoutMs = 30_000): Promise<T> {
    return rpcCall<T>(this.nc, subject, method, params, { timeoutMs });
  }

  admin<T = any>(method: string, params: Record<string, unknown>): Promise<T> {
    return rpcCall<T>(this.nc, "mr.rpc.admin", method, params, { timeoutMs: 60_000 });
  }

  /** Messages stored on one subject of the tx stream (the appends that succeeded). */
  async subjectCount(subject: string): Promise<number> {
    const info = await this.jsm.streams.info(this.txStream, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  async lastSeq(): Promise<number> {
    return (await this.jsm.streams.info(this.txStream)).state.last_seq;
  }

  async consumerCount(stream = this.txStream): Promise<number> {
    let n = 0;
    for await (const _ of this.jsm.consumers.list(stream)) n++;
    return n;
  }

  private stopped: Promise<void> | undefined;

  /** Stops everything it started; a second call waits for the first. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.allSettled(this.children.map((c) => c.stop()));
      await this.supervisor?.stop().catch(() => {});
      await this.ms1?.stop().catch(() => {});
      await this.ms2?.stop().catch(() => {});
      for (const n of this.inProcess) await n.stop().catch(() => {});
      await this.nc?.close().catch(() => {});
      await this.nats.stop();
    })();
    return this.stopped;
  }
}
