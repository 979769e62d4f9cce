// The supervisor process (`mailreplica supervisor`): serves the admin JSON-RPC on
// mr.rpc.admin, runs long operations, and tells the Global Admin when they end.
import { hostname } from "node:os";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { systemClock, type Clock } from "../src/runtime/clock.js";
import { ensureAssets, type AssetOptions, type Assets } from "../src/jetstream/assets.js";
import { DEFAULT_STARTUP_TIMEOUT_MS, StartupWait } from "../src/jetstream/startup_wait.js";
import { retryTransient } from "../src/jetstream/transient.js";
import { Directory } from "../src/directory/directory.js";
import { serveJsonRpc, type JsonRpcService, type NatsRpcContext, type RpcMethod } from "../src/jsonrpc/index.js";
import { featureAdminMethods } from "./admin_features.js";
import { VERSION } from "../src/version.js";
import { natsAuthFailure, natsConnectionOptions, type NatsAuth } from "../src/natsauth/connect_options.js";
import { adminMethods } from "./admin_methods.js";
import { Heartbeat } from "./heartbeat.js";
import { LicenceQuota } from "./licence.js";
import { deliverAdminNotice } from "./admin_notice.js";
import { Notifier } from "./notifier.js";
import { Operations, type OperationRecord } from "./operations.js";
import { ReplicaInitializer } from "./replica_init.js";
import { Promoter } from "./promotion.js";
import { SupervisorLease } from "./lease.js";
import { FailoverWatcher } from "./failover.js";
import { DirectoryReconciler } from "./reconciler.js";
import { ExpensiveGate } from "./expensive_gate.js";
import { defaultConfig } from "../config/defaults.js";
import type { LimitsConfig } from "../src/config/types.js";
// Log lines quote request values (account names, operation ids): one line each, whatever they hold.
import { printable } from "../src/text/printable.js";
import { GrantKey } from "./grant_key.js";

export const ADMIN_SUBJECT = "mr.rpc.admin";

export interface SupervisorOptions {
  /** name of this supervisor (default: the machine's hostname) */
  host?: string;
  servers: string[];
  /** credentials, TLS and inbox prefix (config nats.*); none: anonymous */
  natsAuth?: NatsAuth;
  assets: AssetOptions;
  heartbeatMs: number;
  /** how long start-up waits for JetStream (a forming cluster) before it gives up; default 120 s */
  startupTimeoutMs?: number;
  /** the lease's time to live; a standby takes over within about this long; default 5_000 */
  leaseTtlMs?: number;
  licenceQuota: number;
  /** the licence file (config licence.file); without one, licenceQuota applies */
  licenceFile?: string;
  /** keys folder (config keys.dir): this supervisor's grant-signing key is its <host>.supervisor-ed25519.json, the trusted signers its trusted-signers.json */
  keysDir?: string;
  /** development licence issuer trusted besides the pinned one (config licence.devIssuerKeyFile); logged as a warning */
  licenceDevIssuerKeyFile?: string;
  /** mailbox of the Global Admin that also receives operation notices as messages */
  adminAccount?: string;
  /** default `threads` of promoteAccounts */
  promotionThreads?: number;
  /** promote a dead mailstore's accounts without a command (default off) */
  autoFailover?: boolean;
  /** how long a mailstore's heartbeat must be missing before automatic failover */
  failoverAfterMs?: number;
  /** how long the supervisor waits for a promotion target's answer before asking the log; default 60_000 */
  promoteTimeoutMs?: number;
  /** how often the directory is checked against the accounts' logs (reconciler); default 30_000, 0 = never */
  reconcileEveryMs?: number;
  /** request bounds (config limits); default the configuration's defaults */
  limits?: LimitsConfig;
  /** how long setAccountDestination waits for a replica to catch up; default 10 min */
  initTimeoutMs?: number;
  clock?: Clock;
  log?: (line: string) => void;
}

