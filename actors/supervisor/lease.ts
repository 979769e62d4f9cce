// The supervisor lease (Litestream's leaser, over KV): one record `lease.supervisor` in the
// mr_directory bucket (no TTL there: the record must outlive a slow renewal), taken and
// renewed only by compare-and-set. The holder renews every ttl/3, which bumps the record's KV
// revision. No machine reads another machine's clock: a standby takes the lease only after the
// record's revision has stayed the same for a whole TTL as measured by its own monotonic
// clock, and the holder counts itself active only for a TTL after its last renewal began (by
// its own monotonic clock). So at most one supervisor is active whatever the wall clocks say,
// and a killed holder is replaced within about one TTL (plus a renewal interval).
// Each process has a random instance id: a second process started with the name of a holder
// that is still renewing is refused (NOT_SUPERVISOR).
import { randomUUID } from "node:crypto";
import type { KV, KvEntry } from "@nats-io/kv";
import type { Clock, TimerHandle } from "../../src/runtime/clock.js";
import { transientReason } from "../../src/jetstream/transient.js";
import { CallerFacingError } from "../../src/errors/index.js";

export const LEASE_KEY = "lease.supervisor";

export interface LeaseRecord {
  /** supervisor name (--host) */
  owner: string;
  /** random id of the process that wrote the record */
  instance: string;
  /** +1 each time the lease changes hands */
  generation: number;
  /** holder's wall clock at the renewal: for people reading the record, never compared */
  renewedAt: number;
  /** set by a graceful stop: a standby may take the lease at once */
  released?: boolean;
}

/** Caller-facing: NOT_SUPERVISOR tells a caller to ask the active supervisor. */
export class LeaseHeldError extends CallerFacingError<"NOT_SUPERVISOR"> {
  constructor(readonly lease: LeaseRecord) {
    super(
      "NOT_SUPERVISOR",
      `another supervisor named ${lease.owner} (instance ${lease.instance}) holds the supervisor lease and keeps renewing it; ` +
        `stop that process first, or start this one with another name (--host)`,
    );
  }
}

const dec = new TextDecoder();

function parse(e: KvEntry | null): LeaseRecord | undefined {
  if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
  return JSON.parse(dec.decode(e.value)) as LeaseRecord;
}

export class SupervisorLease {
  /** random id of this process's lease */
  readonly instance = randomUUID();
  private timer: TimerHandle | undefined;
  /** our record, its revision, and when (monotonic) the renewal that wrote it began */
  private held: { rev: number; rec: LeaseRecord; renewedAt: number } | undefined;
  /** another holder's record as this standby last saw it, and since when (monotonic) unchanged */
  private observed: { rev: number; since: number } | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly owner: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly onChange: (active: boolean, lease: LeaseRecord | undefined) => void,
  ) {}

  private mono(): number {
    return this.clock.monotonic ? this.clock.monotonic() : this.clock.now();
  }

  get isHeld(): boolean {
    return !!this.held && this.mono() - this.held.renewedAt < this.ttlMs;
  }

  get generation(): number | undefined {
    return this.held?.rec.generation;
  }

  /** Tries now, then every ttl/3 for as long as it runs. */
  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => void this.tick(), Math.max(100, Math.floor(this.ttlMs / 3)));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const before = this.held;
    try {
      await this.tryAcquire();
    } catch {
      // NATS unreachable: keep the lease only for a TTL after the last renewal began.
      if (this.held && !this.isHeld) this.held = undefined;
    }
    if (this.stopped) return;
    // Renewed, but only after the TTL had run out: for that while this supervisor was not
    // active (work that looked then has stopped), so it is told lost and taken again, as a new
    // activation that resumes that work; kept silently, stopped work would never resume.
    const lapsed = !!before && !!this.held && this.mono() - before.renewedAt >= this.ttlMs;
    if (lapsed) this.onChange(false, undefined);
    if (lapsed || !!before !== !!this.held) this.onChange(!!this.held, this.held?.rec);
    this.schedule();
  }

  /**
   * Refuses to start next to a live process of the same name: when the lease names this
   * supervisor but another instance, waits until its revision changes (that process is alive:
   * LeaseHeldError) or has stayed the same for a TTL (it is dead: this one may take over).
   */
  async refuseTwin(pollMs = Math.max(50, Math.floor(this.ttlMs / 10))): Promise<void> {
    const first = await this.kv.get(LEASE_KEY);
    const cur = parse(first);
    if (!first || !cur || cur.owner !== this.owner || cur.instance === this.instance || cur.released) return;
    const since = this.mono();
    while (this.mono() - since < this.ttlMs) {
      await new Promise<void>((r) => this.clock.setTimer(r, pollMs));
      const e = await this.kv.get(LEASE_KEY);
      if (e?.revision === first.revision) continue;
      const now = parse(e);
      if (now && now.owner === this.owner && now.instance !== this.instance && !now.released) throw new LeaseHeldError(now);
      return; // released or taken by someone else: an ordinary standby from here
    }
    // Unchanged for a whole TTL: that process is gone; the standby rule takes it at once.
    this.observed = { rev: first.revision, since };
  }

  /**
   * One compare-and-set round: take a free, released or silent lease, or renew ours. False when
   * another supervisor holds it or won the compare-and-set; a transient NATS failure is thrown.
   */
  async tryAcquire(): Promise<boolean> {
    const started = this.mono();
    const e = await this.kv.get(LEASE_KEY);
    const cur = parse(e);
    let generation: number;
    if (!e || !cur) {
      generation = 1;
    } else if (cur.instance === this.instance && !cur.released) {
      generation = cur.generation; // our renewal
    } else if (cur.released) {
      generation = cur.generation + 1;
    } else {
      // Another holder: it is alive as long as its revision keeps changing (seen locally).
      this.held = undefined;
      if (!this.observed || this.observed.rev !== e.revision) {
        this.observed = { rev: e.revision, since: started };
        return false;
      }
      if (started - this.observed.since < this.ttlMs) return false;
      generation = cur.generation + 1;
    }
    const next: LeaseRecord = { owner: this.owner, instance: this.instance, generation, renewedAt: this.clock.now() };
    try {
      const rev = e && cur ? await this.kv.update(LEASE_KEY, JSON.stringify(next), e.revision) : await this.kv.create(LEASE_KEY, JSON.stringify(next));
      this.held = { rev, rec: next, renewedAt: started };
      this.observed = undefined;
      return true;
    } catch (e) {
      // No answer, or no leader for the bucket (a nats-server node lost): nothing says another
      // supervisor wrote, so the lease is kept for its TTL, as when the read fails (tick). Giving
      // it up at once made every election of the directory's leader cost the active supervisor
      // its lease, and its running operations their owner until it took it again.
      if (transientReason(e) !== undefined) throw e;
      this.held = undefined; // someone else won the compare-and-set
      return false;
    }
  }

  /** Stops renewing and gives the lease up, so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    if (this.held) {
      const held = this.held;
      this.held = undefined;
      await this.kv.update(LEASE_KEY, JSON.stringify({ ...held.rec, released: true }), held.rev).catch(() => {});
    }
  }
}
