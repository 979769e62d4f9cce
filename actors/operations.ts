// Long admin operations (setAccountDestination, promoteAccounts, removeAccountDestination)
// with an operationId: their progress lives in the directory KV (`op.<id>`), so `monitor`
// answers from any supervisor, also after the one that ran it died.
import { randomUUID } from "node:crypto";
import type { KV } from "nats";
import { AppError } from "../src/jsonrpc/index.js";

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

export class Operations {
  constructor(
    private readonly kv: KV,
    private readonly owner: string,
    private readonly now: () => number,
  ) {}

  async create(kind: string, total: number, params: Record<string, unknown>): Promise<OperationRecord> {
    const op: OperationRecord = { operationId: randomUUID(), kind, state: "running", startedAt: this.now(), owner: this.owner, total, done: 0, failed: 0, params, results: [] };
    await this.save(op);
    return op;
  }

  async save(op: OperationRecord): Promise<void> {
    await this.kv.put(`op.${op.operationId}`, JSON.stringify(op));
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
    const keys: string[] = [];
    for await (const k of await this.kv.keys("op.*")) keys.push(k);
    const out: OperationRecord[] = [];
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT" || e.length === 0) continue;
      const op = JSON.parse(dec.decode(e.value)) as OperationRecord;
      if (op.state === "running") out.push(op);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  async get(operationId: string): Promise<OperationRecord> {
    const e = await this.kv.get(`op.${operationId}`);
    if (!e || e.operation !== "PUT" || e.length === 0) {
      throw new AppError("OPERATION_UNKNOWN", `no operation ${operationId}; use the operationId a command returned`, { operation_uuid: operationId });
    }
    return JSON.parse(dec.decode(e.value)) as OperationRecord;
  }
}
