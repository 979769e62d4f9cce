// A snapshot's bytes: msgpack of the AccountSnapshot, compressed (deflate, level 1), then
// sealed like a log entry. Item rows repeat their column values a lot: compression makes the
// sealed box 4-6x smaller, and secretbox (tweetnacl, plain JavaScript) is most of the cost of
// sealing and opening a large account, so it pays several times over (docs/benchmarks.md).
// The signature covers the compressed box; nothing is inflated before it is verified.
import { deflateRaw, deflateRawSync, inflateRawSync } from "node:zlib";
import { promisify } from "node:util";
import { open, seal, type EnvelopeKeyring } from "../envelope/index.js";
import { decode, encode } from "../codec/index.js";
import { readAccountSnapshot, SnapshotFormatError, type AccountSnapshot } from "./account_snapshot.js";

/** The largest snapshot a reader inflates: far above a 1,000,000-item account (~250 MiB). */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;

export function sealSnapshot(keyring: EnvelopeKeyring, s: AccountSnapshot): Uint8Array {
  return seal(keyring, { zmsgpack: deflateRawSync(encode(s), { level: 1 }) });
}

const deflateRawAsync = promisify(deflateRaw);

/** sealSnapshot with the compression on libuv's thread pool (the event loop keeps serving meanwhile). */
export async function sealSnapshotInBackground(keyring: EnvelopeKeyring, s: AccountSnapshot): Promise<Uint8Array> {
  const z = await deflateRawAsync(encode(s), { level: 1 });
  return seal(keyring, { zmsgpack: z });
}

/** Opens (signature, decryption), inflates and shape-checks a snapshot. Throws EnvelopeError or SnapshotFormatError. */
export function openSnapshot(keyring: EnvelopeKeyring, sealed: Uint8Array, accountId: string, seq: number): { snapshot: AccountSnapshot; signer: string } {
  const opened = open(keyring, sealed);
  const z = (opened.payload as { zmsgpack?: unknown } | null)?.zmsgpack;
  if (!(z instanceof Uint8Array)) throw new SnapshotFormatError(`snapshot of account ${accountId} at seq ${seq} is not valid: no compressed state`);
  let raw: Buffer;
  try {
    raw = inflateRawSync(z, { maxOutputLength: MAX_SNAPSHOT_BYTES });
  } catch (e) {
    throw new SnapshotFormatError(`snapshot of account ${accountId} at seq ${seq} is not valid: its state does not inflate (${(e as Error).message})`);
  }
  let payload: unknown;
  try {
    payload = decode(raw);
  } catch (e) {
    throw new SnapshotFormatError(`snapshot of account ${accountId} at seq ${seq} is not valid: its state is not msgpack (${(e as Error).message})`);
  }
  return { snapshot: readAccountSnapshot(payload, accountId, seq), signer: opened.signer };
}
