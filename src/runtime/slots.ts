// A counting semaphore: at most `limit` calls of run() under way at once; the others wait
// their turn, first come first served. Waiting is not bounded here: a caller that must give
// up after a time starts its clock once it holds a slot.

export class Slots {
  private free: number;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Slots: limit must be an integer of at least 1, got ${limit}`);
    this.free = limit;
  }

  /** Calls under way now. */
  get busy(): number {
    return this.limit - this.free;
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Runs `fn` once a slot is free, and frees it when `fn` settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiters.push(r));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter (never freed in between, so no newcomer overtakes it).
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    }
  }
}