export class SupervisorNode {
  readonly host: string;
  readonly clock: Clock;
  readonly directory: Directory;
  readonly operations: Operations;
  readonly notifier: Notifier;
  readonly licence: LicenceQuota;
  readonly replicaInit: ReplicaInitializer;
  readonly promoter: Promoter;
  readonly reconciler: DirectoryReconciler;
  readonly limits: LimitsConfig;
  /** expensive admin requests running at once (limits.maxConcurrentExpensive) */
  readonly expensive: ExpensiveGate;
  /** signs the grants that let a promotion target append Promoted */
  readonly grantKey: GrantKey;
  private adminService: JsonRpcService | undefined;
  private heartbeat: Heartbeat | undefined;
  private lease: SupervisorLease | undefined;
  private readonly failover: FailoverWatcher | undefined;
  private stopping: Promise<void> | undefined;
  /** set by stop(): background operation loops end at their next step */
  stopped = false;

  private constructor(
    readonly opts: SupervisorOptions,
    readonly nc: NatsConnection,
    readonly assets: Assets,
  ) {
    this.host = opts.host ?? hostname();
    this.clock = opts.clock ?? systemClock();
    this.directory = new Directory(assets.directory);
    this.limits = opts.limits ?? defaultConfig().limits;
    this.expensive = new ExpensiveGate(this.limits.maxConcurrentExpensive);
    this.operations = new Operations(assets.directory, this.host, () => this.clock.now());
    this.notifier = new Notifier(assets.js, this.host, this.log);
    this.licence = new LicenceQuota(this.directory, {
      defaultQuota: opts.licenceQuota,
      ...(opts.licenceFile ? { file: opts.licenceFile } : {}),
      ...(opts.licenceDevIssuerKeyFile ? { devIssuerKeyFile: opts.licenceDevIssuerKeyFile } : {}),
      now: () => this.clock.now(),
      log: this.log,
    });
    this.replicaInit = new ReplicaInitializer(this, { timeoutMs: opts.initTimeoutMs ?? 600_000, pollMs: 200 });
    this.grantKey = new GrantKey(opts.keysDir, this.host);
    this.promoter = new Promoter(this);
    this.reconciler = new DirectoryReconciler(this, opts.reconcileEveryMs ?? 30_000);
    if (opts.autoFailover) {
      this.failover = new FailoverWatcher(this, {
        failoverAfterMs: opts.failoverAfterMs ?? 15_000,
        checkEveryMs: Math.max(100, Math.min(opts.heartbeatMs, 1_000)),
        threads: opts.promotionThreads ?? 4,
      });
    }
  }

  /** True while this supervisor holds the lease: only then does it serve and run operations. */
  get isActive(): boolean {
    return !this.stopped && !!this.lease?.isHeld;
  }

  /**
   * How many times this supervisor became active. Work started in one activation stops
   * recording once another began: that one resumed the work (resumeOperations).
   */
  get activations(): number {
    return this.activationCount;
  }
  private activationCount = 0;

  readonly log = (line: string): void => {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(printable(`[supervisor ${this.opts.host ?? hostname()}] ${line}`));
  };

