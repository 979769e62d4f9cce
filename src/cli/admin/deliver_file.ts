// `deliverMessage ... file PATH` in the CLI and the REPL: the message is read from a local
// file and sent inline (`raw`) when it fits in one request, else put into the upload object
// store and named in `upload` (the mailstore reads it there and deletes it once delivered).
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { CallError } from "./errors.js";

/** The upload object store's default name (jetstream.buckets.uploads). */
export const DEFAULT_UPLOADS_BUCKET = "mr_uploads";

/**
 * Bytes kept free below the server's max_payload for the rest of an inline request (the JSON
 * envelope, the other params, JSON escaping of the text): a file larger than max_payload less
 * this goes through the upload store.
 */
export const INLINE_RESERVE_BYTES = 64 * 1024;

/** A prepared call: its params, and what to do once the call has ended (either way). */
export interface PreparedDelivery {
  params: Record<string, unknown>;
  /** removes an upload the call did not consume; never throws */
  cleanup(failed: boolean): Promise<void>;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Replaces `file` in deliverMessage params by `raw` (small UTF-8 files) or by `upload` (the
 * rest, put into `bucket` under a fresh name). Other params are returned unchanged.
 */
export async function prepareDelivery(nc: NatsConnection, params: Record<string, unknown>, opts: { cwd: string; bucket: string }): Promise<PreparedDelivery> {
  const { file, ...rest } = params;
  const none: PreparedDelivery = { params, cleanup: async () => {} };
  if (file === undefined) return none;
  if (typeof file !== "string" || file === "") throw new CallError("param 'file' must be the path of a file holding the RFC 822 message", "INVALID_PARAMS");
  if (rest.raw !== undefined || rest.upload !== undefined) throw new CallError("give one of file, raw or upload, not several", "INVALID_PARAMS");
  const path = resolve(opts.cwd, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CallError(`cannot read the message file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, "INVALID_PARAMS");
  }
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const text = bytes.length <= maxPayload - INLINE_RESERVE_BYTES ? utf8(bytes) : undefined;
  // Inline only as valid UTF-8: raw is a JSON string, an 8-bit message would not survive it.
  if (text !== undefined) return { params: { ...rest, raw: text }, cleanup: async () => {} };
  const { Objm } = await import("@nats-io/obj");
  const name = `cli-${randomUUID()}`;
  try {
    const store = await new Objm(nc).open(opts.bucket);
    await store.putBlob({ name }, bytes);
    return {
      params: { ...rest, upload: name },
      // The mailstore deletes a delivered upload; one whose call failed is removed here (the
      // mailstore reads an upload whole before writing, so it no longer needs it).
      cleanup: async (failed) => {
        if (failed) await store.delete(name).catch(() => {});
      },
    };
  } catch (e) {
    throw new CallError(
      `cannot put ${path} (${bytes.length} bytes) into the upload object store ${opts.bucket} (${(e as Error).message}); is a mailstore running (it creates the store)?`,
      "UPLOAD_FAILED",
    );
  }
}
