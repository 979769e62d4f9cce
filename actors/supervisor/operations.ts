// Long admin operations (setAccountDestination, promoteAccounts, removeAccountDestination)
// with an operationId: their progress lives in the directory KV (`op.<id>`), so `monitor`
// answers from any supervisor, also after the one that ran it died.
import { randomUUID } from "node:crypto";
import type { KV } from "@nats-io/kv";
import { isWrongLastSequence } from "../../src/runtime/nats_failure.js";
import { retryTransient, transientReason } from "../../src/jetstream/transient.js";
import { listKeys } from "../../src/jetstream/kv_keys.js";

/** How long an operation record's write is repeated while JetStream elects a leader. */
const SAVE_DEADLINE_MS = 60_000;
import { AppError } from "../../src/jsonrpc/index.js";
import { isAccountId } from "../../src/directory/directory.js";

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
  /** KV revision each record was read or last written at: every update is compare-and-set */
  private readonly revisions = new WeakMap<OperationRecord, number>();
  /** saves of one record from this process, one after the other (each carries the last revision) */
  private readonly saving = new Map<string, Promise<void>>();

  constructor(
    private readonly kv: KV,
    private readonly owner: string,
    private readonly now: () => number,
  ) {}

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
    this.revisions.set(op, await this.kv.create(`op.${op.operationId}`, JSON.stringify(op)));
    return op;
  }

  /**
   * Writes the record over the revision it was read at; throws OperationConflictError when
   * someone else (a newer supervisor) wrote it since: never a blind put over a newer record.
   * While JetStream elects a leader (a nats-server node lost) the write is repeated; an attempt
   * that got no answer may have been stored, so a later "wrong revision" is a conflict only
   * when the record does not hold these very bytes.
   */
  save(op: OperationRecord): Promise<void> {
    const key = `op.${op.operationId}`;
    const prev = this.saving.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      const rev = this.revisions.get(op);
      if (rev === undefined) throw new OperationConflictError(op.operationId, this.owner);
      const body = JSON.stringify(op);
      let unanswered = false;
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
      this.revisions.set(op, await retryTransient(write, { deadlineMs: SAVE_DEADLINE_MS }));
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

  /** Records one account's outcome. */
  async record(op: OperationRecord, result: OperationResult): Promise<void> {
    op.results.push(result);
    if (result.ok) op.done++;
    else op.failed++;
    await this.save(op);
  }

  /** Ends the operation: failed when any account failed. */
  async finish(op: OperationRecord, state?: OperationState): Promise<OperationRecord> {
    op.state = state ?? (op.failed > 0 ? "failed" : "successful");
    op.endedAt = this.now();
    await this.save(op);
    return op;
  }

  /** Operations whose state is still running (their runner may have died). */
  async listRunning(): Promise<OperationRecord[]> {
    const keys = await listKeys(this.kv, "op.*");
    const out: OperationRecord[] = [];
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT" || e.length === 0) continue;
      const op = JSON.parse(dec.decode(e.value)) as OperationRecord;
      this.revisions.set(op, e.revision);
      if (op.state === "running") out.push(op);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  async get(operationId: string): Promise<OperationRecord> {
    // Only randomUUID() names operations; anything else ("*", ">") is no valid KV key either.
    const e = isAccountId(operationId) ? await this.kv.get(`op.${operationId}`) : null;
    if (!e || e.operation !== "PUT" || e.length === 0) {
      throw new AppError("OPERATION_UNKNOWN", `no operation ${operationId}; use the operationId a command returned`, { operation_uuid: operationId });
    }
    const op = JSON.parse(dec.decode(e.value)) as OperationRecord;
    this.revisions.set(op, e.revision);
    return op;
  }
}
