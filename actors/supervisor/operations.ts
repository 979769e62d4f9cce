// Long admin operations (setAccountDestination, promoteAccounts, removeAccountDestination)
// with an operationId: their progress lives in the directory KV, so `monitor` answers from any
// supervisor, also after the one that ran it died. One KV value is bounded by the server's
// max_payload (1 MiB by default), and an operation over 10,000 accounts lists more than that,
// so the record is stored in pieces (operation_chunks.ts):
//   op.<id>            the header: kind, state, counters, short params, the newest results,
//                      the names of the result chunks; every write is a compare-and-set
//   op.<id>.p.<n>      the params, when too long for the header (written once, at create)
//   op.<id>.r.<token>  a full chunk of older results (written once, before the header that
//                      names it; a header write that fails leaves it unnamed, and it is deleted)
// Results are saved at most every SAVE_INTERVAL_MS per operation, coalesced: a supervisor that
// dies loses at most that interval's outcomes, and the one that resumes redoes those accounts
// (every per-account step can be repeated, promotion.ts and replica_init.ts).
import { randomUUID } from "node:crypto";
import type { KV } from "@nats-io/kv";
import { isWrongLastSequence } from "../../src/runtime/nats_failure.js";
import { retryTransient, transientReason } from "../../src/jetstream/transient.js";
import { listKeys } from "../../src/jetstream/kv_keys.js";

import { AppError } from "../../src/jsonrpc/index.js";
import { isAccountId } from "../../src/directory/directory.js";
import { chunkBytesFor, jsonBytes, readParams, readResultChunks, shortParams, splitBytes, takeChunk } from "./operation_chunks.js";

/** How long an operation record's write is repeated while JetStream elects a leader. */
const SAVE_DEADLINE_MS = 60_000;
/** Longest time an outcome waits in memory before it is saved (what a crash may lose). */
export const SAVE_INTERVAL_MS = 200;
/** nats-server's default max_payload, when the connection does not tell. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export type OperationState = "running" | "successful" | "failed" | "stopped" | "removed" | "interrupted";

export interface OperationResult {
  account: string;
  accountId?: string;
  ok: boolean;
  code?: string;
  message?: string;
  [field: string]: unknown;
}

export interface OperationRecord {
  operationId: string;
  kind: string;
  state: OperationState;
  startedAt: number;
  endedAt?: number;
  /** who runs it (supervisor host) */
  owner: string;
  total: number;
  done: number;
  failed: number;
  params: Record<string, unknown>;
  results: OperationResult[];
}

const dec = new TextDecoder();

/** The header as stored in `op.<id>`: the record, with its older results and long params apart. */
interface StoredHeader extends OperationRecord {
  /** tokens of the result chunks (op.<id>.r.<token>), oldest first; their results precede `results` */
  chunks?: string[];
  /** the params are in this many pieces op.<id>.p.<n>; `params` holds their short fields */
  paramChunks?: number;
}

/** What this process knows of a record it read or wrote. */
interface Tracked {
  /** KV revision of the header it was read or last written at: every update is compare-and-set */
  revision: number;
  /** result chunks the stored header names */
  chunks: string[];
  /** results stored in those chunks: op.results[0 .. sealed) */
  sealed: number;
  paramChunks: number;
  /** outcomes recorded and not saved yet wait for this timer */
  timer?: ReturnType<typeof setTimeout>;
  /** whether the run that records still owns the operation: a timer save is skipped if not */
  stillOwned?: () => boolean;
  /** why a background save failed: thrown by the next record, flush or finish */
  error?: Error;
}

/** A newer writer changed the operation record: this (stale) supervisor must stop updating it. */
export class OperationConflictError extends AppError {
  constructor(operationId: string, owner: string) {
    super(
      "NOT_SUPERVISOR",
      `operation ${operationId} was updated by another supervisor since ${owner} read it; ${owner} no longer runs it (monitor shows its progress)`,
      { operation_uuid: operationId },
    );
  }
}

