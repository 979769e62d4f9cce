// A mailstore process (`mailreplica mailstore --host H --data DIR`): hosts the account actors
// of the accounts it is primary of, the replica agent for the accounts it replicates, serves
// the mailbox JSON-RPC, and heartbeats. Its SQLite store is <data>/metadata.sqlite.
import { privateFolder } from "../../src/store/private_folder.js";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ActorSystem } from "../../src/runtime/system.js";
import { systemClock, type Clock, type TimerHandle } from "../../src/runtime/clock.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import type { ActorRef } from "../../src/runtime/types.js";
import { ensureAssets, txSubject, type Assets } from "../../src/jetstream/assets.js";
import { DEFAULT_STARTUP_TIMEOUT_MS, StartupWait } from "../../src/jetstream/startup_wait.js";
import { Directory } from "../../src/directory/directory.js";
import { replicaDelay, type AccountRecord } from "../../src/directory/types.js";
import { KeyringReloader, loadKeyring } from "../../src/keys/index.js";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import { MetadataStore } from "../../src/store/index.js";
import type { MailCommand, MailResult } from "../../src/mail/index.js";
import { BlobStore } from "../../src/blobs/blob_store.js";
import { defaultConfig } from "../../config/defaults.js";
import { ItemBodyReader } from "./item_body.js";
import { AppError, appCodeOf, type JsonRpcService } from "../../src/jsonrpc/index.js";
import { ServiceNames } from "../../src/protocol/service_names.js";
import { serveRpcService } from "../shared/rpc_services.js";
import { NodeError } from "./errors.js";
import { accountActorProps } from "./account.js";
import { catchUpPrimaries } from "./primary_catch_up.js";
import { ReplicaAgent } from "./replica_agent.js";
import { SnapshotTaker } from "./snapshot_taker.js";
import { seedFromSnapshot } from "./snapshot_seed.js";
import { openLogEntry } from "./log_entry.js";
import { Heartbeat, heartbeatKey } from "../shared/heartbeat.js";
import { Notifier } from "../shared/notifier.js";
import { mailboxMethods } from "./mailbox_methods.js";
import { nodeMethods } from "./node_methods.js";
import { takeOverPromoted } from "./promotion_takeover.js";
import { DirectoryRequests } from "../shared/directory_requests.js";
import { isHostName } from "../../src/envelope/types.js";
import { moduleRunning } from "./node_service_methods.js";
import { VERSION } from "../../src/version.js";
// One JSON line per log event; request values (account names, hosts) are fields (src/log).
import { createLogger, supervisionLogger, withoutCredentials, type Logger } from "../../src/log/index.js";
import { natsAuthFailure, natsConnectionOptions } from "../../src/natsauth/connect_options.js";
import type { MailstoreMetrics } from "./metrics.js";

// The options live in their own module: the method modules read a few of them (their
// contexts Pick them) without importing this file.
export type { MailstoreOptions } from "./options.js";
import type { MailstoreOptions } from "./options.js";

/** Subjects a mailstore serves. */
// Defined in the wire contract; re-exported for the entry points and tests that start a mailstore.
import { MAILBOX_SUBJECT, nodeAdminSubject, nodeMailboxSubject } from "../../src/protocol/subjects.js";
export { MAILBOX_SUBJECT, nodeAdminSubject, nodeMailboxSubject };

/** How often a mailstore looks for changed key files (besides SIGHUP and a refused entry). */
export const KEY_RELOAD_MS = 3_000;

export class MailstoreNode {
  readonly host: string;
  readonly clock: Clock;
  readonly system: ActorSystem;
  readonly directory: Directory;
  readonly blobs: BlobStore;
  /** getItemBody's ranged reads, with their cache of decrypted bodies */
  readonly bodies: ItemBodyReader;
  readonly agent: ReplicaAgent;
  /** the snapshots of the accounts this mailstore is primary of */
  readonly snapshotter: SnapshotTaker;
  readonly notifier: Notifier;
  /** directory writes, asked of the supervisor (this mailstore may only read mr_directory) */
  readonly directoryRequests: DirectoryRequests;
  /** account records as the directory watch last saw them, by id; and ids by name */
  readonly accounts = new Map<string, AccountRecord>();
  private readonly idByName = new Map<string, string>();
  private readonly actors = new Map<string, ActorRef<MailCommand, MailResult>>();
  /** accounts this primary was asked to stop writing (a promotion is moving them) */
  private readonly handingOver = new Map<string, TimerHandle>();
  /** accounts whose actor is stopping: no new actor until it is gone */
  private readonly stoppingActors = new Set<string>();
  private services: JsonRpcService[] = [];
  private readonly keyReloader: KeyringReloader;
  private keyTimer: NodeJS.Timeout | undefined;
  private readonly onSighup = (): void => void this.reloadKeys({ sighup: true });
  private heartbeat: Heartbeat | undefined;
  private watch: { stop(): void } | undefined;
  private stopping: Promise<void> | undefined;
  /** set with metricsListen, before the node runs anything */
  metrics: MailstoreMetrics | undefined;