  static async start(opts: SupervisorOptions): Promise<SupervisorNode> {
    const log = (line: string): void => (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(printable(`[supervisor ${opts.host ?? hostname()}] ${line}`));
    const wait = new StartupWait({ timeoutMs: opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS, servers: opts.servers, log });
    const nc = await wait.until("", () =>
      connect({ ...natsConnectionOptions(opts.servers, opts.natsAuth, { warn: log, identity: { role: "supervisor", host: opts.host ?? hostname() } }), name: `supervisor ${opts.host ?? hostname()}`, maxReconnectAttempts: -1, noAsyncTraces: true }).catch((e: unknown) => {
        throw natsAuthFailure(e, opts.servers, opts.natsAuth) ?? e;
      }),
    );
    try {
      const assets = await ensureAssets(nc, opts.assets, (what, step) => wait.until(what, step));
      const node = new SupervisorNode(opts, nc, assets);
      await node.run(wait);
      wait.done();
      return node;
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  private async run(wait: StartupWait): Promise<void> {
    const lease = new SupervisorLease(this.assets.directory, this.host, this.opts.leaseTtlMs ?? 5_000, this.clock, (active) => void this.onLease(active));
    this.lease = lease;
    const dir = `bucket ${this.opts.assets.directoryBucket}`;
    // Before the heartbeat: a refused twin must not overwrite the running one's heartbeat.
    await wait.until(dir, () => lease.refuseTwin());
    this.heartbeat = new Heartbeat(this.assets.nodes, this.clock, { host: this.host, role: "supervisor", version: VERSION }, this.opts.heartbeatMs, () => ({
      active: this.isActive,
    }));
    const heartbeat = this.heartbeat;
    await wait.until(`bucket ${this.opts.assets.nodesBucket}`, () => heartbeat.start());
    // The first round is awaited, so a lone supervisor serves as soon as it says "started".
    if (await wait.until(dir, () => lease.tryAcquire())) await this.onLease(true);
    this.lease.start();
    await this.nc.flush();
    try {
      this.grantKey.signer();
    } catch (e) {
      // It still serves everything else; promotions fail with this reason until the key exists.
      this.log(`WARNING: ${(e as Error).message}`);
    }
    this.log(`supervisor ${this.host} started (${this.isActive ? "active" : "standby"}; NATS ${this.opts.servers.join(",")})`);
  }

  private async onLease(active: boolean): Promise<void> {
    if (active && !this.adminService) {
      this.activationCount++;
      this.adminService = serveJsonRpc(this.nc, ADMIN_SUBJECT, adminMethods(this), { queue: "mr-admin" });
      this.log(`supervisor ${this.host} is active (lease generation ${this.lease?.generation})`);
      await this.resumeOperations().catch((e) => this.log(`resuming operations failed: ${(e as Error).message}`));
      if (!this.isActive) return; // lost again meanwhile: the standby branch already ran
      this.failover?.start();
      this.reconciler.start();
    } else if (!active && this.adminService) {
      this.failover?.stop();
      this.reconciler.stop();
      const s = this.adminService;
      this.adminService = undefined;
      this.log(`supervisor ${this.host} lost the lease; standing by`);
      await s.stop();
    }
  }

  /** Operations a previous active supervisor left running are taken over and ended. */
  private async resumeOperations(): Promise<void> {
    // Becoming active often follows a nats-server node loss: wait out its leader election
    // rather than leave running operations without an owner until the next lease change.
    const again = <T>(step: () => Promise<T>): Promise<T> =>
      retryTransient(step, { deadlineMs: 5 * 60_000, stillWanted: () => this.isActive, onWait: (why) => this.log(`resuming operations: waiting for JetStream (${why})`) });
    for (const op of await again(() => this.operations.listRunning())) {
      if (!this.isActive) return;
      this.log(`resuming operation ${op.operationId} (${op.kind}) left by ${op.owner}`);
      op.owner = this.host;
      if (op.kind === "promoteAccounts") {
        const p = op.params as { accountIds: string[]; startEpochs: Record<string, number>; destination?: string; threads: number };
        void this.promoter
          .run(op, { accountIds: p.accountIds, startEpochs: p.startEpochs, threads: p.threads, ...(p.destination ? { destination: p.destination } : {}) })
          .then(async (done) => {
            if (done.state !== "running") await this.notifyOperationEnd(done, "promotion");
          })
          .catch((e) => this.log(`operation ${op.operationId}: ${(e as Error).message}`));
      } else if (op.kind === "setAccountDestination") {
        void this.replicaInit.resume(op).catch((e: Error) => this.log(`operation ${op.operationId}: ${(e as Error).message}`));
      } else {
        await again(() => this.operations.finish(op, "interrupted"));
      }
    }
  }

  extraAdminMethods(): RpcMethod<NatsRpcContext>[] {
    return featureAdminMethods(this);
  }

  /** Tells the Global Admin that an operation ended (MR_NOTIFY, and the admin mailbox if configured). */
  async notifyOperationEnd(op: OperationRecord, what: string): Promise<void> {
    try {
      await this.notifier.publish("operation.completed", {
        operationId: op.operationId,
        operation: op.kind,
        state: op.state,
        total: op.total,
        done: op.done,
        failed: op.failed,
        summary: `${what}: ${op.state} (${op.done} of ${op.total} done, ${op.failed} failed)`,
      });
    } finally {
      // The mailbox notice does not depend on MR_NOTIFY, and never throws.
      await deliverAdminNotice(this, op, what);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.failover?.stop();
      this.reconciler.stop();
      await this.adminService?.stop();
      await this.lease?.stop();
      await this.heartbeat?.stop();
      await this.nc.drain().catch(() => {});
      this.log(`supervisor ${this.host} stopped`);
    })();
    return this.stopping;
  }
}
