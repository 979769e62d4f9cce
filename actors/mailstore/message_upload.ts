// Messages larger than one NATS message reach deliverMessage through the upload object store
// (jetstream.buckets.uploads): the client puts the raw message there under a name of its
// choosing and names it in `upload`. This reads one upload, bounded by limits.maxMessageBytes.
import type { ObjectStore } from "@nats-io/obj";
import { AppError } from "../../src/jsonrpc/index.js";
import { messageTooLarge } from "../../src/rfc822/parse_message.js";

// The name's rule is part of the wire contract (deliverMessage's upload param).
import { UPLOAD_NAME_PATTERN, UPLOAD_NAME_RULE } from "../../src/protocol/mailbox_params.js";
export { UPLOAD_NAME_PATTERN, UPLOAD_NAME_RULE };

function notFound(bucket: string, name: string): AppError {
  return new AppError(
    "UPLOAD_NOT_FOUND",
    `no upload named '${name}' in the object store ${bucket}; put the message there first (it may also have been delivered already, or expired)`,
    { upload: name },
  );
}

/**
 * The bytes of upload `name`. Refused before reading when the store says it is larger than
 * `maxBytes`; the read itself stops at `maxBytes` too (the object may be replaced meanwhile).
 */
export async function readUpload(store: ObjectStore, bucket: string, name: string, maxBytes: number): Promise<Uint8Array> {
  const info = await store.info(name);
  if (info === null || info.deleted) throw notFound(bucket, name);
  if (info.size > maxBytes) throw messageTooLarge(`upload '${name}'`, info.size, maxBytes);
  const result = await store.get(name);
  if (result === null) throw notFound(bucket, name);
  const reader = result.data.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw messageTooLarge(`upload '${name}'`, size, maxBytes);
    }
    chunks.push(value);
  }
  // The store checks the object's digest once it is read whole.
  const failure = await result.error;
  if (failure)
    throw new AppError("UPLOAD_NOT_FOUND", `upload '${name}' could not be read whole from ${bucket} (${failure.message}); put it again`, { upload: name });
  return Buffer.concat(chunks, size);
}
