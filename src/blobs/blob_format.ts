// The stored form of a message body in `mr_blobs` and the names it is stored under.
//
// Object name, version 1:   b1.<kid>.<64 hex>
//   kid   the cluster key id the body is encrypted under (KID_PATTERN; may contain ".")
//   hex   HMAC-SHA256 of the plaintext under that kid's name key (see blob_keys.ts)
// Legacy name (before encryption): 64 lower-case hex, the sha256 of the plaintext, which is
// stored as is (no frame). The name decides how the bytes are read, never the bytes.
//
// Object bytes, version 1 (a frame; big-endian, no padding):
//   0   4   magic "MRBL"
//   4   1   frame version (1)
//   5   1   kid length L (1..64)
//   6   L   kid, ASCII, equal to the kid in the name
//   6+L 24  nonce, random
//   30+L    box = nacl.secretbox(plaintext, nonce, boxKey(kid)): 16-byte tag, then ciphertext
// The frame is what JetStream chunks (128 KiB chunks); its size is 46 + L + plaintext bytes.
import { BlobError } from "./errors.js";
import { isKid } from "../envelope/types.js";

export const FRAME_MAGIC = Buffer.from("MRBL", "ascii");
export const FRAME_VERSION = 1;
export const NONCE_LENGTH = 24;
/** Poly1305 tag in front of the ciphertext. */
export const TAG_LENGTH = 16;
/** Prefix of version-1 names. */
export const NAME_PREFIX = "b1.";

const HEX64 = /^[0-9a-f]{64}$/;

/** Bytes in front of the box for key id `kid`. Always >= 16, which sealing in place needs. */
export function headerLength(kid: string): number {
  return FRAME_MAGIC.length + 2 + kid.length + NONCE_LENGTH;
}

/** Total frame size for `plainLength` bytes of body under `kid`. */
export function frameLength(kid: string, plainLength: number): number {
  return headerLength(kid) + TAG_LENGTH + plainLength;
}

/** Writes the header in front of the box (the first headerLength(kid) bytes of `frame`). */
export function writeHeader(frame: Uint8Array, kid: string, nonce: Uint8Array): void {
  frame.set(FRAME_MAGIC, 0);
  let at = FRAME_MAGIC.length;
  frame[at++] = FRAME_VERSION;
  frame[at++] = kid.length;
  for (let i = 0; i < kid.length; i++) frame[at++] = kid.charCodeAt(i);
  frame.set(nonce, at);
}

export interface FrameHeader {
  kid: string;
  /** a copy: opening in place overwrites the header */
  nonce: Uint8Array;
  /** where the box (tag, then ciphertext) starts */
  boxOffset: number;
}

/** Reads and checks a version-1 frame's header; BLOB_UNREADABLE when it is not one. */
export function readHeader(frame: Uint8Array, name: string): FrameHeader {
  const bad = (what: string): BlobError =>
    new BlobError(
      "BLOB_UNREADABLE",
      `blob ${name} in centralized storage is not an encrypted message body (${what}): it was changed or damaged in storage; restore it from a backup of the blobs stream (docs/operations.md, section 9 "Back up")`,
      { blob: name },
    );
  if (frame.length < FRAME_MAGIC.length + 2 || !Buffer.from(frame.buffer, frame.byteOffset, FRAME_MAGIC.length).equals(FRAME_MAGIC))
    throw bad("no MRBL header");
  const version = frame[FRAME_MAGIC.length]!;
  if (version !== FRAME_VERSION) {
    throw new BlobError(
      "BLOB_UNREADABLE",
      `blob ${name} is in frame version ${version}, which this mailreplica does not read (it reads ${FRAME_VERSION}): upgrade this mailstore to the version that wrote it`,
      { blob: name },
    );
  }
  const kidLength = frame[FRAME_MAGIC.length + 1]!;
  const kidAt = FRAME_MAGIC.length + 2;
  const boxOffset = kidAt + kidLength + NONCE_LENGTH;
  if (frame.length < boxOffset + TAG_LENGTH) throw bad("shorter than its header and tag");
  const kid = Buffer.from(frame.buffer, frame.byteOffset + kidAt, kidLength).toString("latin1");
  if (!isKid(kid)) throw bad("its key id is not valid");
  return { kid, nonce: frame.slice(kidAt + kidLength, boxOffset), boxOffset };
}

/** The name of a version-1 body: its kid and the HMAC of its plaintext (hex). */
export function blobName(kid: string, mac: Buffer): string {
  return `${NAME_PREFIX}${kid}.${mac.toString("hex")}`;
}

/** What a stored name says about how to read it. */
export type ParsedName = { kind: "v1"; kid: string; mac: Buffer } | { kind: "legacy"; sha256: Buffer };

/** Parses a blob name; BLOB_UNREADABLE for a string that is neither form. */
export function parseName(name: string): ParsedName {
  if (HEX64.test(name)) return { kind: "legacy", sha256: Buffer.from(name, "hex") };
  if (name.startsWith(NAME_PREFIX) && name.length > NAME_PREFIX.length + 65) {
    const kid = name.slice(NAME_PREFIX.length, -65);
    const hex = name.slice(-64);
    if (name[name.length - 65] === "." && isKid(kid) && HEX64.test(hex)) return { kind: "v1", kid, mac: Buffer.from(hex, "hex") };
  }
  throw new BlobError(
    "BLOB_UNREADABLE",
    `${JSON.stringify(name.slice(0, 200))} is not a message body name (b1.<key id>.<64 hex>, or 64 hex for bodies stored before encryption): the item's metadata is damaged; run verifyReplicas on the account`,
    { blob: name.slice(0, 200) },
  );
}