  private constructor(
    readonly opts: MailstoreOptions,
    readonly nc: NatsConnection,
    readonly assets: Assets,
    readonly store: MetadataStore,
    readonly keyring: EnvelopeKeyring,
    readonly log: Logger,
  ) {
    this.host = opts.host;
    this.clock = opts.clock ?? systemClock();
    this.system = new ActorSystem({ name: opts.host, clock: this.clock });
    this.directory = new Directory(assets.directory);
    this.directoryRequests = new DirectoryRequests(nc, opts.host);
    // Half the ask timeout: the append that follows the body still fits in the caller's wait.
    this.blobs = new BlobStore(assets.blobs, keyring, {
      bucket: assets.opts.blobsBucket,
      putTimeoutMs: Math.max(1_000, Math.floor(opts.writes.askTimeoutMs / 2)),
    });
    const limits = defaultConfig().limits;
    this.bodies = new ItemBodyReader(this.blobs, {
      clock: this.clock,
      maxMessageBytes: opts.limits?.maxMessageBytes ?? limits.maxMessageBytes,
      maxConcurrentLoads: opts.limits?.maxConcurrentExpensive ?? limits.maxConcurrentExpensive,
    });
    this.notifier = new Notifier(assets.js, opts.host, this.log);
    this.system.onEvent(supervisionLogger(this.log));
    this.keyReloader = new KeyringReloader(keyring, opts.keysDir);
    this.agent = new ReplicaAgent({
      host: opts.host,
      store,
      keyring,
      assets,
      reloadKeys: () => this.reloadKeys(),
      notify: (kind, payload) => this.notifier.notify(kind, payload),
      onPromotedHere: (accountId, epoch, seq, grant) => takeOverPromoted(this, accountId, epoch, seq, grant),
      log: this.log,
      directory: (id) => this.accounts.get(id),
      ...(opts.maxFilterSubjects !== undefined ? { maxFilterSubjects: opts.maxFilterSubjects } : {}),
    });
    this.snapshotter = new SnapshotTaker(
      { host: opts.host, store, keyring, snapshots: assets.snapshots, clock: this.clock, log: this.log },
      opts.snapshots ?? defaultConfig().snapshots,
    );
  }

  static async start(opts: MailstoreOptions): Promise<MailstoreNode> {
    const keyring = loadKeyring({ dir: opts.keysDir, host: opts.host });
    privateFolder(opts.dataDir);
    const logger = createLogger({
      role: "mailstore",
      host: opts.host,
      ...(opts.logLevel ? { level: opts.logLevel } : {}),
      ...(opts.log ? { sink: opts.log } : {}),
    });
    // The metrics address is bound first: a taken port stops the start before anything else.
    const bound =
      opts.metricsListen !== undefined
        ? await (await import("../../src/metrics/index.js")).bindMetrics(opts.metricsListen, { role: "mailstore", host: opts.host, version: VERSION })
        : undefined;
    const wait = new StartupWait({
      timeoutMs: opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
      servers: opts.servers,
      log: (msg, fields) => logger.info(fields, msg),
    });
    let nc: NatsConnection | undefined;
    let store: MetadataStore | undefined;
    try {
      nc = await wait.until("", () =>
        connect({
          ...natsConnectionOptions(opts.servers, opts.natsAuth, { warn: (l: string) => logger.warn(l), identity: { role: "mailstore", host: opts.host } }),
          name: `mailstore ${opts.host}`,
          maxReconnectAttempts: -1,
          noAsyncTraces: true,
        }).catch((e: unknown) => {
          throw natsAuthFailure(e, opts.servers, opts.natsAuth) ?? e;
        }),
      );
      const conn = nc;
      const assets = await ensureAssets(conn, opts.assets, (what, step) => wait.until(what, step));
      store = MetadataStore.open(join(opts.dataDir, "metadata.sqlite"));
      const node = new MailstoreNode(opts, conn, assets, store, keyring, logger);
      if (bound) {
        const { MailstoreMetrics } = await import("./metrics.js");
        node.metrics = new MailstoreMetrics(bound, {
          system: node.system,
          agentStats: node.agent.stats,
          snapshotStats: node.snapshotter.stats,
          primaryAccounts: () => node.primaryActorCount,
          replicatedAccounts: () => node.agent.replicatedCount,
        });
        bound.process.watchNats(conn);
        logger.info({ url: bound.server.url }, "metrics served");
      }
      await node.run(wait);
      wait.done();
      return node;
    } catch (e) {
      store?.close();
      await nc?.close();
      await bound?.server.close();
      throw e;
    }
  }

