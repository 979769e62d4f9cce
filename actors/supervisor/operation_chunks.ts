// The pieces an operation record is stored in (operations.ts): how large one may be, how the
// results and the params are cut into pieces, and how they are read back.
import type { KV } from "@nats-io/kv";
import { AppError } from "../../src/jsonrpc/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Longest param value kept in a header whose params are stored apart (what `monitor` shows of them then). */
const SHORT_PARAM_BYTES = 200;

/**
 * Bytes one piece may hold: a quarter of max_payload (the header holds the newest results, up
 * to this, beside its other fields; the publish adds its headers), and at most 64 KiB, so the
 * header rewritten at every save (and its older revisions the bucket keeps) stays small.
 */
export function chunkBytesFor(maxPayload: number): number {
  return Math.max(1024, Math.min(64 * 1024, Math.floor(maxPayload / 4)));
}

/** UTF-8 bytes of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return enc.encode(JSON.stringify(value)).length;
}

/**
 * How many results from `from` on make the next full chunk: 0 while they all fit in `limit`
 * bytes (they stay in the header), else as many as fit, at least one. `bytesOf` measures one
 * result (jsonBytes, or a cache of it: the results not yet in a chunk are measured at every save).
 */
export function takeChunk<R>(results: readonly R[], from: number, limit: number, bytesOf: (r: R) => number = jsonBytes): number {
  let bytes = 2;
  let fit = 0;
  for (let i = from; i < results.length; i++) {
    bytes += bytesOf(results[i]!) + 1;
    if (bytes <= limit) fit = i - from + 1;
    else return Math.max(1, fit);
  }
  return 0;
}

/** `bytes` cut into pieces of at most `size`. */
export function splitBytes(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** The params' short fields (what a header keeps when the params are stored apart). */
export function shortParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => jsonBytes(v) <= SHORT_PARAM_BYTES));
}

function missingPiece(key: string): AppError {
  return new AppError(
    "APP_ERROR",
    `the operation record's piece ${key} is missing from the directory bucket (removed by hand, or lost with the stream's data); the operation cannot be read whole`,
    { code: "OPERATION_DAMAGED" },
  );
}

/** The results stored in the chunks `tokens` of the record `key`, in order. */
// Generic in the result type: operations.ts owns it (and imports this module).
export async function readResultChunks<R>(kv: KV, key: string, tokens: readonly string[]): Promise<R[]> {
  const out: R[] = [];
  for (const token of tokens) {
    const e = await kv.get(`${key}.r.${token}`);
    if (!e || e.operation !== "PUT") throw missingPiece(`${key}.r.${token}`);
    out.push(...(JSON.parse(dec.decode(e.value)) as R[]));
  }
  return out;
}

/** The params stored in `count` pieces of the record `key`. */
export async function readParams(kv: KV, key: string, count: number): Promise<Record<string, unknown>> {
  const pieces: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    const e = await kv.get(`${key}.p.${n}`);
    if (!e || e.operation !== "PUT") throw missingPiece(`${key}.p.${n}`);
    pieces.push(e.value);
  }
  return JSON.parse(Buffer.concat(pieces).toString("utf8")) as Record<string, unknown>;
}
