// The delay of lagged replicas (setAccountDestination ... delay): the replica agent applies an
// entry of a lagged account only once it has been in the log for the account's delay. An entry
// held back is not lost: the agent acks it like an entry of a gap, and the account's catch-up,
// scheduled here for when that entry is old enough, reads it from the log again.
//
// An entry's age is measured from the time JetStream stored it, not the batch's `at`: the
// server's clock is one clock for every writer (an old primary with a skewed clock cannot
// shorten or stretch the delay), it cannot be written by a mailstore, and it is the time
// getAccountStatus's lagMs is measured from, so the delay and the reported lag agree.

/** Called when the first entry held back of an account is old enough: the agent catches it up. */
export type DueCallback = (accountId: string) => void;

export class LagGate {
  /** per lagged account: its delay, ms (accounts absent are not lagged) */
  private readonly delays = new Map<string, number>();
  /** accounts whose delay is ignored for now: a promotion drains them to the head */
  private readonly lifted = new Map<string, number>();
  /** per account: the pending catch-up, and when it is due */
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly onDue: DueCallback,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sets the account's delay (seconds; 0: not lagged). True when it changed. */
  setDelay(accountId: string, seconds: number): boolean {
    const ms = Math.max(0, seconds) * 1_000;
    const before = this.delays.get(accountId) ?? 0;
    if (ms === before) return false;
    if (ms === 0) this.delays.delete(accountId);
    else this.delays.set(accountId, ms);
    // A pending catch-up was timed for the old delay; the caller catches up at once.
    this.cancel(accountId);
    return true;
  }

  /** The delay in force now, ms: 0 when not lagged or lifted by a promotion. */
  delayMs(accountId: string): number {
    return this.lifted.has(accountId) ? 0 : (this.delays.get(accountId) ?? 0);
  }

  /** The account is no longer replicated here (or is now its primary). */
  forget(accountId: string): void {
    this.delays.delete(accountId);
    this.lifted.delete(accountId);
    this.cancel(accountId);
  }

  /** Ignores the account's delay until `restore` (counted: promotions may overlap). */
  lift(accountId: string): void {
    this.lifted.set(accountId, (this.lifted.get(accountId) ?? 0) + 1);
  }

  restore(accountId: string): void {
    const n = (this.lifted.get(accountId) ?? 0) - 1;
    if (n > 0) this.lifted.set(accountId, n);
    else this.lifted.delete(accountId);
  }

  /**
   * Whether an entry stored at `storedAt` (ms since the epoch, server time) must wait. When it
   * must, the account's catch-up is scheduled for the moment it is old enough (the earliest
   * such moment is kept: entries come in log order).
   */
  holds(accountId: string, storedAt: number): boolean {
    const delay = this.delays.get(accountId);
    if (delay === undefined || this.lifted.has(accountId)) return false;
    const due = storedAt + delay;
    const wait = due - this.now();
    if (wait <= 0) return false;
    const pending = this.timers.get(accountId);
    if (pending && pending.at <= due) return true;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(accountId);
      this.onDue(accountId);
    }, wait); // at most 14 days (MAX_REPLICA_DELAY_S), within setTimeout's 24.8
    this.timers.set(accountId, { at: due, timer });
    return true;
  }

  /** Cancels every pending catch-up (the agent stops). */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
  }

  private cancel(accountId: string): void {
    const t = this.timers.get(accountId);
    if (t) clearTimeout(t.timer);
    this.timers.delete(accountId);
  }
}