  private async run(wait: StartupWait): Promise<void> {
    // Each step is idempotent, so a transient JetStream failure (leader moving) is retried.
    this.warnIfUntrusted();
    // Key files changed by the operator (a new trusted key, a rotation) count within seconds.
    this.keyTimer = setInterval(() => this.reloadKeys(), KEY_RELOAD_MS);
    this.keyTimer.unref();
    process.on("SIGHUP", this.onSighup);
    await wait.until(`stream ${this.opts.assets.txStream}`, () => this.agent.start());
    // The watch replays every current record first, then follows changes.
    let initialized!: () => void;
    const ready = new Promise<void>((r) => (initialized = r));
    this.watch = await wait.until(`bucket ${this.opts.assets.directoryBucket}`, () =>
      this.directory.watchAccounts(
        (rec) => this.onAccountRecord(rec),
        () => initialized(),
        (err) => this.log.warn({ error: err.message }, "directory record skipped"),
      ),
    );
    await ready;
    await this.agent.catchUpAll();
    await this.catchUpPrimaries();
    this.snapshotter.start();
    const methods = mailboxMethods(this);
    this.services.push(
      await serveRpcService(this.nc, {
        name: ServiceNames.mailbox,
        description: "mailbox methods, routed to each account's primary (any mailstore)",
        host: this.host,
        role: "mailstore",
        endpoints: [{ name: "mailbox", subject: MAILBOX_SUBJECT, queue: "mr-mailbox", methods: methods.routing }],
        log: this.log,
        ...(this.metrics ? { onAnswer: this.metrics.process.rpcAnswer } : {}),
      }),
    );
    this.services.push(
      await serveRpcService(this.nc, {
        name: ServiceNames.node,
        description: "one mailstore's own endpoints: mailbox calls routed to it, its status and control",
        host: this.host,
        role: "mailstore",
        endpoints: [
          { name: "mailbox", subject: nodeMailboxSubject(this.host), methods: methods.local },
          { name: "admin", subject: nodeAdminSubject(this.host), methods: nodeMethods(this) },
        ],
        log: this.log,
        ...(this.metrics ? { onAnswer: this.metrics.process.rpcAnswer } : {}),
      }),
    );
    this.heartbeat = new Heartbeat(this.assets.nodes, this.clock, { host: this.host, role: "mailstore", version: VERSION }, this.opts.heartbeatMs, () => ({
      primaryActors: this.actors.size,
      replicated: this.agent.replicatedCount,
      moduleRunning: moduleRunning(this),
      // Shown by getServices once a supervisor registers this mailstore from its heartbeat;
      // for display only: trust comes from trusted-signers.json.
      publicKey: this.publicKey,
    }));
    await wait.until(`bucket ${this.opts.assets.nodesBucket}`, () => this.heartbeat!.start());
    await this.register();
    await this.nc.flush();
    // The text is what `mailreplica dev` and the tests wait for (/mailstore <host> started/).
    this.log.info({ dataDir: this.opts.dataDir, servers: this.opts.servers.map(withoutCredentials) }, `mailstore ${this.host} started`);
  }

  /** Whether `host` is a mailstore with a fresh heartbeat. */
  async isAlive(host: string): Promise<boolean> {
    if (!isHostName(host)) return false;
    const e = await this.assets.nodes.get(heartbeatKey("mailstore", host));
    return !!e && e.operation === "PUT" && e.length > 0;
  }

  private get publicKey(): string {
    return Buffer.from(this.keyring.signingPublicKey).toString("base64");
  }

