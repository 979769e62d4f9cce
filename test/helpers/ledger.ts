// A small generic log-backed behaviour for runtime tests: a ledger of named counters. It
// knows nothing about mail, so the runtime's write path is tested on its own.
import type { Decision, FencedError, LogBackedBehavior } from "../../src/runtime/index.js";

export type LedgerCmd = { add: string; by: number };
export type LedgerEvent = { key: string; by: number };
export type LedgerEntry = { writer: string; prev: number; events: LedgerEvent[] };

export class Ledger implements LogBackedBehavior<LedgerCmd, LedgerEvent, LedgerEntry, number> {
  counters = new Map<string, number>();
  applied = 0;
  fencedBy: FencedError | undefined;
  /** writer of the last entry applied (undefined before the first) */
  lastWriter: string | undefined;
  constructor(readonly writer: string) {}
  appliedSeq(): number {
    return this.applied;
  }
  decide(cmds: LedgerCmd[]): Decision<LedgerEvent, number>[] {
    const pending = new Map<string, number>();
    return cmds.map((c) => {
      if (!Number.isInteger(c.by)) return { ok: false, error: new Error(`by must be an integer, got ${c.by}`) };
      const now = (pending.get(c.add) ?? this.counters.get(c.add) ?? 0) + c.by;
      pending.set(c.add, now);
      return { ok: true, events: [{ key: c.add, by: c.by }], reply: now };
    });
  }
  toEntry(events: LedgerEvent[], prev: number): LedgerEntry {
    return { writer: this.writer, prev, events };
  }
  encode(e: LedgerEntry): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(e));
  }
  decode(d: Uint8Array): LedgerEntry {
    return decodeLedgerEntry(d);
  }
  apply(entry: LedgerEntry, seq: number): void {
    if (seq <= this.applied) return;
    for (const e of entry.events) this.counters.set(e.key, (this.counters.get(e.key) ?? 0) + e.by);
    this.applied = seq;
    this.lastWriter = entry.writer;
  }
  /** Only its own entries may follow what it knew: another writer's entry fences it. */
  canWrite(): boolean {
    return this.lastWriter === undefined || this.lastWriter === this.writer;
  }
  onFenced(e: FencedError): void {
    this.fencedBy = e;
  }
}

export function decodeLedgerEntry(d: Uint8Array): LedgerEntry {
  return JSON.parse(new TextDecoder().decode(d)) as LedgerEntry;
}