export class Operations {
  private readonly tracked = new WeakMap<OperationRecord, Tracked>();
  /** saves of one record from this process, one after the other (each carries the last revision) */
  private readonly saving = new Map<string, Promise<void>>();
  /** the server's max_payload: no stored piece and no `monitor` answer may exceed it */
  readonly maxPayload: number;
  private readonly chunkBytes: number;
  /** each result's JSON size, measured once (a save measures every result not yet in a chunk) */
  private readonly sizes = new WeakMap<OperationResult, number>();
  private readonly resultBytes = (r: OperationResult): number => {
    let n = this.sizes.get(r);
    if (n === undefined) this.sizes.set(r, (n = jsonBytes(r)));
    return n;
  };

  constructor(
    private readonly kv: KV,
    private readonly owner: string,
    private readonly now: () => number,
    maxPayload?: number,
  ) {
    this.maxPayload = maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.chunkBytes = chunkBytesFor(this.maxPayload);
  }

  async create(kind: string, total: number, params: Record<string, unknown>): Promise<OperationRecord> {
    const op: OperationRecord = {
      operationId: randomUUID(),
      kind,
      state: "running",
      startedAt: this.now(),
      owner: this.owner,
      total,
      done: 0,
      failed: 0,
      params,
      results: [],
    };
    const t: Tracked = { revision: 0, chunks: [], sealed: 0, paramChunks: 0 };
    const whole = new TextEncoder().encode(JSON.stringify(params));
    if (whole.length > this.chunkBytes) {
      // Written before the header: a header names only pieces that exist.
      const pieces = splitBytes(whole, this.chunkBytes);
      for (const [n, piece] of pieces.entries()) await this.put(`op.${op.operationId}.p.${n}`, piece);
      t.paramChunks = pieces.length;
    }
    t.revision = await this.kv.create(`op.${op.operationId}`, JSON.stringify(this.header(op, t, [], 0)));
    this.tracked.set(op, t);
    return op;
  }

  /** The header to store: the record with the results after `sealed` and the chunk list given. */
  private header(op: OperationRecord, t: Tracked, chunks: string[], sealed: number): StoredHeader {
    return {
      ...op,
      params: t.paramChunks > 0 ? shortParams(op.params) : op.params,
      results: op.results.slice(sealed),
      ...(chunks.length > 0 ? { chunks } : {}),
      ...(t.paramChunks > 0 ? { paramChunks: t.paramChunks } : {}),
    };
  }

  private async put(key: string, value: Uint8Array | string): Promise<void> {
    await retryTransient(() => this.kv.put(key, value), { deadlineMs: SAVE_DEADLINE_MS });
  }

