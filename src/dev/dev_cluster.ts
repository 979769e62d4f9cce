// `mailreplica dev` (what `npm start` runs): a local JetStream nats-server (or, with
// `--nats-nodes 3`, a three-node JetStream cluster and every asset at 3 replicas), key files,
// three mailstores and a supervisor, each started only when needed and in that order, then
// the REPL in the foreground. Stopping (exit, Ctrl-D, SIGINT, SIGTERM) stops what dev
// started: the mailstores and the supervisor first, the nats-server nodes last.
import { mkdirSync } from "node:fs";
import { privateFolder } from "../store/private_folder.js";
import { join, resolve } from "node:path";
import type { Config } from "../config/index.js";
import { natsServerPath } from "../natsserver/binary.js";
import { projectRoot } from "../paths.js";
import { Repl } from "../repl/index.js";
import { ensureDevKeys } from "./keys.js";
import { ensureDevAuth, type DevAuth } from "./auth.js";
import { describeNatsAuth, type NatsAuth } from "../natsauth/connect_options.js";
import type { Role } from "../natsauth/identities.js";
import { ensureLocalNats } from "./local_nats.js";
import { ensureLocalNatsCluster } from "./local_nats_cluster.js";
import { ManagedProcess, type ExitInfo } from "./managed_process.js";
import { clusterNodeAddresses } from "./nats_nodes.js";
import { DEV_MAILSTORES, DEV_SUPERVISOR, devPaths, logFileOf, natsNodeStore, type DevPaths } from "./paths.js";
import { StopSignal } from "./stop_signal.js";
import { nextFreePorts } from "./free_ports.js";
import { formatListen, parseListen } from "../metrics/listen.js";

/** Where dev's metrics endpoints start when metrics.listen is not configured: 9464 + n on loopback. */
export const DEV_METRICS_BASE = "127.0.0.1:9464";

export interface DevOptions {
  /** The effective configuration (nats.servers: where NATS listens; see natsNodes). */
  config: Config;
  /**
   * 1 (default): one nats-server at nats.servers[0]. 3: a JetStream cluster of three nodes at
   * the three configured servers, or at the one configured port and the next two; every
   * process dev starts gets all three URLs and jetstream.replicas 3.
   */
  natsNodes?: 1 | 3;
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
  /** With 3 nodes: how long the cluster may take to take 3-replica assets, ms. Default node.startupTimeoutMs. */
  clusterReadyTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping, ms. Default 10000. */
  stopGraceMs?: number;
}

/** A mailstore or the supervisor, as started. */
interface Service {
  proc: ManagedProcess;
  /** data folder (mailstores) */
  data?: string;
  /** its metrics endpoint */
  metrics?: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The NATS side as found or started: what to connect to, what to stop last, what to print. */
interface NatsSide {
  urls: string[];
  /** nats-server processes dev started (none when it found them running). */
  processes: ManagedProcess[];
  /** Summary rows: name, then URL and details. */
  rows: Array<[string, string]>;
}

export class DevCluster {
  private readonly paths: DevPaths;
  private readonly nodes: 1 | 3;
  private readonly stop = new StopSignal();
  private nats: NatsSide | undefined;
  /** The dev identities; used when dev started the nats-server(s) itself (they load its include). */
  private devAuth: DevAuth | undefined;
  private readonly services: Service[] = [];
  private repl: Repl | undefined;

  constructor(private readonly o: DevOptions) {
    this.nodes = o.natsNodes ?? 1;
    this.paths = devPaths(o.varDir, o.config, this.nodes);
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
    this.say(`mailreplica dev: var folder ${paths.varDir}`);
    // Identities first: a nats-server dev starts loads their include and refuses anonymous clients.
    const devAuth = ensureDevAuth(paths.authDir, o.config, DEV_MAILSTORES, DEV_SUPERVISOR);
    this.say(`  NATS identities ${paths.authDir}: ${devAuth.created.length ? `created for ${devAuth.created.join(", ")}` : "existing ones kept"}`);
    this.nats = this.nodes === 3 ? await this.startClusterNats(readyMs, devAuth) : await this.startSingleNats(readyMs, devAuth);
    if (this.stop.requested) return;
    if (this.nats.processes.length) {
      this.devAuth = devAuth;
      devAuth.writeAdminConfig(this.nats.urls);
    } else {
      // A running server dev cannot configure: everything dev starts uses the configured credentials.
      this.say(
        `  NATS was already running: dev did not configure it; its processes and the REPL use the configured credentials (${describeNatsAuth(o.config.nats)})`,
      );
    }

    // Keys even with --only-nats: mailstores started by hand afterwards need them.
    const keys = ensureDevKeys(paths.keysDir, DEV_MAILSTORES, DEV_SUPERVISOR);
    this.say(
      `  keys ${keys.dir}: ${keys.created.length ? `created for ${keys.created.join(", ")}` : "existing ones kept"}${keys.created.length && keys.existing.length ? `; kept for ${keys.existing.join(", ")}` : ""}`,
    );
    if (o.onlyNats) return;

    // Each process its own metrics port: from metrics.listen's (else 9464) up, skipping taken ones.
    const base = parseListen(o.config.metrics.listen ?? DEV_METRICS_BASE);
    const at = "problem" in base ? (parseListen(DEV_METRICS_BASE) as { host: string; port: number }) : base;
    const ports = await nextFreePorts(at.host, at.port, DEV_MAILSTORES.length + 1);
    const metricsEnv = (i: number): Record<string, string> =>
      ports[i] !== undefined ? { MR_METRICS_LISTEN: formatListen({ host: at.host, port: ports[i]! }) } : {};
    for (const [i, host] of DEV_MAILSTORES.entries()) {
      if (this.stop.requested) return;
      const data = join(paths.dataDir, host);
      privateFolder(data);
      await this.startService(host, ["mailstore", "--host", host, "--data", data], new RegExp(`\\bmailstore ${escapeRegExp(host)} started\\b`), readyMs, data, {
        ...this.devAuth?.env("mailstore", host),
        ...metricsEnv(i),
      });
    }
    if (this.stop.requested) return;
    await this.startService("supervisor", ["supervisor", "--host", DEV_SUPERVISOR], /\bsupervisor \S+ started\b/, readyMs, undefined, {
      ...this.devAuth?.env("supervisor", DEV_SUPERVISOR),
      ...metricsEnv(DEV_MAILSTORES.length),
    });
  }

