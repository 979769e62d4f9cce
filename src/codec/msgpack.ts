import { Packr } from "msgpackr";
import { CodecError } from "./errors.js";

// One shared Packr: records off, so every message is self-describing and a reader needs no
// structure table shared with the writer (log readers start at any sequence, any time).
const packr = new Packr({ useRecords: false });

/** Encodes a value as msgpack. Uint8Array and Buffer fields are written as msgpack `bin`.
 *  The result is a view into msgpackr's write slab: fine to publish or keep, never
 *  overwritten by later calls. Throws `CodecError` `CODEC_UNENCODABLE`. */
export function encode(value: unknown): Uint8Array {
  let packed: Buffer;
  try {
    packed = packr.pack(value);
  } catch (e) {
    const why = reason(e);
    throw new CodecError("CODEC_UNENCODABLE", `cannot encode value as msgpack (${why}): remove cycles and unsupported types from it`, why);
  }
  // A plain Uint8Array (no copy): Buffer's slice() shares memory where Uint8Array's copies,
  // and callers are promised a Uint8Array.
  return new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
}

/** Decodes one msgpack value that fills `bytes` exactly. Byte fields come back as plain
 *  Uint8Array views into `bytes` (no copy): copy them if `bytes` is reused afterwards.
 *  Throws `CodecError` `CODEC_TRUNCATED` or `CODEC_GARBAGE`, never anything else. */
export function decode(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new CodecError("CODEC_GARBAGE", `cannot decode a ${typeof bytes}: pass the message bytes as a Uint8Array`, `not a Uint8Array`);
  }
  // A plain Uint8Array view over a Buffer, so msgpackr's subarray() of `bin` fields yields
  // Uint8Array rather than Buffer, and a value round-trips to the same type.
  const view = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return packr.unpack(view);
  } catch (e) {
    throw decodeError(e, bytes.byteLength);
  }
}

function decodeError(e: unknown, length: number): CodecError {
  // msgpackr flags every RangeError as "incomplete", stack overflow included; a value nested
  // too deeply to read is garbage, not a message that was cut short.
  const overflow = e instanceof RangeError && /call stack/i.test(e.message);
  if (!overflow && typeof e === "object" && e !== null && (e as { incomplete?: unknown }).incomplete === true) {
    return new CodecError(
      "CODEC_TRUNCATED",
      `msgpack data ends in the middle of a value (${length} bytes): it was cut short; read the whole message again`,
      "ends in the middle of a value",
    );
  }
  const why = overflow ? "values nested too deeply" : reason(e);
  return new CodecError("CODEC_GARBAGE", `bytes are not one msgpack value (${why}, ${length} bytes): check what wrote them`, why);
}

function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // msgpackr appends a JSON view of the decoded data to this one; data may be private mail.
  if (message.startsWith("Data read, but end of buffer not reached")) return "extra bytes after the value";
  return message.length > 120 ? message.slice(0, 120) + "…" : message;
}
