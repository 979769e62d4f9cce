// The supervisor process (`mailreplica supervisor`): serves the admin JSON-RPC on
// mr.rpc.admin, runs long operations, and tells the Global Admin when they end.
import { hostname } from "node:os";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { systemClock, type Clock } from "../../src/runtime/clock.js";
import { ensureAssets, type Assets } from "../../src/jetstream/assets.js";
import { DEFAULT_STARTUP_TIMEOUT_MS, StartupWait } from "../../src/jetstream/startup_wait.js";
import { retryTransient } from "../../src/jetstream/transient.js";
import { Directory } from "../../src/directory/directory.js";
import type { JsonRpcService, NatsRpcContext, RpcMethod } from "../../src/jsonrpc/index.js";
import { ServiceNames } from "../../src/protocol/service_names.js";
import { serveRpcService } from "../shared/rpc_services.js";
import { featureAdminMethods } from "./admin_features.js";
import { VERSION } from "../../src/version.js";
import { natsAuthFailure, natsConnectionOptions } from "../../src/natsauth/connect_options.js";
import { adminMethods } from "./admin_methods.js";
import { Heartbeat } from "../shared/heartbeat.js";
import { LicenceQuota } from "./licence.js";
import { deliverAdminNotice } from "./admin_notice.js";
import { Notifier } from "../shared/notifier.js";
import { Operations, type OperationRecord } from "./operations.js";
import { ReplicaInitializer } from "./replica_init.js";
import { Promoter } from "./promotion.js";
import { SupervisorLease } from "./lease.js";
import { FailoverWatcher } from "./failover.js";
import { DirectoryReconciler } from "./reconciler.js";
import { LogCompactor } from "./log_compactor.js";
import { TrustList } from "../../src/envelope/index.js";
import { readTrustList } from "../../src/keys/index.js";
import { ExpensiveGate } from "../shared/expensive_gate.js";
import { defaultConfig } from "../../config/defaults.js";
import type { LimitsConfig } from "../../src/config/types.js";
// One JSON line per log event; request values (account names, operation ids) are fields (src/log).
import { createLogger, withoutCredentials, type Logger } from "../../src/log/index.js";
import { GrantKey } from "./grant_key.js";
import { directoryRequestMethods } from "./directory_request_methods.js";
import { DIRECTORY_REQUESTS } from "../shared/directory_requests.js";
import { registerAliveMailstores } from "./known_mailstores.js";
import { accountStatuses, type AccountStatusView } from "./account_status.js";
import { aliveMailstores } from "./services.js";
import type { SupervisorMetrics } from "./metrics.js";
import type { SupervisorOptions } from "./supervisor_options.js";