  /** The connection settings of `role` for what dev starts: its own identity, or the configured credentials. */
  private authOf(role: Role, host?: string): NatsAuth {
    return this.devAuth ? this.devAuth.auth(role, host) : this.o.config.nats;
  }

  private async startSingleNats(readyMs: number, devAuth: DevAuth): Promise<NatsSide> {
    const { paths } = this;
    const logFile = logFileOf(paths, "nats-server");
    const nats = await ensureLocalNats({
      url: this.o.config.nats.servers[0]!,
      storeDir: paths.natsStore,
      logFile,
      binary: natsServerPath,
      readyTimeoutMs: readyMs,
      signal: this.stop.signal,
      serverConfig: devAuth.include,
    });
    this.say(`  NATS ${nats.url}: ${nats.description}`);
    const detail = nats.process
      ? `pid ${nats.process.pid}, started here; store ${paths.natsStore}, log ${logFile}`
      : "already running (not started here; keeps running)";
    return { urls: [nats.url], processes: nats.process ? [nats.process] : [], rows: [["nats-server", `${nats.url}  ${detail}`]] };
  }

  private async startClusterNats(readyMs: number, devAuth: DevAuth): Promise<NatsSide> {
    const { paths } = this;
    const addresses = clusterNodeAddresses(this.o.config.nats.servers);
    this.say(
      `  NATS: a ${addresses.length}-node JetStream cluster at ${addresses.map((a) => a.url).join(", ")}; waiting until it takes ${addresses.length}-replica assets...`,
    );
    const cluster = await ensureLocalNatsCluster({
      nodes: addresses,
      storeDir: (name) => natsNodeStore(paths, name),
      logFile: (name) => logFileOf(paths, name),
      binary: natsServerPath,
      readyTimeoutMs: readyMs,
      // The same budget the mailstores and the supervisor get to find JetStream at start.
      clusterReadyTimeoutMs: this.o.clusterReadyTimeoutMs ?? this.o.config.node.startupTimeoutMs,
      waiting: (reason) => this.say(`    waiting for JetStream: ${reason}`),
      signal: this.stop.signal,
      auth: this.o.config.nats,
      devAuth: { include: devAuth.include, probe: devAuth.auth("operator") },
    });
    const rows: Array<[string, string]> = [];
    for (const n of cluster.nodes) {
      this.say(`  ${n.name} ${n.url}: ${n.process ? `started here (pid ${n.process.pid}), ${n.description}` : n.description}`);
      rows.push([
        n.name,
        `${n.url}  ${n.process ? `pid ${n.process.pid}, started here; ${n.description}, log ${n.process.logFile}` : "already running (not started here; keeps running)"}`,
      ]);
    }
    return { urls: cluster.urls, processes: cluster.nodes.flatMap((n) => (n.process ? [n.process] : [])), rows };
  }

