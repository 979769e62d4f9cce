// Takes a snapshot's bytes off the event loop: one worker thread per store file reads the
// account's rows, encodes, compresses, encrypts and signs them (snapshot_seal_worker.ts). On
// the event loop, sealing a 100,000-item account held the mailstore's writes for 0.3–0.5 s
// (docs/benchmarks.md, section 9a). The worker is started on first use and ended after a
// minute without work, so a mailstore that snapshots rarely does not keep its heap.
import { Worker } from "node:worker_threads";
import type { KeyObject } from "node:crypto";
import type { EnvelopeKeyring } from "../envelope/index.js";
import type { StatePosition } from "../store/index.js";
import { CodedError } from "../errors/index.js";

/** One account to read and seal, as the worker receives it. */
export interface SealJob {
  id: number;
  file: string;
  accountId: string;
  /** the mailstore taking it (the snapshot's writer) */
  host: string;
  takenAt: number;
  keys: { kid: string; boxKey: Uint8Array; signerId: string; spk: Uint8Array; signingKey: KeyObject };
}

export type SealReply =
  | { id: number; ok: true; sealed: null }
  | { id: number; ok: true; sealed: Uint8Array; position: StatePosition; items: number }
  | { id: number; ok: false; message: string; code: string | undefined };

/** The sealed snapshot and what it holds. */
export interface SealedSnapshot {
  sealed: Uint8Array;
  position: StatePosition;
  items: number;
}

export class SnapshotSealError extends CodedError<"SNAPSHOT_SEAL_FAILED"> {
  constructor(message: string) {
    super("SNAPSHOT_SEAL_FAILED", message);
  }
}

/** How long the worker is kept without work, ms. */
export const SEALER_IDLE_MS = 60_000;

export class SnapshotSealer {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { worker: Worker; resolve: (r: SealReply) => void; reject: (e: Error) => void }>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly file: string) {}

  /** Reads and seals the account as of its applied seq; undefined while nothing of it is applied. */
  async seal(keyring: EnvelopeKeyring, accountId: string, host: string, takenAt: number): Promise<SealedSnapshot | undefined> {
    if (this.closed) throw new SnapshotSealError(`snapshot of account ${accountId} not taken: the mailstore is stopping`);
    const kid = keyring.currentKid;
    const job: SealJob = {
      id: this.nextId++,
      file: this.file,
      accountId,
      host,
      takenAt,
      keys: { kid, boxKey: keyring.secretboxKey(kid)!, signerId: keyring.signerId, spk: keyring.signingPublicKeyView(), signingKey: keyring.signingKey() },
    };
    const reply = await this.ask(job);
    if (!reply.ok) throw new SnapshotSealError(`snapshot of account ${accountId} could not be read and sealed: ${reply.message}`);
    return reply.sealed ? { sealed: reply.sealed, position: reply.position, items: reply.items } : undefined;
  }

  /** Ends the worker once it has answered the jobs it has; no new job is taken. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopWorker();
  }

  private ask(job: SealJob): Promise<SealReply> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const worker = this.started();
    // Held while it has work (a job's caller waits on it); unreferenced while idle.
    worker.ref();
    return new Promise<SealReply>((resolve, reject) => {
      this.pending.set(job.id, { worker, resolve, reject });
      worker.postMessage(job);
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./snapshot_seal_worker.js", import.meta.url));
    worker.on("message", (r: SealReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
      if (![...this.pending.values()].some((p) => p.worker === worker)) worker.unref();
      if (this.pending.size === 0 && this.worker === worker && !this.closed) {
        this.idleTimer = setTimeout(() => void this.stopWorker(), SEALER_IDLE_MS);
        this.idleTimer.unref();
      }
    });
    // Jobs still unanswered when their worker ends fail; the next job starts a new worker.
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        p.reject(new SnapshotSealError(`the snapshot worker ${why}; the snapshot is taken again at the next sweep`));
      }
    };
    worker.on("error", (e) => fail(`failed: ${e.message}`));
    worker.on("exit", (code) => fail(`exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private async stopWorker(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const worker = this.worker;
    if (!worker) return;
    // A job asked from now on starts a new worker; this one answers what it has, then ends.
    this.worker = undefined;
    const exited = new Promise<void>((r) => worker.once("exit", () => r()));
    worker.ref(); // the caller waits for its end
    worker.postMessage({ close: true });
    await exited;
  }
}