  /**
   * Asks a supervisor to register this mailstore in the directory (only supervisors write it).
   * Without one running it starts anyway: a supervisor registers it from its heartbeat later.
   */
  private async register(): Promise<void> {
    try {
      await this.directoryRequests.register(this.publicKey);
    } catch (e) {
      if (appCodeOf(e) === "NO_RESPONDER") this.log.info("no supervisor runs yet: the first one to start registers this mailstore (from its heartbeat)");
      else
        this.log.warn(
          { error: (e as Error).message, code: appCodeOf(e) },
          "not registered in the directory yet; the active supervisor registers this mailstore from its heartbeat",
        );
    }
  }

  /** Replays the log of every account this mailstore is primary of, before serving reads. */
  private async catchUpPrimaries(): Promise<void> {
    const mine = [...this.accounts.values()].filter((r) => r.mailHost === this.host && r.type === "account");
    for (const r of mine) {
      // A replay refused before (an unknown key, a forged entry) is tried again at each start:
      // the operator may have fixed the key files; a still-bad entry is refused (and told) again.
      const st = this.store.replicaState(r.id);
      if (st?.role === "primary" && st.status === "unavailable") {
        this.log.info({ account: r.name, accountId: r.id, error: st.error ?? "no reason" }, "its log was refused before; replaying it again");
        this.store.setReplicaStatus(r.id, "available");
      }
    }
    const r = await catchUpPrimaries(mine, async (rec) => {
      await this.seedEmptyPrimary(rec);
      this.snapshotter.noteStarted(rec.id);
      return this.accountActor(rec).ask({ op: "sync" }, this.opts.writes.askTimeoutMs);
    });
    for (const f of r.failed) this.log.warn({ account: f.account, error: f.error }, "start-up catch-up failed; its first read retries it");
  }

  /**
   * A primary whose copy is older than the account's log (a new data folder, a restored
   * backup) starts from the account's newest snapshot: the entries it lacks were compacted
   * away, so its replay would stop at the first entry it cannot follow.
   */
  private async seedEmptyPrimary(rec: AccountRecord): Promise<void> {
    const applied = this.store.replicaState(rec.id)?.appliedSeq ?? 0;
    if (applied > 0 && !(await this.logMissesEntriesAfter(rec.id, applied))) return;
    this.store.ensureReplicaState(rec.id, "primary");
    await seedFromSnapshot(
      {
        store: this.store,
        keyring: this.keyring,
        snapshots: this.assets.snapshots,
        reloadKeys: () => this.reloadKeys(),
        directory: (id) => this.accounts.get(id),
        log: this.log,
      },
      rec.id,
    );
  }

  /** Whether the account's log no longer holds the entries right after `applied` (compacted below the copy). */
  private async logMissesEntriesAfter(accountId: string, applied: number): Promise<boolean> {
    const first = await this.assets.jsm.direct.getMessage(this.assets.opts.txStream, { next_by_subj: txSubject(accountId) });
    if (!first || first.seq <= applied) return false;
    // Stream seqs are shared by every account: the first entry itself says which one it follows.
    try {
      return openLogEntry(this.keyring, accountId, first.seq, first.data, () => this.reloadKeys()).batch.prev !== applied;
    } catch {
      return false; // an unreadable entry: the replay refuses it, with the reason
    }
  }

  /**
   * Reads key files that changed into the keyring; true when something changed. Logs what.
   * On SIGHUP every key file is read, whatever its timestamps say, and a line says so also
   * when nothing changed: the operator who sent the signal sees that it arrived.
   */
  reloadKeys(opts: { sighup?: boolean } = {}): boolean {
    const sighup = opts.sighup === true;
    const r = this.keyReloader.check({ force: sighup });
    const tag = sighup ? "keys (SIGHUP)" : "keys";
    // Key file paths and kids come from the operator's files, not from requests: in the text.
    for (const c of r.changes) this.log.info(`${tag}: ${c}`);
    for (const e of r.errors) this.log.error(`${tag}: ${e}`);
    if (sighup && r.changes.length === 0 && r.errors.length === 0) {
      const n = this.keyring.trust.entries().length;
      this.log.info(
        `${tag}: every key file read again, nothing changed (${n} trusted key${n === 1 ? "" : "s"}, cluster key ${this.keyring.currentKid}, signing with ${this.keyring.signingKid})`,
      );
    }
    if (r.changes.length > 0) this.warnIfUntrusted();
    return r.changes.length > 0;
  }

