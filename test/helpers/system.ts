// A whole mailreplica system for tests: a real nats-server (or cluster), key files in a
// temporary folder, mailstores and a supervisor either in this process (fast, inspectable)
// or as real child processes (for kill -9), and JSON-RPC helpers.
import { prettyLine } from "../../src/log/index.js";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { ChildProcess } from "node:child_process";
import { defaultConfig } from "../../config/defaults.js";
import { initKeys, signingFileName } from "../../src/keys/index.js";
import { initAuth, type AuthInitResult } from "../../src/natsauth/auth_init.js";
import { natsConnectionOptions, type NatsAuth } from "../../src/natsauth/connect_options.js";
import type { Role } from "../../src/natsauth/identities.js";
import { MailstoreNode, type MailstoreOptions } from "../../actors/mailstore/node.js";
import { localSystemConfig, localDataDir } from "../../src/dev/local_system.js";
import { mailstoreOptionsOf } from "../../actors/mailstore/options.js";
import { supervisorOptionsOf } from "../../actors/supervisor/supervisor_options.js";
import { SupervisorNode, type SupervisorOptions } from "../../actors/supervisor/node.js";
import { rpcCall } from "../../src/jsonrpc/index.js";
import { MetadataStore } from "../../src/store/index.js";
import type { Config } from "../../src/config/index.js";
import { configFileEnv, NodeChildren } from "./node_children.js";
import { startNatsCluster, startNatsServer, type NatsCluster, type NatsNode } from "./nats.js";
import { exited, tempDir } from "./processes.js";

export interface TestSystemOptions {
  /** mailstore hosts to register keys for (default ms1..ms3.example.com) */
  hosts?: string[];
  /** override config fields (e.g. licence quota) */
  config?: (c: Config) => void;
  /**
   * A three-node nats-server cluster instead of one server: every asset at 3 replicas, every
   * process given all three URLs. `"forming"` returns as soon as the nodes are spawned (no
   * meta leader yet), so processes start against a cluster that is still forming.
   */
  cluster?: "ready" | "forming";
  /** the single server's max_payload in bytes (default nats-server's 1 MiB); not with `cluster` */
  natsMaxPayload?: number;
  /**
   * A licence file for this many accounts with replicas, signed by a development issuer the
   * supervisor is told to trust (licence.devIssuerKeyFile): more than the unlicensed quota.
   */
  licence?: number;
  /** where in-process mailstores and the supervisor log (default: nowhere, stderr with MR_TEST_LOG) */
  log?: (line: string) => void;
  /**
   * Least privilege: `auth init` identities for the hosts and these supervisors, a server that
   * loads their include (log in `natsLogFile`), every process with its own identity and the
   * test client `nc` as admin. Single server only.
   */
  auth?: { supervisors: string[] };
}

/** Heartbeats, node expiry and the supervisor lease of a test system: short, so tests see failures within seconds. */
export const FAST_TIMING = { heartbeatMs: 200, heartbeatTtlMs: 2_000, leaseTtlMs: 2_000 } as const;

export class TestSystem {
  nc!: NatsConnection;
  readonly inProcess = new Map<string, MailstoreNode>();
  private readonly children = new NodeChildren();
  /** the child processes by host or supervisor name (spawnMailstore, spawnSupervisor) */
  readonly processes = this.children.processes;
  supervisor: SupervisorNode | undefined;

  private constructor(
    readonly nats: NatsNode,
    readonly root: string,
    readonly config: Config,
    readonly hosts: string[],
    /** the cluster when started with `cluster` (nats is then its first node) */
    readonly cluster?: NatsCluster,
    private readonly logSink?: (line: string) => void,
    /** the identities when started with `auth` */
    readonly auth?: AuthInitResult,
  ) {}

  /** The nats-server's log file when started with `auth`. */
  get natsLogFile(): string {
    return join(this.root, "nats-server.log");
  }

  /** Connection settings of an identity (started with `auth`), or none (anonymous). */
  identity(role: Role, host?: string): NatsAuth | undefined {
    const i = this.auth?.identities.find((x) => x.id.role === role && x.id.host === host);
    if (this.auth && !i) throw new Error(`no ${role} ${host ?? ""} identity in this test system`);
    return i ? { nkeyFile: i.seedFile, inboxPrefix: i.inboxPrefix } : undefined;
  }

