// Time comes from an injected clock so tests can fast-forward backoffs and leases instead of
// sleeping (Proto.Actor / OTP habit).

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** milliseconds since the Unix epoch */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never jumps (wall-clock steps do not move it):
   * for measuring how long something lasted on this machine. Absent: now() is used.
   */
  monotonic?(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The real clock (Date.now and setTimeout). */
export function systemClock(): Clock {
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  let next = 1;
  return {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    setTimer(fn, ms) {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, ms),
      );
      return { id };
    },
    clearTimer(h) {
      const t = timers.get(h.id);
      if (t !== undefined) clearTimeout(t);
      timers.delete(h.id);
    },
  };
}

/** A clock that only moves when told to; timers fire in due order during advance(). */
export class ManualClock implements Clock {
  private current: number;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimer(h: TimerHandle): void {
    this.timers.delete(h.id);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let dueId = -1;
      let due: { at: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.at <= target && (!due || t.at < due.at)) {
          due = t;
          dueId = id;
        }
      }
      if (!due) break;
      this.timers.delete(dueId);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }
}