  private async startService(name: string, args: string[], ready: RegExp, readyMs: number, data?: string, authEnv?: Record<string, string>): Promise<void> {
    const { paths, o } = this;
    const started = Date.now();
    const bin = join(projectRoot(), "bin", "mailreplica");
    const config = o.configFile ? ["--config", resolve(o.cwd, o.configFile)] : [];
    const proc = ManagedProcess.start({
      name,
      command: process.execPath,
      args: [bin, ...args, "--servers", this.nats!.urls.join(","), ...config],
      logFile: logFileOf(paths, name),
      // The keys folder may follow --var rather than the configuration: say it explicitly.
      // On the cluster every asset gets 3 replicas, whatever the configuration says.
      // MR_SYSTEM_CONFIG=none: like dev itself, its processes never read /etc/mailreplica.
      // authEnv: its own nkey seed and inbox prefix when dev started the nats-server(s), and its MR_METRICS_LISTEN.
      env: { ...process.env, MR_SYSTEM_CONFIG: "none", MR_KEYS_DIR: paths.keysDir, ...(this.nodes === 3 ? { MR_JS_REPLICAS: "3" } : {}), ...authEnv },
    });
    const metrics = authEnv?.MR_METRICS_LISTEN;
    this.services.push({ proc, ...(data ? { data } : {}), ...(metrics ? { metrics: `http://${metrics}/metrics` } : {}) });
    await proc.waitReady(ready, readyMs, this.stop.signal);
    if (!this.stop.requested) this.say(`  ${name} ready (pid ${proc.pid}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }

  private printSummary(): void {
    const { paths, o } = this;
    const nats = this.nats!;
    const rows: Array<[string, string]> = [...nats.rows];
    for (const s of this.services)
      rows.push([s.proc.name, `pid ${s.proc.pid}${s.data ? `, data ${s.data}` : ""}, log ${s.proc.logFile}${s.metrics ? `, metrics ${s.metrics}` : ""}`]);
    const w = Math.max(...rows.map(([n]) => n.length));
    this.say("");
    this.say(`mailreplica dev is up (keys ${paths.keysDir}):`);
    for (const [n, d] of rows) this.say(`  ${n.padEnd(w)}  ${d}`);
    const servers = nats.urls.join(",");
    const replicas = this.nodes === 3 ? " MR_JS_REPLICAS=3" : "";
    const da = this.devAuth;
    if (o.onlyNats) {
      const ms = da
        ? `MR_NATS_NKEY=${da.auth("mailstore", DEV_MAILSTORES[0]!).nkeyFile} MR_NATS_INBOX_PREFIX=${da.auth("mailstore", DEV_MAILSTORES[0]!).inboxPrefix} `
        : "";
      this.say(
        `Only NATS runs (--only-nats); start mailstores with '${replicas ? `${replicas.trim()} ` : ""}${ms}mailreplica mailstore --host ${DEV_MAILSTORES[0]} --servers ${servers}' (each host with its own seed in ${paths.authDir}).`,
      );
    }
    if (da) {
      this.say(
        `Clients: --servers ${servers} with an identity; anonymous NATS connections are refused. Other terminals (as admin): MR_CONFIG=${da.adminConfig} mailreplica getServices (or mailreplica repl).`,
      );
      this.say(
        `  JetStream administration: nats --server ${nats.urls[0]} --nkey ${da.auth("operator").nkeyFile} --inbox-prefix ${da.auth("operator").inboxPrefix} stream ls`,
      );
    } else if (!o.onlyNats) {
      this.say(`Clients: --servers ${servers} (mailreplica repl, mailreplica getAccountStatus ...).`);
    }
    const last = this.nodes === 3 ? "the nats-server nodes last" : "the nats-server last";
    this.say(
      o.repl
        ? `Stop: type exit or press Ctrl-D in the REPL (or send SIGTERM to pid ${process.pid}); everything started here stops, ${last}.`
        : `Stop: Ctrl-C, or SIGTERM to pid ${process.pid}; everything started here stops, ${last}.`,
    );
  }

  /** A dead mailstore or supervisor is reported loudly; the others keep running. */
  private watchDeaths(): void {
    const all = [...this.services.map((s) => s.proc), ...(this.nats?.processes ?? [])];
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
      servers: this.nats!.urls,
      auth: this.authOf("admin"),
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

  /** The supervisor, then the mailstores (in parallel; SIGTERM, SIGKILL after the grace), the nats-server nodes last. */
  private async stopAll(): Promise<void> {
    const grace = this.o.stopGraceMs ?? 10_000;
    const running = this.services.filter((s) => s.proc.running);
    const natsRunning = (this.nats?.processes ?? []).filter((p) => p.running);
    if (running.length || natsRunning.length) this.say("mailreplica dev: stopping what it started...");
    const stopOne = async (p: ManagedProcess): Promise<void> => {
      const { forced } = await p.stop(grace);
      this.say(`  ${p.name} ${forced ? `did not stop within ${Math.round(grace / 1000)} s of SIGTERM: killed (SIGKILL)` : "stopped"}`);
    };
    // The supervisor first, so it does not see the mailstores go and react (auto-failover).
    await Promise.all(running.filter((s) => s.proc.name === "supervisor").map((s) => stopOne(s.proc)));
    await Promise.all(running.filter((s) => s.proc.name !== "supervisor").map((s) => stopOne(s.proc)));
    await Promise.all(natsRunning.map(stopOne));
  }
}

/** Runs `mailreplica dev`; see DevCluster. */
export function runDev(o: DevOptions): Promise<number> {
  return new DevCluster(o).run();
}