  static async start(opts: TestSystemOptions = {}): Promise<TestSystem> {
    const root = tempDir("mr-system-");
    const hosts = opts.hosts ?? ["ms1.example.com", "ms2.example.com", "ms3.example.com"];
    // Permissions name the default stream and bucket names (a test with auth keeps them).
    const auth = opts.auth
      ? initAuth({ dir: join(root, "auth"), mailstores: hosts, supervisors: opts.auth.supervisors, jetstream: defaultConfig().jetstream })
      : undefined;
    const cluster = opts.cluster ? await startNatsCluster(3, { waitReady: opts.cluster === "ready" }) : undefined;
    if (auth && opts.natsMaxPayload !== undefined) throw new Error("TestSystem: natsMaxPayload and auth cannot be combined (each is a -c config file)");
    const nats = cluster
      ? cluster.nodes[0]!
      : await startNatsServer(
          "n1",
          auth ? ["-c", auth.include, "-l", join(root, "nats-server.log")] : opts.natsMaxPayload !== undefined ? natsConfigArgs(root, opts.natsMaxPayload) : [],
        );
    const config = localSystemConfig({
      root,
      servers: cluster ? cluster.urls : [nats.url],
      ...(cluster ? { replicas: 3 } : {}),
      ...FAST_TIMING,
      ...(opts.licence !== undefined ? { licence: opts.licence } : {}),
      mailstores: hosts,
    });
    opts.config?.(config);
    const sys = new TestSystem(nats, root, config, hosts, cluster, opts.log, auth);
    // In a forming cluster no node may accept clients yet: keep trying, and follow restarts.
    sys.nc = await connect({
      ...natsConnectionOptions(config.nats.servers, sys.identity("admin")),
      name: "test client",
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
    });
    return sys;
  }

  /** A system with a mailstore for each host (in order), then the supervisor sup1 (it writes the account records createAccount asks for), all in this process. */
  static async startRunning(opts: TestSystemOptions = {}): Promise<TestSystem> {
    const sys = await TestSystem.start(opts);
    for (const h of sys.hosts) await sys.startMailstore(h);
    await sys.startSupervisor();
    return sys;
  }

  dataDir(host: string): string {
    return join(this.root, "data", host);
  }

  /** A node's log: each line to `sink` (default the system's `log`), and to standard error, readable, with MR_TEST_LOG. */
  nodeLog(sink = this.logSink): (line: string) => void {
    // Each call is one JSON log line (src/log); MR_TEST_LOG shows them as a terminal would.
    if (process.env.MR_TEST_LOG) return (l) => (process.stderr.write(`${prettyLine(l)}\n`), sink?.(l));
    return sink ?? (() => {});
  }

  /**
   * A mailstore's options from this system's configuration, with its own NATS identity (started
   * with `auth`) and this system's log; for a test that starts and stops the node itself.
   */
  mailstoreOptions(host: string, overrides: Partial<MailstoreOptions> = {}): MailstoreOptions {
    return {
      ...mailstoreOptionsOf(this.config, host, localDataDir(this.config, host)),
      ...(this.auth ? { natsAuth: this.identity("mailstore", host)! } : {}),
      log: this.nodeLog(),
      ...overrides,
    };
  }

  /** Starts a mailstore inside this process; stop() stops it. */
  async startMailstore(host: string, overrides: Partial<MailstoreOptions> = {}): Promise<MailstoreNode> {
    const node = await MailstoreNode.start(this.mailstoreOptions(host, overrides));
    this.inProcess.set(host, node);
    return node;
  }

  /**
   * A supervisor's grant-signing key, created (and added to the shared trusted-signers.json)
   * the first time a supervisor of that name starts; running mailstores read the list again
   * when they meet the new key.
   */
  ensureSupervisorKey(name: string): void {
    if (!existsSync(join(this.config.keys.dir, signingFileName(name, "supervisor")))) initKeys({ dir: this.config.keys.dir, host: name, role: "supervisor" });
  }

