// The quota ledger: one key in mr_directory, `quota.ledger`, counting the accounts that have
// a replica, changed only by compare-and-set on its revision. Checking the quota and
// changing replica lists used to be "count the records, then write them", so concurrent
// calls each saw room and together went past the quota. Now every change that may enable an
// account first takes a *hold* on the ledger (one CAS that refuses when enabled + held +
// asked > quantity), then writes the account records, then settles the hold (one CAS that
// moves what it really enabled into `enabled` and drops the hold). Removals take a release
// hold the same way and subtract only when they settle.
//
// A crash between the steps can only leave the ledger counting too much, never too little:
// an unsettled hold still counts, and a release that never settled still counts the
// account. The reconciler (reconciler.ts) recounts from the account records, and it does so
// only in a CAS against a ledger revision with no live hold, so a recount can never miss a
// change in flight: anyone who changes replica lists moved the revision first.
//
// Holds carry their owner and a time their owner refreshes; a hold not refreshed for
// HOLD_STALE_MS is the remains of a dead process and the reconciler drops it with the
// recount. An owner that finds its hold gone stops writing (its change is refused).
import { randomUUID } from "node:crypto";
import type { KV } from "@nats-io/kv";
import { AppError } from "../../src/jsonrpc/index.js";
import { isWrongLastSequence } from "../../src/runtime/nats_failure.js";
import type { AccountRecord } from "../../src/directory/types.js";

export const QUOTA_LEDGER_KEY = "quota.ledger";
/** A hold not refreshed for this long belongs to a process that died. */
export const HOLD_STALE_MS = 60_000;
/** How often an owner refreshes its hold while it writes records. */
const HOLD_REFRESH_MS = 10_000;
/** CAS attempts before giving up (DIRECTORY_CONFLICT): other supervisors' writes race ours. */
const CAS_ATTEMPTS = 200;

export interface LedgerHold {
  kind: "enable" | "release";
  /** accounts the hold covers */
  accounts: number;
  /** the process that took it (a random id per process) */
  owner: string;
  /** when its owner last refreshed it (ms) */
  at: number;
}

export interface LedgerValue {
  /** accounts with at least one replica, as settled */
  enabled: number;
  holds: Record<string, LedgerHold>;
  /** when the reconciler last recounted it from the records */
  countedAt: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Accounts that count against the quota: at least one replica. */
export function isEnabled(rec: AccountRecord): boolean {
  return rec.type === "account" && rec.replicas.length > 0;
}

function used(v: LedgerValue): number {
  return v.enabled + Object.values(v.holds).reduce((n, h) => n + (h.kind === "enable" ? h.accounts : 0), 0);
}

/** Why a quota check refuses: the licence is not in force, or the quantity is used up. */
export type QuotaRefusal = (enabledOrHeld: number, adding: number) => AppError | undefined;

export class QuotaLedger {
  /** this process; holds name it so the reconciler can tell ours from a dead process's */
  readonly owner = randomUUID();
  /** Our own ledger changes one at a time: no CAS conflicts among ourselves (the CAS still guards against other processes). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kv: KV,
    private readonly now: () => number,
    /** counts the accounts with a replica from the records (to create or repair the ledger) */
    private readonly countEnabled: () => Promise<number>,
  ) {}

  async read(): Promise<{ value: LedgerValue; revision: number } | undefined> {
    const e = await this.kv.get(QUOTA_LEDGER_KEY);
    if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
    return { value: JSON.parse(dec.decode(e.value)) as LedgerValue, revision: e.revision };
  }

