// getItemBody: a message's exact bytes in ranges, each answer small enough for one NATS
// message, so a message of any deliverable size (limits.maxMessageBytes, 25 MiB by default)
// can be read back over mr.rpc.mailbox alone: the client needs no other subject, no bucket and
// no key (bodies are encrypted in mr_blobs under the cluster key, which only mailstores hold).
// Served where getItem is: on the account's primary, after the actor's read barrier.
import { ProtocolErrors, RpcError } from "../../src/jsonrpc/index.js";
import type { BlobStore } from "../../src/blobs/blob_store.js";
import { BodyCache } from "../../src/blobs/body_cache.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { ItemDetail } from "../../src/store/index.js";
import { ExpensiveGate } from "../shared/expensive_gate.js";
import { PAGE_ENVELOPE_RESERVE_BYTES } from "./list_page.js";
import type { ItemBodyPart } from "../../src/protocol/item_body_part.js";

export type { ItemBodyPart };

/**
 * The most body bytes one answer carries under a server's `maxPayload`: their base64 (4
 * characters per 3 bytes) and the answer's other fields fit with the envelope reserve that
 * listItems keeps too. A multiple of 3 KiB (756 KiB under the default 1 MiB).
 */
export function maxBodyPart(maxPayload: number): number {
  return Math.max(3 * 1024, Math.floor((maxPayload - PAGE_ENVELOPE_RESERVE_BYTES) / 4096) * 3072);
}

/** Decrypted bodies are kept for this long after their last read (a reader asks for the next part at once). */
export const BODY_IDLE_MS = 30_000;
/** The cache holds at least this much, and always one body of limits.maxMessageBytes. */
export const BODY_CACHE_MIN_BYTES = 64 * 1024 * 1024;

export interface ItemBodyReaderOptions {
  clock: Clock;
  /** limits.maxMessageBytes: the cache always has room for one body of that size */
  maxMessageBytes: number;
  /** limits.maxConcurrentExpensive: bodies larger than one part loaded at once; more are refused BUSY */
  maxConcurrentLoads: number;
}

/**
 * Reads parts of bodies. Memory: at most `maxConcurrentLoads` large bodies being fetched and
 * opened at once (each about its own size), plus the cache (max(64 MiB, maxMessageBytes)).
 */
export class ItemBodyReader {
  readonly cache: BodyCache;
  private readonly loads: ExpensiveGate;

  constructor(
    private readonly blobs: BlobStore,
    opts: ItemBodyReaderOptions,
  ) {
    this.cache = new BodyCache({ clock: opts.clock, idleMs: BODY_IDLE_MS, maxBytes: Math.max(BODY_CACHE_MIN_BYTES, opts.maxMessageBytes) });
    this.loads = new ExpensiveGate(opts.maxConcurrentLoads);
  }

  /**
   * Bytes `offset` .. `offset + length - 1` of `item`'s body (fewer at its end), `length` at
   * most `maxPart`. An offset at or past the end is refused with -32602 naming the size, before
   * the body is read. Blob failures are BlobErrors (BLOB_MISSING, BLOB_UNREADABLE, ...).
   */
  async part(item: ItemDetail, offset: number, length: number, maxPart: number): Promise<ItemBodyPart> {
    if (offset >= item.size) throw offsetBeyond(item.id, item.size, offset);
    // Kept when this answer leaves part of the body unread: the reader comes back for it.
    const keep = !(offset === 0 && offset + length >= item.size);
    const load = (): Promise<Uint8Array> =>
      item.size > maxPart ? this.loads.run(`getItemBody (loading a ${item.size}-byte body)`, () => this.blobs.get(item.blob)) : this.blobs.get(item.blob);
    const body = await this.cache.get(item.blob, load, keep);
    // item.size was measured on these very bytes at delivery; the body read is what counts.
    const size = body.bytes.length;
    if (offset >= size) throw offsetBeyond(item.id, size, offset);
    const end = Math.min(size, offset + length);
    const data = Buffer.from(body.bytes.buffer, body.bytes.byteOffset + offset, end - offset).toString("base64");
    const more = end < size;
    return { id: item.id, offset, length: end - offset, size, sha256: body.sha256, data, more, ...(more ? { nextOffset: end } : {}) };
  }

  /** Drops the cached bodies (the mailstore is stopping). */
  clear(): void {
    this.cache.clear();
  }
}

/** -32602 for a length over what one answer carries (checked before anything is read). */
export function lengthTooLarge(length: number, maxPart: number, maxPayload: number): RpcError {
  return new RpcError(
    ProtocolErrors.INVALID_PARAMS.code,
    `getItemBody: param "length" must be an integer from 1 to ${maxPart} (the most one answer carries, base64, under this NATS server's max_payload of ${maxPayload} bytes), got the number ${length}; leave it out to get the largest parts`,
    { param: "length", max: maxPart },
  );
}

function offsetBeyond(id: number, size: number, offset: number): RpcError {
  return new RpcError(
    ProtocolErrors.INVALID_PARAMS.code,
    `getItemBody: param "offset" must be an integer from 0 to ${size - 1} (item ${id}'s body is ${size} bytes), got the number ${offset}`,
    { param: "offset", size },
  );
}