  /**
   * A mailstore whose own key is not in trusted-signers.json starts (it can still replicate
   * and serve what it has), but writes nothing: every other node would refuse its entries.
   * Said loudly at start; `test` reports it too.
   */
  private warnIfUntrusted(): void {
    if (this.keyring.ownKeyTrusted()) return;
    this.log.warn(
      `WARNING: this mailstore's signing key ${this.keyring.signingKid} is not a trusted mailstore key in ${join(this.opts.keysDir, "trusted-signers.json")}: ` +
        `it will not write any account (SIGNER_NOT_TRUSTED) until the operator adds it there on every node (mailreplica keys init prints the entry to copy)`,
    );
  }

  /** Follows the directory: what this mailstore is for each account (primary, replica, nothing). */
  private onAccountRecord(rec: AccountRecord): void {
    this.rememberAccount(rec);
    if (rec.mailHost === this.host) {
      this.agent.setReplicated(rec.id, undefined);
      this.endHandover(rec.id);
      return;
    }
    this.endHandover(rec.id);
    // Another mailstore is primary: an actor still running here must stop writing.
    if (this.actors.has(rec.id)) this.dropActor(rec.id);
    const mine = rec.replicas.find((r) => r.destination === this.host);
    const local = this.store.replicaState(rec.id);
    if (!mine) {
      this.agent.setReplicated(rec.id, undefined);
      // No longer kept here (removeAccountDestination, or an old primary not kept as a
      // replica): the copy goes. Everything it held is in the account log.
      if (local) {
        this.store.dropAccount(rec.id);
        this.log.info({ account: rec.name, accountId: rec.id }, "local copy removed (not a replica here any more)");
      }
      return;
    }
    // An old primary listed as a replica catches up from the log like any replica.
    if (local?.role === "primary") this.store.setRole(rec.id, "replica");
    if (local && local.generation !== mine.generation) {
      // restartReplicas: drop the copy and seed it again from the log.
      this.agent.setReplicated(rec.id, undefined);
      this.store.dropAccount(rec.id);
      this.log.info({ account: rec.name, accountId: rec.id, generation: mine.generation }, "replica restarted; seeding from the log");
    }
    this.store.ensureReplicaState(rec.id, "replica");
    this.store.setGeneration(rec.id, mine.generation);
    this.agent.setReplicated(rec.id, { paused: mine.state === "paused", delay: replicaDelay(mine) });
  }

  /** Keeps the cache of account records (and the name index) current. */
  rememberAccount(rec: AccountRecord): void {
    this.accounts.set(rec.id, rec);
    this.idByName.set(rec.name, rec.id);
  }

  /** The account's record: from the watch, else read from the directory. */
  async accountRecord(idOrName: string): Promise<AccountRecord> {
    const cached = this.accounts.get(this.idByName.get(idOrName.toLowerCase()) ?? idOrName);
    if (cached) return cached;
    const rec = (await this.directory.get(idOrName)).value;
    this.rememberAccount(rec);
    return rec;
  }