  /**
   * Writes the record: first the results that no longer fit in the header as new chunks, then
   * the header over the revision it was read at; throws OperationConflictError when someone
   * else (a newer supervisor) wrote it since: never a blind put over a newer record.
   * While JetStream elects a leader (a nats-server node lost) the write is repeated; an attempt
   * that got no answer may have been stored, so a later "wrong revision" is a conflict only
   * when the record does not hold these very bytes.
   */
  save(op: OperationRecord): Promise<void> {
    const key = `op.${op.operationId}`;
    const prev = this.saving.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      const t = this.tracked.get(op);
      if (t === undefined) throw new OperationConflictError(op.operationId, this.owner);
      const rev = t.revision;
      const chunks = [...t.chunks];
      let sealed = t.sealed;
      const written: string[] = [];
      /** an attempt of the header write got no answer: it may be stored, naming `written` */
      let unanswered = false;
      try {
        for (;;) {
          const n = takeChunk(op.results, sealed, this.chunkBytes, this.resultBytes);
          if (n === 0) break;
          const token = randomUUID().slice(0, 8);
          await this.put(`${key}.r.${token}`, JSON.stringify(op.results.slice(sealed, sealed + n)));
          written.push(token);
          chunks.push(token);
          sealed += n;
        }
        const body = JSON.stringify(this.header(op, t, chunks, sealed));
        const write = async (): Promise<number> => {
          try {
            return await this.kv.update(key, body, rev);
          } catch (e) {
            if (isWrongLastSequence(e)) {
              const cur = unanswered ? await this.kv.get(key) : null;
              if (cur && cur.operation === "PUT" && cur.string() === body) return cur.revision;
              throw new OperationConflictError(op.operationId, this.owner);
            }
            if (transientReason(e) !== undefined) unanswered = true;
            throw e;
          }
        };
        t.revision = await retryTransient(write, { deadlineMs: SAVE_DEADLINE_MS });
        t.chunks = chunks;
        t.sealed = sealed;
      } catch (e) {
        // Chunks no stored header names would only take room in the bucket. After a header
        // write without answer they are kept: it may be stored (and read by a new owner).
        if (!unanswered) for (const token of written) await this.kv.purge(`${key}.r.${token}`).catch(() => {});
        throw e;
      }
    });
    const tracked = next.then(
      () => {},
      () => {},
    );
    void tracked.then(() => {
      if (this.saving.get(key) === tracked) this.saving.delete(key);
    });
    this.saving.set(key, tracked);
    return next;
  }

  /**
   * Records one account's outcome. It is saved within SAVE_INTERVAL_MS together with the others
   * of that interval (one write for many accounts), not before this returns; a save that failed
   * (another supervisor took the operation over) is thrown here, by flush or by finish.
   * `stillOwned` false at save time drops the unsaved outcomes: the operation's new runner
   * redoes those accounts.
   */
  async record(op: OperationRecord, result: OperationResult, stillOwned?: () => boolean): Promise<void> {
    const t = this.tracked.get(op);
    if (t?.error) throw t.error;
    op.results.push(result);
    if (result.ok) op.done++;
    else op.failed++;
    if (t === undefined) return this.save(op);
    if (stillOwned) t.stillOwned = stillOwned;
    if (t.timer !== undefined) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      if (t.stillOwned && !t.stillOwned()) return;
      this.save(op).catch((e: Error) => (t.error ??= e));
    }, SAVE_INTERVAL_MS);
    // A pending save must not keep a stopping process alive; what it holds is redone on resume.
    t.timer.unref?.();
  }

  /** Saves the outcomes recorded so far now; throws what a save of this record failed with. */
  async flush(op: OperationRecord): Promise<void> {
    const t = this.tracked.get(op);
    if (t?.timer !== undefined) {
      clearTimeout(t.timer);
      t.timer = undefined;
    }
    if (t?.error) throw t.error;
    await this.save(op);
  }

  /** Ends the operation: failed when any account failed. */
  async finish(op: OperationRecord, state?: OperationState): Promise<OperationRecord> {
    op.state = state ?? (op.failed > 0 ? "failed" : "successful");
    op.endedAt = this.now();
    await this.flush(op);
    return op;
  }

  /** Operations whose state is still running (their runner may have died). */
  async listRunning(): Promise<OperationRecord[]> {
    const keys = await listKeys(this.kv, "op.*");
    const out: OperationRecord[] = [];
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT" || e.length === 0) continue;
      const header = JSON.parse(dec.decode(e.value)) as StoredHeader;
      // Only running ones are read whole: ended ones may be many and large.
      if (header.state === "running") out.push(await this.assemble(header, e.revision));
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  async get(operationId: string): Promise<OperationRecord> {
    // Only randomUUID() names operations; anything else ("*", ">") is no valid KV key either.
    const e = isAccountId(operationId) ? await this.kv.get(`op.${operationId}`) : null;
    if (!e || e.operation !== "PUT" || e.length === 0) {
      throw new AppError("OPERATION_UNKNOWN", `no operation ${operationId}; use the operationId a command returned`, { operation_uuid: operationId });
    }
    return this.assemble(JSON.parse(dec.decode(e.value)) as StoredHeader, e.revision);
  }

  /** The whole record from its header and the pieces the header names. */
  private async assemble(header: StoredHeader, revision: number): Promise<OperationRecord> {
    const { chunks = [], paramChunks = 0, ...rest } = header;
    const key = `op.${header.operationId}`;
    const older = await readResultChunks<OperationResult>(this.kv, key, chunks);
    const op: OperationRecord = {
      ...rest,
      params: paramChunks > 0 ? await readParams(this.kv, key, paramChunks) : rest.params,
      results: [...older, ...rest.results],
    };
    this.tracked.set(op, { revision, chunks, sealed: older.length, paramChunks });
    return op;
  }
}
