// A bounded FIFO queue. Bounded so that an overloaded actor refuses work instead of growing
// memory without limit; the caller gets a typed error and can retry.

export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`mailbox capacity must be an integer >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds at the tail; false when full (nothing added). */
  offer(item: T): boolean {
    if (this.size >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    // Compact now and then, so a long-lived busy mailbox does not keep a growing array.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Takes up to `max` items from the head. */
  take(max: number): T[] {
    const n = Math.min(max, this.size);
    const out = this.items.slice(this.head, this.head + n);
    for (let i = 0; i < n; i++) this.shift();
    return out;
  }

  drain(): T[] {
    return this.take(this.size);
  }
}