  /** The account actor of an account this mailstore is primary of (spawned on first use). */
  accountActor(given: AccountRecord): ActorRef<MailCommand, MailResult> {
    // The record may have been read before an await: the directory watch's copy is newer.
    const rec = this.accounts.get(given.id) ?? given;
    if (rec.mailHost !== this.host) throw NodeError.notPrimary(rec.id, this.host, rec.mailHost);
    const refused = this.store.replicaState(rec.id);
    if (refused?.status === "unavailable") {
      // Its log was refused here (an entry no one may have written): serve nothing of it.
      if (this.actors.has(rec.id)) this.dropActor(rec.id);
      throw new AppError(
        "APPLY_FAILED",
        `${rec.name} is not served by ${this.host}: its log was refused (${refused.error ?? "no reason recorded"}); see getAccountStatus and the Global Admin's notices`,
        { account: rec.name },
      );
    }
    const existing = this.actors.get(rec.id);
    // A ref whose actor gave up (too many failures) is replaced; it replays the log anew.
    if (existing && this.system.lookup(existing.path)) return existing;
    this.actors.delete(rec.id);
    if (this.handingOver.has(rec.id) || this.stoppingActors.has(rec.id)) {
      throw new AppError("NOT_PRIMARY", `${rec.name} is being promoted away from ${this.host}; retry in a moment, the request will reach the new primary`, {
        account: rec.name,
      });
    }
    const local = this.store.replicaState(rec.id);
    if (local && local.role === "replica" && local.epoch > rec.epoch) {
      // The log already moved the account on (the directory has not caught up yet).
      throw new AppError(
        "NOT_PRIMARY",
        `${rec.name} was promoted away from ${this.host} (epoch ${local.epoch}); retry, the request will reach the new primary`,
        { account: rec.name },
      );
    }
    const ref = this.system.spawn<MailCommand, MailResult>(
      `acct-${rec.id}`,
      accountActorProps(
        {
          accountId: rec.id,
          host: this.host,
          epoch: rec.epoch,
          store: this.store,
          keyring: this.keyring,
          // Group commits are split below the server's max_payload (read per append: it may change on reconnect).
          log: new SubjectLog(this.assets.js, this.assets.jsm, this.assets.opts.txStream, txSubject(rec.id), () => this.assets.nc.info?.max_payload),
          clock: this.clock,
          notify: (kind, payload) => this.notifier.notify(kind, payload),
          reloadKeys: () => this.reloadKeys(),
          onApplied: (id, _seq, entry) => {
            // Promoted here: the snapshots by the old primary no longer prove who writes (snapshot_check.ts).
            if (entry.events.some((e) => e.t === "promoted" && e.host === this.host)) this.snapshotter.noteDue(id);
            else this.snapshotter.noteApplied(id);
          },
          onDemoted: (id, reason) => {
            this.log.warn({ accountId: id, reason }, "stops writing here");
            this.dropActor(id);
          },
        },
        { ...this.opts.writes, ...(this.metrics ? { onAppend: this.metrics.onAppend } : {}) },
      ),
    );
    this.actors.set(rec.id, ref);
    return ref;
  }

  /**
   * Planned switchover: stop writing the account for `forMs` (or until the directory names
   * another primary), so the promotion target drains a log that no longer grows. Queued
   * requests fail unacknowledged; callers retry against the new primary.
   */
  async stopWriting(accountId: string, forMs: number): Promise<{ host: string; stopped: boolean; seq: number }> {
    const old = this.handingOver.get(accountId);
    if (old) this.clock.clearTimer(old);
    this.handingOver.set(
      accountId,
      this.clock.setTimer(() => this.handingOver.delete(accountId), forMs),
    );
    await this.stopActor(accountId);
    return { host: this.host, stopped: true, seq: this.store.replicaState(accountId)?.appliedSeq ?? 0 };
  }

  /** A promotion failed or was abandoned and this is still the primary: write again at once. */
  resumeWriting(accountId: string): { host: string; resumed: boolean } {
    const resumed = this.handingOver.has(accountId);
    this.endHandover(accountId);
    if (resumed) this.log.info({ accountId }, "writes resumed (the promotion away from here did not happen)");
    return { host: this.host, resumed };
  }

  private endHandover(accountId: string): void {
    const t = this.handingOver.get(accountId);
    if (t) this.clock.clearTimer(t);
    this.handingOver.delete(accountId);
  }

  private dropActor(accountId: string): void {
    // After the current batch: its callers get their answers (FENCED) first.
    if (this.actors.has(accountId)) setImmediate(() => void this.stopActor(accountId));
  }

  /** Stops the account's actor; until it is gone no new one is spawned for the account. */
  private async stopActor(accountId: string): Promise<void> {
    const ref = this.actors.get(accountId);
    if (!ref) return;
    this.actors.delete(accountId);
    this.stoppingActors.add(accountId);
    try {
      await this.system.stop(ref);
    } finally {
      this.stoppingActors.delete(accountId);
    }
  }

  get primaryActorCount(): number {
    return this.actors.size;
  }

  /** Graceful stop (SIGTERM): no new requests, in-flight batches finish, then everything closes. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.keyTimer);
      process.off("SIGHUP", this.onSighup);
      await Promise.allSettled(this.services.map((s) => s.stop()));
      await this.system.shutdown();
      await this.snapshotter.stop();
      this.bodies.clear();
      await this.agent.stop();
      this.watch?.stop();
      for (const t of this.handingOver.values()) this.clock.clearTimer(t);
      await this.heartbeat?.stop();
      await this.nc.drain().catch(() => {});
      this.store.close();
      await this.metrics?.stop();
      this.log.info(`mailstore ${this.host} stopped`);
    })();
    return this.stopping;
  }
}
