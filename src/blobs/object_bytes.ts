// Moving one object's bytes in and out of a JetStream object store without whole-object
// copies: writes hand the store chunk-sized views of the caller's buffer, reads copy each
// chunk into one buffer of the object's size as it arrives. (The client's putBlob/getBlob
// would buffer the object again, and getBlob concatenates every chunk at the end.)
import type { ObjectStore } from "@nats-io/obj";
import { transientReason } from "../jetstream/transient.js";
import { BlobError } from "./errors.js";

/** The object store's default chunk (nats.js: 128 KiB, capped at the server's max_payload). */
const VIEW_BYTES = 128 * 1024;

/** Refused before allocating: far above any body mailreplica writes (25 MiB by default), so
 *  a size written into an object's metadata by someone else cannot exhaust memory. */
export const MAX_OBJECT_BYTES = 512 * 1024 * 1024;

/** A stream over `data` in chunk-sized views (no copies). */
export function objectStream(data: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      const end = Math.min(at + VIEW_BYTES, data.length);
      controller.enqueue(data.subarray(at, end));
      at = end;
    },
  });
}

/** The whole object `name`, in one buffer. BLOB_MISSING when there is none; UNAVAILABLE on a
 *  transient JetStream failure; BLOB_UNREADABLE when the chunks do not make the object. */
export async function objectBytes(os: ObjectStore, name: string, bucket: string): Promise<Buffer> {
  const unreadable = (what: string): BlobError =>
    new BlobError(
      "BLOB_UNREADABLE",
      `blob ${name} in centralized storage cannot be read back whole (${what}): it was changed or damaged in storage; restore it from a backup of the blobs stream (docs/operations.md, section 9 "Back up")`,
      { blob: name },
    );
  const failed = (e: unknown): BlobError => {
    if (e instanceof BlobError) return e;
    const reason = transientReason(e);
    if (reason !== undefined)
      return new BlobError(
        "UNAVAILABLE",
        `centralized storage (object store ${bucket}) did not return blob ${name}: ${reason}; retry when JetStream has a quorum again (check with: mailreplica test)`,
        { blob: name },
      );
    return unreadable(e instanceof Error ? e.message.split("\n")[0]! : String(e));
  };
  let result: Awaited<ReturnType<ObjectStore["get"]>>;
  try {
    result = await os.get(name);
  } catch (e) {
    throw failed(e);
  }
  if (!result)
    throw new BlobError("BLOB_MISSING", `blob ${name} is not in centralized storage; check the ${bucket} object store (mailreplica test)`, { blob: name });
  // Rejects when the chunk consumer fails; that failure also reaches the reader below.
  result.error.catch(() => {});
  const size = result.info.size;
  const reader = result.data.getReader();
  try {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_OBJECT_BYTES) throw unreadable(`its metadata gives a size of ${size} bytes`);
    const out = Buffer.allocUnsafeSlow(size); // not pooled: the body is decrypted in it
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > size) throw unreadable(`more bytes than the ${size} its metadata gives`);
      out.set(value, at);
      at += value.length;
    }
    if (at !== size) throw unreadable(`${at} bytes of the ${size} its metadata gives`);
    const err = await result.error;
    if (err) throw err;
    return out;
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw failed(e);
  } finally {
    reader.releaseLock();
  }
}
