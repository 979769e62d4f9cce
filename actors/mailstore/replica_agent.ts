// The replica agent of a destination mailstore (docs/architecture.md, Replication path): applies the log of every account
// replicated here, in order and exactly once, into the local SQLite store.
//
// A few durable JetStream consumers per mailstore (not one per account: 10,000 accounts are
// normal) read the subjects of the accounts replicated here: one durable listing them while
// they are at most maxFilterSubjects, else several, each listing at most that many
// (steady_filter.ts, steady_layout.ts, steady_durable.ts). Each entry names
// the seq it follows (`prev`), so the agent can tell a duplicate (seq <= applied) from a gap
// (prev != applied). A gap — a newly added replica, or entries delivered before this agent
// knew the account — is filled by a short-lived catch-up read of that account's subject alone.
// The applied seq is written in the same SQLite transaction as the effects, so a crash at any
// point resumes from applied seq + 1.
//
// A copy that has applied nothing yet, or whose next entry the log no longer holds (compacted
// below a snapshot), is seeded from the account's newest snapshot first (snapshot_seed.ts),
// then reads the log after it.
//
// The durables follow the replicated set: changes within FILTER_WINDOW_MS make one round of
// updates with the whole set (one durable's list in place, or, when the number of durables
// changes, new durables and the old ones deleted after). An account a durable newly covers is
// caught up once more once that durable is read: entries appended after its last catch-up read
// the head and before the durable delivered its subject are read then (docs/architecture.md,
// Replication path).
//
// Nothing here waits for an account's next entry to recover: a steady durable that is
// deleted (by hand, or lost by the server) is recreated and every account caught up, and a
// catch-up that fails is retried with back-off. Entries a durable delivered that never arrived
// (in flight when the connection broke or the consumer's leader died) come back only after
// ack_wait, and never once compaction removed them: after a reconnect or missed heartbeats
// every account is caught up from the log (sweepLostDeliveries).
import type { Logger } from "../../src/log/index.js";
import type { JsMsg } from "@nats-io/jetstream";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import type { Assets } from "../../src/jetstream/assets.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { jsErrCode, JS_ERR } from "../../src/runtime/nats_failure.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { Slots } from "../../src/runtime/slots.js";
import type { ApplyOutcome, LogEntryToApply, MetadataStore } from "../../src/store/index.js";
import type { TxBatch } from "../../src/mail/index.js";
import { openLogEntry, withKeyReload } from "./log_entry.js";
import { checkAuthorship } from "./log_authorship.js";
import { emptyLogReason } from "../shared/empty_log.js";
import { seedFromSnapshot, type SeedOutcome } from "./snapshot_seed.js";
import type { DirectoryView } from "../../src/snapshot/snapshot_check.js";
import { LagGate } from "./lag_gate.js";
import { DEFAULT_MAX_FILTER_SUBJECTS, describeFilter, FILTER_WINDOW_MS, sameFilter } from "./steady_filter.js";
import { parseShardDurableName, shardCount, shardLayout, shardsFit } from "./steady_layout.js";
import { SteadyDurable, type DurableFilter, type SteadyDurableDeps } from "./steady_durable.js";

export interface ReplicaAgentDeps {
  host: string;
  store: MetadataStore;
  keyring: EnvelopeKeyring;
  assets: Assets;
  /** re-reads the key files (trusted-signers.json, cluster.secretbox.json); true when something changed */
  reloadKeys?(): boolean;
  /** tells the Global Admin (MR_NOTIFY) */
  notify(kind: string, payload: Record<string, unknown>): void;
  /** a `promoted` event naming this host was applied, at log seq `seq` */
  onPromotedHere?(accountId: string, epoch: number, seq: number, grant: string | undefined): void;
  /** any apply outcome worth logging */
  log?: Logger;
  /** the account's directory record as the watch last saw it (snapshot checks) */
  directory(accountId: string): DirectoryView | undefined;
  /**
   * How long a replica at seq 0 waits for the first entry of an empty account log before it
   * is unavailable (a brand-new account's record is written just before its first entry).
   * Default 30 s.
   */
  emptyLogGraceMs?: number;
  /**
   * At most this many subjects in one steady durable's filter: more replicated (unpaused)
   * accounts are split over several durables (steady_layout.ts); 0: one durable on `mr.tx.*`,
   * skipping the others' entries. Default DEFAULT_MAX_FILTER_SUBJECTS.
   */
  maxFilterSubjects?: number;
}

export interface ReplicaAgentStats {
  /** entries read by the steady consumers */
  read: number;
  /** entries applied (steady and catch-up) */
  applied: number;
  /** entries skipped: other accounts, duplicates */
  skipped: number;
  /** of those, entries the steady consumers read of accounts not replicated here or paused (0 while their filters list exactly the set) */
  notReplicated: number;
  catchUps: number;
  /** steady durables being read */
  consumers: number;
  /** copies loaded from a snapshot */
  seeded: number;
  /** changes of the steady durables (created, filter updated, deleted) */
  filterUpdates: number;
  /** catch-ups of every account after deliveries may have been lost (a reconnect, missed heartbeats) */
  sweeps: number;
}