import { ADMIN_SUBJECT } from "../../src/protocol/subjects.js";
export { ADMIN_SUBJECT };
// Entry points and tests import the options with the node.
export type { SupervisorOptions };

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
  /** removes log entries and snapshots the accounts' newest snapshots make unnecessary */
  readonly compactor: LogCompactor;
  readonly limits: LimitsConfig;
  /** expensive admin requests running at once (limits.maxConcurrentExpensive) */
  readonly expensive: ExpensiveGate;
  /** signs the grants that let a promotion target append Promoted */
  readonly grantKey: GrantKey;
  private adminService: JsonRpcService | undefined;
  private heartbeat: Heartbeat | undefined;
  private directoryService: JsonRpcService | undefined;
  private lease: SupervisorLease | undefined;
  private readonly failover: FailoverWatcher | undefined;
  private stopping: Promise<void> | undefined;
  /** set by stop(): background operation loops end at their next step */
  stopped = false;
  /** set with metricsListen, before the node runs anything */
  metrics: SupervisorMetrics | undefined;

  private constructor(
    readonly opts: SupervisorOptions,
    readonly nc: NatsConnection,
    readonly assets: Assets,
    readonly log: Logger,
  ) {
    this.host = opts.host ?? hostname();
    this.clock = opts.clock ?? systemClock();
    this.directory = new Directory(assets.directory);
    this.limits = opts.limits ?? defaultConfig().limits;
    this.expensive = new ExpensiveGate(this.limits.maxConcurrentExpensive);
    this.operations = new Operations(assets.directory, this.host, () => this.clock.now(), assets.nc.info?.max_payload);
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
    const retention = opts.retention ?? defaultConfig().retention;
    const keysDir = opts.keysDir;
    // Without a keys folder no snapshot signature can be checked: nothing is compacted.
    this.compactor = new LogCompactor(
      this,
      { keepDays: retention.keepDays, everyMs: keysDir === undefined ? 0 : retention.compactEveryMs },
      () => new TrustList(keysDir === undefined ? [] : readTrustList(keysDir).entries),
    );
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

  static async start(opts: SupervisorOptions): Promise<SupervisorNode> {
    const logger = createLogger({
      role: "supervisor",
      host: opts.host ?? hostname(),
      ...(opts.logLevel ? { level: opts.logLevel } : {}),
      ...(opts.log ? { sink: opts.log } : {}),
    });
    // The metrics address is bound first: a taken port stops the start before anything else.
    const bound =
      opts.metricsListen !== undefined
        ? await (
            await import("../../src/metrics/index.js")
          ).bindMetrics(opts.metricsListen, { role: "supervisor", host: opts.host ?? hostname(), version: VERSION })
        : undefined;
    const wait = new StartupWait({
      timeoutMs: opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
      servers: opts.servers,
      log: (msg, fields) => logger.info(fields, msg),
    });
    let nc: NatsConnection | undefined;
    try {
      nc = await wait.until("", () =>
        connect({
          ...natsConnectionOptions(opts.servers, opts.natsAuth, {
            warn: (l: string) => logger.warn(l),
            identity: { role: "supervisor", host: opts.host ?? hostname() },
          }),
          name: `supervisor ${opts.host ?? hostname()}`,
          maxReconnectAttempts: -1,
          noAsyncTraces: true,
        }).catch((e: unknown) => {
          throw natsAuthFailure(e, opts.servers, opts.natsAuth) ?? e;
        }),
      );
      const assets = await ensureAssets(nc, opts.assets, (what, step) => wait.until(what, step));
      const node = new SupervisorNode(opts, nc, assets, logger);
      if (bound) {
        const { SupervisorMetrics } = await import("./metrics.js");
        node.metrics = new SupervisorMetrics(
          bound,
          { isActive: () => node.isActive, accountStatuses: () => node.statusForMetrics(), compaction: node.compactor.stats, log: node.log },
          opts.metricsRefreshMs,
        );
        bound.process.watchNats(nc);
        logger.info({ url: bound.server.url }, "metrics served");
      }
      await node.run(wait);
      node.metrics?.start();
      wait.done();
      return node;
    } catch (e) {
      await nc?.close();
      await bound?.server.close();
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
    // Every supervisor, active or standby, writes the directory for mailstores that ask.
    this.directoryService = await serveRpcService(this.nc, {
      name: ServiceNames.directory,
      description: "directory writes mailstores ask for (every supervisor)",
      host: this.host,
      role: "supervisor",
      endpoints: [{ name: "directory", subject: DIRECTORY_REQUESTS, queue: "mr-directory", methods: directoryRequestMethods(this) }],
      log: this.log,
      // Only mailstores call it: a refusal (a bad grant, a forged request) is worth a warning.
      refusals: "warn",
      ...(this.metrics ? { onAnswer: this.metrics.process.rpcAnswer } : {}),
    });
    // The first round is awaited, so a lone supervisor serves as soon as it says "started".
    if (await wait.until(dir, () => lease.tryAcquire())) await this.onLease(true);
    this.lease.start();
    await this.nc.flush();
    try {
      this.grantKey.signer();
    } catch (e) {
      // It still serves everything else; promotions fail with this reason until the key exists.
      this.log.warn({ code: (e as { code?: unknown }).code }, `WARNING: ${(e as Error).message}`);
    }
    // The text is what `mailreplica dev` and the tests wait for (/supervisor <host> started/).
    // systemctl reload (or a HUP sent to every mailreplica unit) must not end a supervisor:
    // Node's default for SIGHUP is to exit. It has nothing to read again (its grant key and
    // trusted-signers.json are read whenever they change), and says so.
    process.on("SIGHUP", this.onSighup);
    this.log.info({ servers: this.opts.servers.map(withoutCredentials) }, `supervisor ${this.host} started (${this.isActive ? "active" : "standby"})`);
  }

  private async onLease(active: boolean): Promise<void> {
    if (active && !this.adminService) {
      this.activationCount++;
      // Registered only while this supervisor holds the lease: a standby lists no admin endpoint.
      const starting = serveRpcService(this.nc, {
        name: ServiceNames.admin,
        description: "mailreplica admin commands (the supervisor holding the lease)",
        host: this.host,
        role: "supervisor",
        endpoints: [{ name: "admin", subject: ADMIN_SUBJECT, queue: "mr-admin", methods: adminMethods(this) }],
        log: this.log,
        ...(this.metrics ? { onAnswer: this.metrics.process.rpcAnswer } : {}),
      });
      // Set before the await, so a second lease event meanwhile neither starts it twice nor misses the stop.
      this.adminService = { stop: async () => (await starting).stop() };
      await starting;
      this.log.info({ generation: this.lease?.generation }, `supervisor ${this.host} is active`);
      await this.resumeOperations().catch((e) => this.log.error({ error: (e as Error).message }, "resuming operations failed"));
      await registerAliveMailstores(this).catch((e: Error) =>
        this.log.warn({ error: e.message }, "registering running mailstores failed; each is registered when named or when it asks"),
      );
      if (!this.isActive) return; // lost again meanwhile: the standby branch already ran
      this.failover?.start();
      this.reconciler.start();
      this.compactor.start();
    } else if (!active && this.adminService) {
      this.failover?.stop();
      this.reconciler.stop();
      this.compactor.stop();
      const s = this.adminService;
      this.adminService = undefined;
      this.log.warn(`supervisor ${this.host} lost the lease; standing by`);
      await s.stop();
    }
  }

  /** Operations a previous active supervisor left running are taken over and ended. */
  private async resumeOperations(): Promise<void> {
    // Becoming active often follows a nats-server node loss: wait out its leader election
    // rather than leave running operations without an owner until the next lease change.
    const again = <T>(step: () => Promise<T>): Promise<T> =>
      retryTransient(step, {
        deadlineMs: 5 * 60_000,
        stillWanted: () => this.isActive,
        onWait: (why) => this.log.info({ reason: why }, "resuming operations: waiting for JetStream"),
      });
    for (const op of await again(() => this.operations.listRunning())) {
      if (!this.isActive) return;
      this.log.info({ operationId: op.operationId, kind: op.kind, owner: op.owner }, "resuming an operation another supervisor left");
      op.owner = this.host;
      if (op.kind === "promoteAccounts") {
        const p = op.params as { accountIds: string[]; startEpochs: Record<string, number>; destination?: string; threads: number };
        void this.promoter
          .run(op, { accountIds: p.accountIds, startEpochs: p.startEpochs, threads: p.threads, ...(p.destination ? { destination: p.destination } : {}) })
          .then(async (done) => {
            if (done.state !== "running") await this.notifyOperationEnd(done, "promotion");
          })
          .catch((e) => this.log.error({ operationId: op.operationId, error: (e as Error).message }, "operation failed"));
      } else if (op.kind === "setAccountDestination") {
        void this.replicaInit.resume(op).catch((e: Error) => this.log.error({ operationId: op.operationId, error: e.message }, "operation failed"));
      } else {
        await again(() => this.operations.finish(op, "interrupted"));
      }
    }
  }

  /**
   * getAccountStatus' views of every account with replicas (at most limits.maxStatusAccounts
   * of them, the bound of one status call), for the lag metrics.
   */
  async statusForMetrics(): Promise<AccountStatusView[]> {
    const recs = (await this.directory.listAccounts()).filter((r) => r.type === "account" && r.replicas.length > 0).slice(0, this.limits.maxStatusAccounts);
    return accountStatuses(this.assets, recs, await aliveMailstores(this.assets.nodes), () => this.clock.now());
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

  private readonly onSighup = (): void =>
    this.log.info({}, "SIGHUP: nothing to reload (the grant key and trusted-signers.json are read again whenever they change)");

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      process.off("SIGHUP", this.onSighup);
      this.failover?.stop();
      this.reconciler.stop();
      this.compactor.stop();
      await this.adminService?.stop();
      await this.directoryService?.stop();
      await this.lease?.stop();
      await this.heartbeat?.stop();
      await this.metrics?.stop();
      await this.nc.drain().catch(() => {});
      this.log.info(`supervisor ${this.host} stopped`);
    })();
    return this.stopping;
  }
}
