// Decrypted message bodies kept for a short while, for ranged reads (getItemBody). A body is
// one secretbox, so any range of it needs the whole body fetched and opened: reading a
// 25 MiB body in 756 KiB parts would otherwise fetch and decrypt it 34 times. The cache is
// bounded in bytes (least recently read dropped first), forgets a body `idleMs` after its last
// read, and shares one load among readers asking for the same body at once.
import { createHash } from "node:crypto";
import type { Clock, TimerHandle } from "../runtime/clock.js";

/** A body as readers get it: its bytes (never to be changed) and their SHA-256, hex. */
export interface CachedBody {
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

export interface BodyCacheOptions {
  /** most bytes of bodies kept at once; a larger body is read but never kept */
  maxBytes: number;
  /** a body not read for this long is dropped, ms */
  idleMs: number;
  clock: Clock;
}

interface Entry {
  body: CachedBody;
  timer: TimerHandle;
}

interface Load {
  promise: Promise<CachedBody>;
  /** some reader of this load will read the body again */
  keep: boolean;
}

export class BodyCache {
  /** by name, least recently read first (a Map keeps insertion order) */
  private readonly entries = new Map<string, Entry>();
  private readonly loads = new Map<string, Load>();
  private held = 0;
  private closed = false;

  constructor(private readonly opts: BodyCacheOptions) {}

  /** Bytes of bodies held now. */
  get bytes(): number {
    return this.held;
  }

  /** Names of the bodies held now, least recently read first. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The body named `name`: from the cache, from a load already under way, or from `load`.
   * `keep`: the caller will read this body again soon (a ranged read that did not reach its
   * end), so it is kept once loaded, when it fits. A failed load is not remembered.
   */
  async get(name: string, load: () => Promise<Uint8Array>, keep: boolean): Promise<CachedBody> {
    const hit = this.entries.get(name);
    if (hit) {
      this.touch(name, hit);
      return hit.body;
    }
    const running = this.loads.get(name);
    if (running) {
      running.keep ||= keep;
      return running.promise;
    }
    // In the map before the load starts (its promise is set below, before anyone can read it),
    // so even a load that fails at once is forgotten after.
    const record = { keep } as Load;
    this.loads.set(name, record);
    record.promise = (async (): Promise<CachedBody> => {
      try {
        const bytes = await load();
        const body: CachedBody = { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
        if (record.keep) this.add(name, body);
        return body;
      } finally {
        this.loads.delete(name);
      }
    })();
    return record.promise;
  }

  /** Drops every body and stops the timers (the mailstore is stopping); later loads are not kept. */
  clear(): void {
    this.closed = true;
    for (const name of [...this.entries.keys()]) this.drop(name);
  }

  private add(name: string, body: CachedBody): void {
    const size = body.bytes.length;
    if (this.closed || size > this.opts.maxBytes || this.entries.has(name)) return;
    for (const oldest of this.entries.keys()) {
      if (this.held + size <= this.opts.maxBytes) break;
      this.drop(oldest);
    }
    this.entries.set(name, { body, timer: this.expiry(name) });
    this.held += size;
  }

  private touch(name: string, entry: Entry): void {
    this.opts.clock.clearTimer(entry.timer);
    entry.timer = this.expiry(name);
    // Most recently read goes last.
    this.entries.delete(name);
    this.entries.set(name, entry);
  }

  private expiry(name: string): TimerHandle {
    return this.opts.clock.setTimer(() => this.drop(name), this.opts.idleMs);
  }

  private drop(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.opts.clock.clearTimer(entry.timer);
    this.entries.delete(name);
    this.held -= entry.body.bytes.length;
  }
}
