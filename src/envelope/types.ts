// The envelope contract: what `seal` writes on `mr.tx.<accountId>` and `open` accepts.
//
// Wire form (msgpack map, exactly these fields):
//   v      1                      envelope version
//   kid    string (KID_PATTERN)    id of the cluster secretbox key the box is encrypted under
//   nonce  bin(24)                 fresh random secretbox nonce
//   box    bin(>= 16)              nacl.secretbox(msgpack(payload), nonce, key[kid])
//   signer string (host name)     mailstore that wrote it, e.g. mailstore1.example.com
//   spk    bin(32)                 the signer's ed25519 public key, carried so a reader can
//                                  tell "signed by another key" from "changed after signing"
//   sig    bin(64)                 ed25519 detached signature over SHA-512 of
//                                  SIGNING_DOMAIN | v u8 | len u8 | kid | nonce |
//                                  len u8 | signer | spk | box
// Strings are ASCII (both patterns below), so their lengths in bytes and characters agree.

export const ENVELOPE_VERSION = 1;
export const NONCE_LENGTH = 24;
export const SECRETBOX_KEY_LENGTH = 32;
/** Poly1305 tag: the smallest box (empty plaintext). */
export const BOX_OVERHEAD = 16;
export const SIGNING_PUBLIC_KEY_LENGTH = 32;
/** tweetnacl's form: 32-byte seed followed by the 32-byte public key. */
export const SIGNING_SECRET_KEY_LENGTH = 64;
export const SIGNATURE_LENGTH = 64;
/** Prefix of every signed digest, so an envelope signature means nothing anywhere else. */
export const SIGNING_DOMAIN = "mailreplica/envelope\n";

/** A key id: short, ASCII, safe in file names and log lines, e.g. `k1-3f9a0c12`. */
export const KID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A DNS-style host name: dot-separated labels of letters, digits and inner hyphens,
 *  at most 63 characters each and 253 in all. Names mailstores (signers, key files). */
export const HOST_NAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isKid(value: unknown): value is string {
  return typeof value === "string" && value.length <= 64 && KID_PATTERN.test(value);
}

export function isHostName(value: unknown): value is string {
  return typeof value === "string" && value.length <= 253 && HOST_NAME_PATTERN.test(value);
}

/** The decoded wire map, after `open` has checked every field's type and length. */
export interface WireEnvelope {
  v: typeof ENVELOPE_VERSION;
  kid: string;
  nonce: Uint8Array;
  box: Uint8Array;
  signer: string;
  spk: Uint8Array;
  sig: Uint8Array;
}

/** What `open` returns: only ever a verified, decrypted envelope. */
export interface OpenedEnvelope {
  /** The value given to `seal`; byte fields come back as Uint8Array. */
  payload: unknown;
  /** Key id it was encrypted under (may be an older, rotated-out kid). */
  kid: string;
  /** Trusted mailstore host that signed it. */
  signer: string;
}
