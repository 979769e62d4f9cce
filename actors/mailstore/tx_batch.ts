// Shape check of a decoded log entry. open() proves who wrote the bytes; this proves they
// are a batch of this account, so a valid envelope copied onto another subject is refused.
import type { TxBatch } from "../../src/mail/index.js";
import { CodedError } from "../../src/errors/index.js";

export class TxBatchError extends CodedError<"TX_BATCH_INVALID"> {
  constructor(message: string) {
    super("TX_BATCH_INVALID", message);
  }
}

export function readTxBatch(payload: unknown, accountId: string, seq: number): TxBatch {
  const b = payload as Partial<TxBatch> | null;
  const bad = (why: string) => new TxBatchError(`log entry ${seq} of account ${accountId} is not a valid batch: ${why}`);
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw bad("not a map");
  if (b.v !== 1) throw bad(`unknown version ${String(b.v)}`);
  if (b.account !== accountId) throw bad(`it names account ${String(b.account)} (copied from another account's log?)`);
  if (!Number.isInteger(b.epoch) || (b.epoch as number) < 1) throw bad("epoch is not a positive integer");
  if (!Number.isInteger(b.prev) || (b.prev as number) < 0 || (b.prev as number) >= seq) throw bad("prev is not a seq before this one");
  if (typeof b.writer !== "string" || !Number.isFinite(b.at)) throw bad("writer or time missing");
  if (!Array.isArray(b.events) || b.events.some((e) => typeof e !== "object" || e === null || typeof (e as { t?: unknown }).t !== "string")) {
    throw bad("events is not a list of events");
  }
  return b as TxBatch;
}