type Replicated = { paused: boolean };

/** Back-off of a failed catch-up (doubling from the first to the last delay) and of re-opening the steady consumer. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 30_000;

function nextDelay(previous: number | undefined): number {
  return previous === undefined ? RETRY_FIRST_MS : Math.min(RETRY_MAX_MS, previous * 2);
}

/** Entries a catch-up applies per SQLite transaction (and decodes between two turns of the event loop). */
export const RUN_ENTRIES = 256;

type ReadOutcome = { kind: "done" } | { kind: "missing"; seq: number; prev: number; appliedSeq: number };

/** Durable consumer name of a mailstore's agent (a host name without dots). */
export function agentConsumerName(host: string): string {
  return `mr_replica_${host.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

export class ReplicaAgent {
  private readonly replicated = new Map<string, Replicated>();
  private readonly catchingUp = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** bumped when an account stops being replicated here (removed, re-seeded) */
  private readonly versions = new Map<string, number>();
  /** catch-ups run at most this many at once: each is a short-lived consumer on the server */
  private readonly catchUpSlots = new Slots(8);
  private stopped = false;
  /** per account: the delay of its last scheduled catch-up retry, and the pending timer */
  private readonly retryDelays = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private reopenTimer: NodeJS.Timeout | undefined;
  /** a reopen is queued and has not listed the durables yet: a second loop ending joins it */
  private reopenQueued = false;
  /** per account at seq 0: when its log was first seen empty (waiting for account.created) */
  private readonly emptySince = new Map<string, number>();
  /** bumped by start() and stop(), so a reopen still in flight from before cannot start a second loop */
  private generation = 0;
  /** the catch-up of every account after deliveries may have been lost, while it runs */
  private sweep: Promise<void> | undefined;
  /** another loss was suspected while the sweep ran: it runs once more after */
  private sweepAgain = false;
  private watchingConnection = false;
  readonly stats: ReplicaAgentStats = { read: 0, applied: 0, skipped: 0, catchUps: 0, consumers: 0, seeded: 0, filterUpdates: 0, notReplicated: 0, sweeps: 0 };
  /**
   * This host's steady durables on the server, by name, as last created, updated or listed
   * (leftovers of another layout included, read until they are deleted); undefined until the
   * first open has listed them.
   */
  private durables: Map<string, SteadyDurable> | undefined;
  /** per durable: the accounts it newly covers, caught up once it is read (applyFilter) */
  private readonly coverPending = new Map<string, Set<string>>();
  /**
   * Unpaused accounts when the layout was last computed, for the log lines of its durables
   * (counting them per durable was 1.1 of msd's 42 busy seconds promoting 10,000 accounts).
   */
  private layoutAccounts = 0;
  /** B of the layout in place or being moved to (steady_layout.ts); undefined: none yet */
  private shards: number | undefined;
  /** the B of each layout whose durables the first open found on the server, ascending */
  private foundShards: number[] = [];
  /** the replicated set changed since the durables' filters were last set */
  private filterDirty = false;
  /**
   * The directory has been read whole (the first catchUpAll): before that, the set is partial
   * (a start replays every record), and a sync would narrow the durables only to widen them again.
   */
  private setWhole = false;
  private filterTimer: NodeJS.Timeout | undefined;
  private filterSync: Promise<void> | undefined;
  private filterRetryMs: number | undefined;
  /** listing, creating, updating and deleting the durables, one at a time */
  private consumerOps: Promise<unknown> = Promise.resolve();
  /** lagged replicas: entries younger than the account's delay wait (lag_gate.ts) */
  private readonly lag = new LagGate((accountId) => {
    const r = this.replicated.get(accountId);
    if (!this.stopped && r && !r.paused) void this.catchUp(accountId);
  });

  constructor(private readonly d: ReplicaAgentDeps) {}

  /** Starts the steady consumers (also again after stop(): doStartService module). */
  async start(): Promise<void> {
    this.stopped = false;
    this.watchConnection();
    const generation = ++this.generation;
    await this.serial(() => this.openSteady(generation, false));
  }

  /** Runs one operation on the durables after the ones before it (they must not interleave). */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const p = this.consumerOps.then(op);
    this.consumerOps = p.catch(() => {});
    return p;
  }

  private get maxFilterSubjects(): number {
    return this.d.maxFilterSubjects ?? DEFAULT_MAX_FILTER_SUBJECTS;
  }

  private get baseName(): string {
    return agentConsumerName(this.d.host);
  }

  private unpausedIds(): string[] {
    return [...this.replicated].filter(([, r]) => !r.paused).map(([id]) => id);
  }

  private durableDeps(): SteadyDurableDeps {
    return { assets: this.d.assets, ...(this.d.log ? { log: this.d.log } : {}) };
  }

  /**
   * Lists this host's durables on the server and consumes every one not read yet: those of the
   * current layout, and any other layout's leftovers (an older version's `mr.tx.*`, a change a
   * crash interrupted), which keep delivering until a filter sync replaces and deletes them.
   * A durable that is gone is forgotten. With `createMissing` (a reopen, the set whole), the
   * current layout's missing durables are created; otherwise the filter sync creates them.
   * Returns the names created. Only through serial().
   */
  private async openSteady(generation: number, createMissing: boolean): Promise<string[]> {
    const found = await SteadyDurable.listOfHost(this.durableDeps(), this.baseName, this.d.host);
    if (generation !== this.generation || this.stopped) return [];
    const durables = (this.durables ??= new Map());
    for (const [name, sd] of durables) {
      if (found.has(name)) continue;
      sd.stop();
      durables.delete(name);
    }
    for (const [name, info] of found) {
      const known = durables.get(name);
      if (known) known.filter = SteadyDurable.existing(this.durableDeps(), info).filter;
      else durables.set(name, SteadyDurable.existing(this.durableDeps(), info));
    }
    // Until the first sync, the layouts on the server: a restart keeps one that still fits
    // (desiredLayout), rather than re-sharding every account.
    if (this.shards === undefined)
      this.foundShards = [...new Set([...found.keys()].map((n) => parseShardDurableName(this.baseName, n)!.shards))].sort((a, b) => a - b);
    const created: string[] = [];
    if (createMissing) {
      for (const [name, filter] of this.desiredLayout()) {
        if (durables.has(name)) continue;
        await this.createDurable(name, filter, "steady consumer created");
        created.push(name);
      }
    }
    for (const sd of durables.values()) await this.consumeDurable(sd, generation);
    this.countConsumers();
    return created;
  }

  /** The durables the current set should have (B follows it: steady_layout.ts); sets B. */
  private desiredLayout(): Map<string, DurableFilter> {
    const ids = this.unpausedIds();
    this.layoutAccounts = ids.length;
    // 0: the layout before filter lists, one durable on `mr.tx.*` (the benchmark compares it).
    if (this.maxFilterSubjects === 0) {
      this.shards = 1;
      return new Map(ids.length > 0 ? [[this.baseName, { kind: "all" }]] : []);
    }
    // First sync after a start: the smallest layout found on the server that fits the whole set
    // (after a change a crash interrupted: the one it was moving to if it fits, else the old one).
    const current = this.shards ?? this.foundShards.find((b) => shardsFit(ids, b, this.maxFilterSubjects));
    const shards = shardCount(ids, this.maxFilterSubjects, current);
    if (this.shards !== undefined && shards !== this.shards) {
      this.d.log?.info(
        { consumer: this.baseName, from: this.shards, to: shards, accounts: ids.length, maxFilterSubjects: this.maxFilterSubjects },
        `steady consumers re-sharded: ${ids.length} accounts replicated here in ${shards} durable(s) of at most ${this.maxFilterSubjects} subjects`,
      );
    }
    this.shards = shards;
    return shardLayout(this.baseName, ids, shards);
  }

  private async createDurable(name: string, filter: DurableFilter, msg: string): Promise<SteadyDurable> {
    const sd = await SteadyDurable.create(this.durableDeps(), name, filter, name === this.baseName ? undefined : this.d.host);
    this.durables!.set(name, sd);
    if (!sameFilter(sd.filter, filter)) {
      // It existed after all (made since the listing): its filter is set by the next round.
      this.filterDirty = true;
      this.logFilter(name, sd.filter, "steady consumer found existing; its filter is updated next");
      return sd;
    }
    this.stats.filterUpdates++;
    this.logFilter(name, filter, msg);
    return sd;
  }

  /** Starts reading a durable (unless it is read already); a durable gone meanwhile is forgotten, so the next sync creates it. */
  private async consumeDurable(sd: SteadyDurable, generation: number): Promise<void> {
    if (sd.consuming) return;
    try {
      await sd.consume(
        (m) => this.onSteadyEntry(m),
        (ended, why) => this.onSteadyEnded(ended, why),
        (suspect, why) => this.sweepLostDeliveries(why, suspect.name),
      );
    } catch (e) {
      if (jsErrCode(e) === JS_ERR.CONSUMER_NOT_FOUND) this.durables?.delete(sd.name);
      throw e;
    }
    if (generation !== this.generation || this.stopped) sd.stop(); // stopped or started again meanwhile
  }

  private countConsumers(): void {
    this.stats.consumers = [...(this.durables?.values() ?? [])].filter((sd) => sd.consuming).length;
  }

  private async onSteadyEntry(m: JsMsg): Promise<void> {
    this.stats.read++;
    try {
      await this.handleSteady(m);
    } catch (e) {
      // Never let one entry end the consumer loop. Not applied here means a gap at the
      // account's next entry, which its catch-up fills from the log.
      this.d.log?.warn({ seq: m.seq, subject: m.subject, error: (e as Error).message, code: (e as { code?: unknown }).code }, "entry not applied");
    }
  }

  private onSteadyEnded(sd: SteadyDurable, ended: string): void {
    this.countConsumers();
    if (this.stopped || this.durables?.get(sd.name) !== sd) return;
    this.d.log?.info({ consumer: sd.name, ended }, "steady consumer ended; opening it again");
    void this.reopenSteady();
  }

  /** Every reconnect of the connection may have lost deliveries in flight (sweepLostDeliveries). */
  private watchConnection(): void {
    if (this.watchingConnection) return;
    this.watchingConnection = true;
    void (async () => {
      for await (const s of this.d.assets.nc.status()) if (s.type === "reconnect") this.sweepLostDeliveries("reconnected");
    })().catch(() => {});
  }

  /**
   * Catches every replicated account up from the log (not from the durables), once a durable's
   * deliveries may have been lost: they stay unacknowledged on the server until ack_wait and are
   * never delivered again once compaction removed them, so without this an idle account's
   * replica would stay "available" behind its head until its next entry. A catch-up of an account
   * at its head is one head lookup; one suspected while the sweep runs makes it run once more.
   */
  private sweepLostDeliveries(why: string, consumer?: string): void {
    if (this.stopped) return;
    if (this.sweep) {
      this.sweepAgain = true;
      return;
    }
    this.d.log?.info(
      { why, ...(consumer ? { consumer } : {}), accounts: this.replicated.size },
      "steady consumer may have lost deliveries; catching every replicated account up",
    );
    this.stats.sweeps++;
    // An account that fails here is caught up by its next entry or the next sweep.
    this.sweep = this.catchUpEach(8)
      .then(() => undefined)
      .finally(() => {
        this.sweep = undefined;
        if (this.sweepAgain) {
          this.sweepAgain = false;
          this.sweepLostDeliveries(why, consumer);
        }
      });
  }

  /** Opens the steady consumers again (creating those that are gone), then catches every account up. */
  private async reopenSteady(delay?: number): Promise<void> {
    if (this.stopped || this.reopenQueued) return;
    this.reopenQueued = true;
    const generation = this.generation;
    try {
      const created = await this.serial(() => {
        this.reopenQueued = false;
        return this.openSteady(generation, this.setWhole);
      });
      if (generation !== this.generation || this.stopped) return;
      for (const name of created) this.d.log?.info({ consumer: name }, "steady consumer was deleted; recreated");
      if (created.length === 0) {
        this.d.log?.info(
          { consumer: this.baseName, consumers: this.stats.consumers },
          this.stats.consumers > 0 ? "steady consumer reopened" : "steady consumer gone and nothing replicated here; not recreated",
        );
      }
    } catch (e) {
      this.reopenQueued = false;
      const next = nextDelay(delay);
      this.d.log?.warn({ consumer: this.baseName, error: (e as Error).message, retryMs: next }, "steady consumer could not be opened; trying again");
      this.reopenTimer = setTimeout(() => void this.reopenSteady(next), next);
      return;
    }
    // Entries appended while no consumer read them reach an idle account only this way
    // (a new durable starts at the stream's end).
    await this.catchUpAll();
  }

  private async handleSteady(m: JsMsg): Promise<void> {
    const accountId = m.subject.slice("mr.tx.".length);
    const r = this.replicated.get(accountId);
    if (!r || r.paused) {
      this.stats.skipped++;
      this.stats.notReplicated++;
      return;
    }
    if (this.lag.holds(accountId, m.info.timestampNanos / 1e6)) {
      this.stats.skipped++;
      return;
    }
    const outcome = await this.handle(accountId, m.seq, m.data);
    if (outcome === "gap") this.catchUp(accountId);
  }

  /** Stops the steady consumers (the durables stay, so a restart resumes where they were). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.reopenTimer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.retryDelays.clear();
    this.emptySince.clear();
    this.lag.stop();
    clearTimeout(this.filterTimer);
    this.filterTimer = undefined;
    for (const sd of this.durables?.values() ?? []) sd.stop();
    this.countConsumers();
    await Promise.allSettled([...this.catchingUp.values(), this.filterSync]);
  }
  /** The accounts replicated here, as the directory says (`delay`: seconds, lagged replica); starts or stops applying them. */
  setReplicated(accountId: string, state: { paused: boolean; delay?: number } | undefined): void {
    const was = this.replicated.get(accountId);
    if (!state) {
      if (was && !was.paused) this.requestFilterSync();
      this.lag.forget(accountId);
      this.replicated.delete(accountId);
      this.cancelRetry(accountId);
      // A catch-up still reading this account stops at its next entry.
      this.versions.set(accountId, (this.versions.get(accountId) ?? 0) + 1);
      return;
    }
    const before = was;
    this.replicated.set(accountId, { paused: state.paused });
    if (!before || before.paused !== state.paused) this.requestFilterSync();
    // A new delay: what the old one held back may be due now.
    const delayChanged = this.lag.setDelay(accountId, state.delay ?? 0);
    const rs = this.d.store.ensureReplicaState(accountId, "replica");
    if (rs.role === "primary") return;
    if (state.paused) {
      this.cancelRetry(accountId);
      // An unavailable replica stays unavailable (with its reason) while paused.
      if (rs.status === "available") this.d.store.setReplicaStatus(accountId, "paused");
      return;
    }
    if (rs.status === "paused") this.d.store.setReplicaStatus(accountId, "available");
    if (!before || before.paused || delayChanged) void this.catchUp(accountId);
  }

  /**
   * Gathers changes of the replicated set for FILTER_WINDOW_MS, then sets the durable's filter
   * to the whole set at once: adding 10,000 replicas in one operation makes one update (or a
   * few, when the directory delivers them over several windows), not 10,000. Changes made while
   * an update is in flight are applied by the next round of the same sync.
   */
  private requestFilterSync(): void {
    this.filterDirty = true;
    if (!this.setWhole || this.stopped || this.filterTimer || this.filterSync) return;
    this.filterTimer = setTimeout(() => this.startFilterSync(), FILTER_WINDOW_MS);
  }

  private startFilterSync(): void {
    this.filterTimer = undefined;
    if (this.stopped || this.filterSync) return;
    this.filterSync = this.runFilterSync().finally(() => (this.filterSync = undefined));
  }

  private async runFilterSync(): Promise<void> {
    while (this.filterDirty && !this.stopped) {
      this.filterDirty = false;
      const generation = this.generation;
      try {
        await this.serial(() => this.applyFilter(generation));
        this.filterRetryMs = undefined;
      } catch (e) {
        // The durable keeps its previous filter meanwhile: its accounts are still applied, and
        // a newly added one is applied by its catch-ups (retried) until the update lands.
        this.filterDirty = true;
        const next = (this.filterRetryMs = nextDelay(this.filterRetryMs));
        this.d.log?.warn(
          { consumer: agentConsumerName(this.d.host), error: (e as Error).message, retryMs: next },
          "steady consumer's filter could not be updated; trying again",
        );
        if (!this.stopped) this.filterTimer = setTimeout(() => this.startFilterSync(), next);
        return;
      }
    }
  }

  /**
   * Creates, updates and deletes durables so they are the current set's layout. Each account a
   * durable newly covers is caught up once more as soon as that durable is read: its first
   * catch-up may have read the head before the durable delivered its subject, and after a
   * re-shard the durable it leaves may be deleted before delivering everything (a new durable
   * starts at the stream's end). Only then are the durables the layout no longer names deleted.
   */
  private async applyFilter(generation: number): Promise<void> {
    // Not opened yet (or being reopened): opening lists the durables, and the catchUpAll that
    // follows every open asks for a sync again.
    const durables = this.durables;
    if (generation !== this.generation || this.stopped || durables === undefined) return;
    const desired = this.desiredLayout();
    for (const [name, filter] of desired) {
      const known = durables.get(name);
      const before = known?.filter;
      if (!known || !sameFilter(before, filter)) {
        if (known) {
          // Updated in place: the durable keeps its position (an older version's `mr.tx.*` too).
          try {
            await known.update(filter);
          } catch (e) {
            // Deleted by hand meanwhile: created by the next round (retried with back-off).
            if (jsErrCode(e) === JS_ERR.CONSUMER_NOT_FOUND) {
              known.stop();
              durables.delete(name);
            }
            throw e;
          }
          this.stats.filterUpdates++;
          this.logFilter(name, filter, "steady consumer's filter updated");
        } else {
          await this.createDurable(name, filter, "steady consumer created");
        }
        // Kept until the durable is read, so a round that fails before still catches them up.
        const had = before?.kind === "subjects" ? new Set(before.subjects) : undefined;
        const pending = this.coverPending.get(name) ?? new Set<string>();
        const covered = filter.kind === "all" ? this.unpausedIds() : filter.subjects.map((subject) => subject.slice("mr.tx.".length));
        for (const id of covered) if (before?.kind !== "all" && !had?.has(txSubject(id))) pending.add(id);
        if (pending.size > 0) this.coverPending.set(name, pending);
      }
      await this.consumeDurable(durables.get(name)!, generation);
      this.countConsumers();
      if (generation !== this.generation || this.stopped) return;
      const pending = this.coverPending.get(name);
      this.coverPending.delete(name);
      for (const id of pending ?? []) if (this.replicated.get(id)?.paused === false) void this.catchUp(id);
    }
    for (const [name, sd] of [...durables]) {
      if (desired.has(name)) continue;
      await sd.delete();
      durables.delete(name);
      this.coverPending.delete(name);
      this.stats.filterUpdates++;
      this.countConsumers();
      this.d.log?.info(
        { consumer: name, filter: describeFilter(sd.filter), consumers: this.stats.consumers },
        desired.size === 0 ? "steady consumer deleted (nothing replicated here)" : "steady consumer deleted (not in the current layout)",
      );
    }
  }

  private logFilter(name: string, f: DurableFilter, msg: string): void {
    this.d.log?.info(
      { consumer: name, filter: describeFilter(f), accounts: this.layoutAccounts, shards: this.shards, maxFilterSubjects: this.maxFilterSubjects },
      msg,
    );
  }

  get replicatedCount(): number {
    return this.replicated.size;
  }

  isReplicated(accountId: string): boolean {
    return this.replicated.has(accountId);
  }

  /** Catches every replicated account up to its log head (at start). */
  async catchUpAll(concurrency = 8): Promise<void> {
    // Called once the set is whole (start, module start, a recreated durable): the durable's
    // filter is brought in line with it too (it may be an older version's, or stale).
    this.setWhole = true;
    this.requestFilterSync();
    const first = await this.catchUpEach(concurrency);
    if (first !== undefined) throw first;
  }

  /**
   * Catches every replicated account up, `concurrency` at a time. One account's failure must not
   * leave the others behind: each is tried, and the first error is returned (undefined if none).
   */
  private async catchUpEach(concurrency: number): Promise<unknown> {
    let first: unknown;
    await runBounded([...this.replicated.keys()], concurrency, (id) => this.catchUp(id).catch((e: unknown) => void (first ??= e)));
    return first;
  }

  /** Catches up to the log head whatever the account's delay: a promotion's drain. */
  async drainToHead(accountId: string): Promise<void> {
    this.lag.lift(accountId);
    try {
      await this.catchUp(accountId);
      // A run that started before the lift may have stopped at a held entry and queued another.
      for (let p = this.catchingUp.get(accountId); p; p = this.catchingUp.get(accountId)) await p;
    } finally {
      this.lag.restore(accountId);
    }
  }

  /** Reads the account's own subject from applied seq + 1 to its head. One at a time per account. */
  catchUp(accountId: string): Promise<void> {
    const running = this.catchingUp.get(accountId);
    if (running) {
      this.again.add(accountId); // new entries arrived during the read: read once more after
      return running;
    }
    const p = this.catchUpSlots
      .run(() => this.runCatchUp(accountId))
      .finally(() => {
        this.catchingUp.delete(accountId);
        if (this.again.delete(accountId) && !this.stopped) void this.catchUp(accountId);
      });
    this.catchingUp.set(accountId, p);
    return p;
  }

  private async runCatchUp(accountId: string): Promise<void> {
    const rs = this.d.store.replicaState(accountId);
    const r = this.replicated.get(accountId);
    if (!rs || !r || r.paused || rs.role === "primary" || rs.status === "unavailable") return;
    this.stats.catchUps++;
    const version = this.versions.get(accountId) ?? 0;
    const current = (): boolean => !this.stopped && (this.versions.get(accountId) ?? 0) === version;
    const log = new SubjectLog(this.d.assets.js, this.d.assets.jsm, this.d.assets.opts.txStream, txSubject(accountId));
    try {
      // Fast seeding: a copy with nothing applied starts from the newest snapshot, if any.
      if (rs.appliedSeq === 0 && (await this.seed(accountId))?.loaded === undefined && (await log.lastSeq()) === 0) {
        this.awaitFirstEntry(accountId);
        return;
      }
      this.emptySince.delete(accountId);
      let seededForGap = false;
      for (;;) {
        if (!current()) return;
        const from = (this.d.store.replicaState(accountId)?.appliedSeq ?? 0) + 1;
        const outcome = await this.readLog(log, accountId, from, current);
        if (outcome.kind !== "missing") break;
        // The next entry the log holds follows one this copy never saw: the entries between were
        // compacted below a snapshot (or removed by hand). The newest snapshot covers them, once.
        const seeded = seededForGap ? undefined : await this.seed(accountId);
        seededForGap = true;
        if (!current()) return;
        if (seeded?.loaded === undefined && seeded !== undefined && seeded.skipped.length > 0) {
          // Snapshots exist but none can be used now (one by a former primary, one half-written):
          // the current primary's next snapshot will do; retried with back-off meanwhile.
          const delay = this.scheduleRetry(accountId);
          this.d.log?.warn({ accountId, retryMs: delay, skipped: seeded.skipped }, "entries missing from the log and no usable snapshot yet; retrying");
          return;
        }
        if (seeded?.loaded === undefined) {
          this.unavailable(
            accountId,
            outcome.seq,
            new Error(
              `entries between seq ${outcome.appliedSeq} and ${outcome.prev} are missing from the log (removed by retention or by hand) and no snapshot covers them; restartReplicas re-seeds this replica`,
            ),
          );
          return;
        }
      }
      this.retryDelays.delete(accountId);
    } catch (e) {
      if (!current()) return;
      const delay = this.scheduleRetry(accountId);
      this.d.log?.warn({ accountId, error: (e as Error).message, retryMs: delay }, "catch-up failed; retrying");
    }
  }

  /**
   * Applies the account's entries from `from` to the head, RUN_ENTRIES per SQLite transaction;
   * stops at the first one that does not follow the applied seq ("missing").
   */
  private async readLog(log: SubjectLog, accountId: string, from: number, current: () => boolean): Promise<ReadOutcome> {
    let run: LogEntryToApply[] = [];
    // Read again after each run, not per entry: the steady consumer may apply meanwhile, and an
    // entry it applied that is decoded anyway is skipped as a duplicate by applyEntryRun.
    let applied = from - 1;
    for await (const e of log.read(from)) {
      if (!current()) return { kind: "done" };
      if (this.lag.holds(accountId, e.time)) break; // the rest waits for its delay
      if (e.seq <= applied) {
        this.stats.skipped++;
        continue;
      }
      let entry: LogEntryToApply;
      try {
        entry = this.decode(accountId, e.seq, e.data);
      } catch (err) {
        // The entries before it still apply; this one makes the replica unavailable.
        const before = run.length > 0 ? this.applyRun(accountId, run) : undefined;
        if (before) return before;
        this.unavailable(accountId, e.seq, err as Error);
        return { kind: "done" };
      }
      run.push(entry);
      if (run.length >= RUN_ENTRIES) {
        const stopped = this.applyRun(accountId, run);
        run = [];
        if (stopped) return stopped;
        applied = this.d.store.replicaState(accountId)?.appliedSeq ?? applied;
        // Decoding a run holds the event loop for a few ms: let requests and the steady consumer in.
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    if (run.length > 0 && current()) return this.applyRun(accountId, run) ?? { kind: "done" };
    return { kind: "done" };
  }

  /** Loads the newest usable snapshot newer than the copy (counted and logged by seedFromSnapshot). */
  private async seed(accountId: string): Promise<SeedOutcome | undefined> {
    const delay = this.lag.delayMs(accountId);
    const out = await seedFromSnapshot(
      {
        store: this.d.store,
        keyring: this.d.keyring,
        snapshots: this.d.assets.snapshots,
        directory: (id) => this.d.directory(id),
        ...(this.d.reloadKeys ? { reloadKeys: this.d.reloadKeys } : {}),
        ...(this.d.log ? { log: this.d.log } : {}),
      },
      accountId,
      delay > 0 ? { storedBefore: Date.now() - delay } : {},
    );
    if (out?.loaded !== undefined) this.stats.seeded++;
    return out;
  }

  /**
   * Every account's log starts with account.created, so an empty log means either a brand-new
   * account whose first entry is still being appended (its directory record is written just
   * before), or a log whose entries were removed. Checked again with back-off; still empty
   * after the grace, the replica is unavailable: it never reports available over nothing.
   */
  private awaitFirstEntry(accountId: string): void {
    const now = Date.now();
    const since = this.emptySince.get(accountId) ?? now;
    this.emptySince.set(accountId, since);
    const left = (this.d.emptyLogGraceMs ?? 30_000) - (now - since);
    if (left <= 0) {
      this.emptySince.delete(accountId);
      this.retryDelays.delete(accountId);
      this.unavailable(accountId, 0, new Error(emptyLogReason(accountId, this.d.host)), "LOG_EMPTY");
      return;
    }
    this.scheduleRetry(accountId, left);
  }

  /**
   * A failed catch-up of an idle account would otherwise wait for the account's next entry.
   * Retried with doubling delays; the retry is dropped when the account stops being
   * replicated (or is paused) here, or the agent stops.
   */
  private scheduleRetry(accountId: string, atMostMs = RETRY_MAX_MS): number {
    const delay = Math.min(atMostMs, nextDelay(this.retryDelays.get(accountId)));
    this.retryDelays.set(accountId, delay);
    clearTimeout(this.retryTimers.get(accountId));
    this.retryTimers.set(
      accountId,
      setTimeout(() => {
        this.retryTimers.delete(accountId);
        const r = this.replicated.get(accountId);
        if (!this.stopped && r && !r.paused) void this.catchUp(accountId);
      }, delay),
    );
    return delay;
  }

  private cancelRetry(accountId: string): void {
    clearTimeout(this.retryTimers.get(accountId));
    this.retryTimers.delete(accountId);
    this.retryDelays.delete(accountId);
    this.emptySince.delete(accountId);
  }

  /**
   * Applies one entry of the steady consumer if it is the next one. Returns "applied", "skip"
   * (duplicate, or not applied here), "gap" (an earlier entry is missing here: the catch-up
   * reads it) or "stop" (the replica is now unavailable).
   */
  private async handle(accountId: string, seq: number, data: Uint8Array): Promise<"applied" | "skip" | "gap" | "stop"> {
    const rs = this.d.store.replicaState(accountId);
    if (!rs || rs.role === "primary" || rs.status !== "available") return "skip";
    if (seq <= rs.appliedSeq) {
      this.stats.skipped++;
      return "skip";
    }
    let entry: LogEntryToApply;
    try {
      entry = this.decode(accountId, seq, data);
    } catch (e) {
      this.unavailable(accountId, seq, e as Error);
      return "stop";
    }
    if (entry.batch.prev !== rs.appliedSeq) return "gap";
    try {
      // Nothing awaited since the state was read: it is the state this entry applies onto.
      this.withReload(() => checkAuthorship(this.d.keyring.trust, rs, entry.batch, entry.signer));
      this.afterApply(accountId, entry.batch, this.d.store.applyBatch(accountId, seq, entry.batch));
    } catch (e) {
      this.unavailable(accountId, seq, e as Error);
      return "stop";
    }
    return "applied";
  }

  /** Opens (signature, decryption) and shape-checks one entry. Throws what open/readTxBatch throw. */
  private decode(accountId: string, seq: number, data: Uint8Array): LogEntryToApply {
    return openLogEntry(this.d.keyring, accountId, seq, data, this.d.reloadKeys);
  }

  /**
   * Applies a catch-up's run of decoded entries in one SQLite transaction (authorship checked
   * for each against the state it applies onto). Undefined when the whole run applied;
   * otherwise why the read must end: the replica unavailable or not applying ("done"), or a
   * gap the caller may fill from a snapshot ("missing").
   */
  private applyRun(accountId: string, run: readonly LogEntryToApply[]): ReadOutcome | undefined {
    const rs = this.d.store.replicaState(accountId);
    if (!rs || rs.role === "primary" || rs.status !== "available") return { kind: "done" };
    let out;
    try {
      out = this.d.store.applyEntryRun(accountId, run, (state, batch, signer) =>
        this.withReload(() => checkAuthorship(this.d.keyring.trust, state, batch, signer)),
      );
    } catch (e) {
      this.unavailable(accountId, run[0]?.seq ?? 0, e as Error);
      return { kind: "done" };
    }
    const bySeq = new Map(run.map((e) => [e.seq, e.batch]));
    for (const o of out.outcomes) {
      if (o.status === "duplicate") this.stats.skipped++;
      else this.afterApply(accountId, bySeq.get(o.seq)!, o);
    }
    if (out.stop?.kind === "gap")
      return { kind: "missing", seq: out.stop.seq, prev: out.stop.prev, appliedSeq: this.d.store.replicaState(accountId)?.appliedSeq ?? 0 };
    if (out.stop?.kind === "refused") {
      this.unavailable(accountId, out.stop.seq, out.stop.error as Error);
      return { kind: "done" };
    }
    return undefined;
  }

  /** What follows an applied entry: counted, a fenced writer's entry told, a promotion of this host acted on. */
  private afterApply(accountId: string, batch: TxBatch, out: ApplyOutcome): void {
    if (out.status === "duplicate") return;
    if (out.status === "stale-epoch") {
      this.d.notify("replica.stale_epoch", { account: accountId, destination: this.d.host, seq: out.seq, epoch: batch.epoch, writer: batch.writer });
    }
    this.stats.applied++;
    for (const ev of batch.events) {
      if (ev.t === "promoted" && ev.host === this.d.host) this.d.onPromotedHere?.(accountId, ev.epoch, out.seq, ev.grant);
    }
  }

  /** Runs a check once more after the key files changed (a key the operator just added). */
  private withReload<T>(check: () => T): T {
    return withKeyReload(check, this.d.reloadKeys);
  }

  private unavailable(accountId: string, seq: number, e: Error, code = (e as { code?: string }).code ?? "APPLY_FAILED"): void {
    const reason = `${code} at seq ${seq}: ${e.message}`;
    this.d.store.setReplicaStatus(accountId, "unavailable", reason);
    this.d.log?.error({ accountId, reason }, "replica unavailable");
    this.d.notify("replica.unavailable", { account: accountId, destination: this.d.host, seq, code, reason });
  }
}
