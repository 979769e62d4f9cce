// The supervisor lease (Litestream's leaser, over KV): one record `lease.supervisor` in the
// mr_directory bucket (no TTL there: the record must outlive a slow renewal, and expiry is
// decided by expiresAt alone), { owner, generation, expiresAt }, taken and renewed only by
// compare-and-set. The holder renews every ttl/3; a standby takes it once it has expired, so
// at most one supervisor is active, and a killed one is replaced within about the TTL.
import type { KV } from "nats";
import type { Clock, TimerHandle } from "../src/runtime/clock.js";

export const LEASE_KEY = "lease.supervisor";

export interface LeaseRecord {
  owner: string;
  /** +1 each time the lease changes hands */
  generation: number;
  expiresAt: number;
}

export class LeaseHeldError extends Error {
  readonly code = "NOT_SUPERVISOR";
  constructor(readonly lease: LeaseRecord) {
    super(`the supervisor lease is held by ${lease.owner} until ${new Date(lease.expiresAt).toISOString()}`);
  }
}

const dec = new TextDecoder();

export class SupervisorLease {
  private timer: TimerHandle | undefined;
  private held: { rev: number; rec: LeaseRecord } | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly owner: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly onChange: (active: boolean, lease: LeaseRecord | undefined) => void,
  ) {}

  get isHeld(): boolean {
    return !!this.held && this.held.rec.expiresAt > this.clock.now();
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
    const wasHeld = !!this.held;
    try {
      await this.tryAcquire();
    } catch {
      // NATS unreachable: keep the lease only while it has not expired.
      if (this.held && this.held.rec.expiresAt <= this.clock.now()) this.held = undefined;
    }
    if (wasHeld !== !!this.held) this.onChange(!!this.held, this.held?.rec);
    this.schedule();
  }

  /** One compare-and-set round: take a free or expired lease, or renew ours. */
  async tryAcquire(): Promise<boolean> {
    const now = this.clock.now();
    const e = await this.kv.get(LEASE_KEY);
    const cur = e && e.operation === "PUT" && e.length > 0 ? (JSON.parse(dec.decode(e.value)) as LeaseRecord) : undefined;
    if (cur && cur.owner !== this.owner && cur.expiresAt > now) {
      this.held = undefined;
      return false;
    }
    const next: LeaseRecord = {
      owner: this.owner,
      generation: cur ? (cur.owner === this.owner && this.held ? cur.generation : cur.generation + 1) : 1,
      expiresAt: now + this.ttlMs,
    };
    try {
      const rev = e && cur ? await this.kv.update(LEASE_KEY, JSON.stringify(next), e.revision) : await this.kv.create(LEASE_KEY, JSON.stringify(next));
      this.held = { rev, rec: next };
      return true;
    } catch {
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
      await this.kv.update(LEASE_KEY, JSON.stringify({ ...held.rec, expiresAt: 0 }), held.rev).catch(() => {});
    }
  }
}
