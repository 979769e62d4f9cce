import { createHash, sign } from "node:crypto";
import nacl from "tweetnacl";
import { encode } from "../codec/index.js";
import type { EnvelopeKeyring } from "./keyring.js";
import { ENVELOPE_VERSION, NONCE_LENGTH, SIGNING_DOMAIN } from "./types.js";

const DOMAIN = Buffer.from(SIGNING_DOMAIN, "ascii");

/** What sealing needs of a keyring: a keyring, or the same keys handed to a worker thread. */
export type SealingKeys = Pick<EnvelopeKeyring, "currentKid" | "secretboxKey" | "signerId" | "signingPublicKeyView" | "signingKey">;

/** Encrypts `payload` under the keyring's current kid and signs it as this node.
 *  Throws `CodecError` `CODEC_UNENCODABLE` when the payload cannot be written as msgpack. */
export function seal(keyring: SealingKeys, payload: unknown): Uint8Array {
  const kid = keyring.currentKid;
  const key = keyring.secretboxKey(kid)!;
  const nonce = nacl.randomBytes(NONCE_LENGTH);
  const box = nacl.secretbox(encode(payload), nonce, key);
  const signer = keyring.signerId;
  const spk = keyring.signingPublicKeyView();
  const sig = sign(null, signedDigest(ENVELOPE_VERSION, kid, nonce, signer, spk, box), keyring.signingKey());
  return encode({ v: ENVELOPE_VERSION, kid, nonce, box, signer, spk, sig });
}

/** SHA-512 of the fields that identify an envelope, in wire order with length prefixes so
 *  no two envelopes share it. Signing this digest rather than the concatenated fields hashes
 *  the box once and never copies it. `kid` and `signer` must already be valid (ASCII, short). */
export function signedDigest(v: number, kid: string, nonce: Uint8Array, signer: string, spk: Uint8Array, box: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(DOMAIN.length + 2 + kid.length + nonce.length + 1 + signer.length + spk.length);
  let at = DOMAIN.copy(head, 0);
  at = head.writeUInt8(v, at);
  at = head.writeUInt8(kid.length, at);
  at += head.write(kid, at, "latin1");
  head.set(nonce, at);
  at += nonce.length;
  at = head.writeUInt8(signer.length, at);
  at += head.write(signer, at, "latin1");
  head.set(spk, at);
  return createHash("sha512").update(head).update(box).digest();
}