  /**
   * A supervisor's options from this system's configuration, with its own NATS identity (started
   * with `auth`) and this system's log; for a test that runs a second one or stops it itself.
   */
  supervisorOptions(name: string, overrides: Partial<SupervisorOptions> = {}): SupervisorOptions {
    return {
      ...supervisorOptionsOf(this.config, name),
      ...(this.auth ? { natsAuth: this.identity("supervisor", name)! } : {}),
      log: this.nodeLog(),
      ...overrides,
    };
  }

  /** Starts the in-process supervisor (stopping one already running), options overridable. */
  async startSupervisor(name = "sup1", overrides: Partial<SupervisorOptions> = {}): Promise<SupervisorNode> {
    await this.supervisor?.stop();
    this.ensureSupervisorKey(name);
    this.supervisor = await SupervisorNode.start(this.supervisorOptions(name, overrides));
    return this.supervisor;
  }

  /** Child processes get this system's whole configuration as a config file. */
  childEnv(): NodeJS.ProcessEnv {
    return configFileEnv(this.root, this.config);
  }

  /** Starts a mailstore as a real child process (so a test can kill -9 it). */
  async spawnMailstore(host: string): Promise<ChildProcess> {
    return this.spawnProcess(host, ["mailstore", "--host", host, "--data", this.dataDir(host)], `mailstore ${host} started`);
  }

  /** Starts a supervisor as a real child process; `name` is also its key in kill9(). */
  async spawnSupervisor(name: string): Promise<ChildProcess> {
    this.ensureSupervisorKey(name);
    return this.spawnProcess(name, ["supervisor", "--host", name], `supervisor ${name} started`);
  }

  /** A mailstore child process for each host (in order), then the supervisor sup1; by name, to check later that none died. */
  async spawnAll(): Promise<Map<string, ChildProcess>> {
    const started = new Map<string, ChildProcess>();
    for (const h of this.hosts) started.set(h, await this.spawnMailstore(h));
    started.set("sup1", await this.spawnSupervisor("sup1"));
    return started;
  }

  private async spawnProcess(host: string, args: string[], ready: string): Promise<ChildProcess> {
    return this.children.start(host, args, this.childEnv(), ready, this.cluster ? 90_000 : 30_000);
  }

  log(host: string): string {
    return this.children.log(host);
  }

  kill9(host: string): Promise<void> {
    return this.children.kill9(host);
  }

  mailbox<T = any>(method: string, params: Record<string, unknown>, timeoutMs = 15_000): Promise<T> {
    return rpcCall<T>(this.nc, "mr.rpc.mailbox", method, params, { timeoutMs });
  }

  admin<T = any>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    return rpcCall<T>(this.nc, "mr.rpc.admin", method, params, { timeoutMs });
  }

  /** Opens a mailstore's SQLite file read-side (also while the mailstore runs: WAL). */
  openStore(host: string): MetadataStore {
    return MetadataStore.open(join(this.dataDir(host), "metadata.sqlite"));
  }

  /** Whether `host`'s store holds every one of the items `ids` of the account (read from its SQLite file). */
  storeHolds(host: string, accountId: string, ids: readonly number[]): boolean {
    const store = this.openStore(host);
    try {
      const have = new Set(store.dumpAccount(accountId).items.map((i) => i.id));
      return ids.every((id) => have.has(id));
    } finally {
      store.close();
    }
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop().catch(() => {});
    for (const n of this.inProcess.values()) await n.stop().catch(() => {});
    for (const c of this.processes.values()) {
      c.kill("SIGTERM");
      const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
      await exited(c);
      clearTimeout(t);
    }
    await this.nc?.close().catch(() => {});
    if (this.cluster) await this.cluster.stop();
    else await this.nats.stop();
  }
}

/** nats-server arguments for a config file that sets max_payload (it has no command-line flag). */
function natsConfigArgs(root: string, maxPayload: number): string[] {
  const file = join(root, "nats.conf");
  writeFileSync(file, `max_payload: ${maxPayload}\n`);
  return ["-c", file];
}

/** A small RFC 822 message. */
export function rawMessage(n: number, to = "user@example.com"): string {
  return `From: sender${n}@example.org\r\nTo: ${to}\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody of message ${n}\r\n`;
}