  /**
   * Applies `change` to the ledger by compare-and-set (creating it from a recount when it is
   * missing). `change` returns the new value, or throws to refuse (nothing written).
   */
  private change<T>(change: (v: LedgerValue) => { next: LedgerValue; out: T }): Promise<T> {
    const run = async (): Promise<T> => {
      for (let i = 0; i < CAS_ATTEMPTS; i++) {
        const cur = await this.read();
        try {
          if (!cur) {
            // First use (or a deleted key): counted from the records, then changed like any
            // other revision. A concurrent creator wins the create; we then read theirs.
            const base: LedgerValue = { enabled: await this.countEnabled(), holds: {}, countedAt: this.now() };
            await this.kv.create(QUOTA_LEDGER_KEY, enc.encode(JSON.stringify(base)));
            continue;
          }
          const { next, out } = change(structuredClone(cur.value));
          await this.kv.update(QUOTA_LEDGER_KEY, enc.encode(JSON.stringify(next)), cur.revision);
          return out;
        } catch (e) {
          if (!isWrongLastSequence(e)) throw e;
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + i * 2)));
        }
      }
      throw new AppError(
        "DIRECTORY_CONFLICT",
        `the quota ledger (${QUOTA_LEDGER_KEY}) kept changing under ${CAS_ATTEMPTS} attempts; retry; nothing was changed`,
        {},
      );
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /**
   * Takes a hold for `adding` accounts that may get their first replica, refused (with the
   * error `refuse` builds) when enabled + held + adding goes past the quota.
   */
  async hold(kind: "enable" | "release", adding: number, refuse?: QuotaRefusal): Promise<Hold> {
    const id = randomUUID();
    await this.change((v) => {
      const err = kind === "enable" ? refuse?.(used(v), adding) : undefined;
      if (err) throw err;
      v.holds[id] = { kind, accounts: adding, owner: this.owner, at: this.now() };
      return { next: v, out: undefined };
    });
    return new Hold(this, id, kind, adding);
  }

  /** Adds accounts to a live enable hold (an account lost its replica meanwhile), refused like hold(). */
  async grow(id: string, more: number, refuse: QuotaRefusal): Promise<void> {
    await this.change((v) => {
      const h = v.holds[id];
      if (!h) throw new AppError("DIRECTORY_CONFLICT", "the quota hold of this change expired (the supervisor stalled); retry", {});
      const err = refuse(used(v), more);
      if (err) throw err;
      h.accounts += more;
      h.at = this.now();
      return { next: v, out: undefined };
    });
  }

  /** Refreshes a hold; false when it is gone (the reconciler judged it dead). */
  async refresh(id: string): Promise<boolean> {
    return this.change((v) => {
      const h = v.holds[id];
      if (!h) return { next: v, out: false };
      h.at = this.now();
      return { next: v, out: true };
    });
  }

  /** Moves what a hold really did into `enabled` and drops it. */
  async settle(id: string, kind: "enable" | "release", changed: number): Promise<void> {
    await this.change((v) => {
      // A hold the reconciler dropped was recounted from the records, which include our writes.
      if (v.holds[id]) {
        delete v.holds[id];
        v.enabled = Math.max(0, v.enabled + (kind === "enable" ? changed : -changed));
      }
      return { next: v, out: undefined };
    });
  }

  /**
   * The reconciler's repair: when no live hold is left, sets `enabled` to the count of the
   * records (dropping stale holds) in a CAS against the revision read before counting, so no
   * change can slip in between. Returns the repair made, or undefined (nothing to do, or a
   * live hold: the next round tries again).
   */
  async recount(): Promise<{ from: number; to: number; staleHolds: number } | undefined> {
    const cur = await this.read();
    if (!cur) {
      await this.change((v) => ({ next: v, out: undefined })); // creates it from a count
      const created = await this.read();
      return created ? { from: 0, to: created.value.enabled, staleHolds: 0 } : undefined;
    }
    const now = this.now();
    const holds = Object.values(cur.value.holds);
    if (holds.some((h) => now - h.at < HOLD_STALE_MS)) return undefined;
    const count = await this.countEnabled();
    if (count === cur.value.enabled && holds.length === 0) return undefined;
    const next: LedgerValue = { enabled: count, holds: {}, countedAt: now };
    try {
      await this.kv.update(QUOTA_LEDGER_KEY, enc.encode(JSON.stringify(next)), cur.revision);
    } catch (e) {
      if (isWrongLastSequence(e)) return undefined; // changed meanwhile: next round
      throw e;
    }
    return { from: cur.value.enabled, to: count, staleHolds: holds.length };
  }
}

/**
 * One change's hold on the ledger. The change marks each account it really enabled (or
 * released), and settles once, whatever happened: what was not marked goes back.
 */
export class Hold {
  private changed = new Set<string>();
  private covered = 0;
  private lost = false;
  private readonly refresher: NodeJS.Timeout;
  private settled = false;

  constructor(
    private readonly ledger: QuotaLedger,
    readonly id: string,
    readonly kind: "enable" | "release",
    accounts: number,
  ) {
    this.covered = accounts;
    this.refresher = setInterval(() => {
      this.ledger.refresh(this.id).then(
        (alive) => (this.lost ||= !alive),
        () => {}, // a failed refresh is retried at the next tick; staleness takes a minute
      );
    }, HOLD_REFRESH_MS);
    this.refresher.unref();
  }

  /** False once the reconciler dropped this hold as dead: the owner must stop changing records. */
  get alive(): boolean {
    return !this.lost && !this.settled;
  }

  /** Whether one more enabled account still fits in what this hold covers. */
  get hasRoom(): boolean {
    return this.changed.size < this.covered;
  }

  /** Covers `more` accounts besides the ones held at the start (refused like the hold). */
  async grow(more: number, refuse: QuotaRefusal): Promise<void> {
    await this.ledger.grow(this.id, more, refuse);
    this.covered += more;
  }

  mark(accountId: string): void {
    this.changed.add(accountId);
  }

  unmark(accountId: string): void {
    this.changed.delete(accountId);
  }

  async settle(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    clearInterval(this.refresher);
    await this.ledger.settle(this.id, this.kind, this.changed.size);
  }
}
