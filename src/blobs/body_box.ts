// Encrypting and decrypting a body inside its frame, in place, so a 25 MiB body costs one
// buffer rather than tweetnacl's three (its high-level secretbox copies the message into a
// zero-padded array, encrypts into a second one, and open does the same). The low-level
// functions are tweetnacl's own (`nacl.lowlevel`, the NaCl C API): same XSalsa20-Poly1305
// box, byte for byte, as nacl.secretbox (a test opens a stored frame with nacl.secretbox.open).
import nacl from "tweetnacl";

/** NaCl's crypto_secretbox works on buffers that start with 32 zero bytes (ZEROBYTES) and
 *  returns 16 zero bytes (BOXZEROBYTES) then the tag then the ciphertext. */
const ZEROBYTES = 32;
const BOXZEROBYTES = 16;

type SecretboxFn = (c: Uint8Array, m: Uint8Array, d: number, n: Uint8Array, k: Uint8Array) => number;

const lowlevel = (nacl as unknown as { lowlevel?: { crypto_secretbox?: SecretboxFn; crypto_secretbox_open?: SecretboxFn } }).lowlevel;
if (typeof lowlevel?.crypto_secretbox !== "function" || typeof lowlevel.crypto_secretbox_open !== "function") {
  throw new Error("tweetnacl has no lowlevel.crypto_secretbox/crypto_secretbox_open: install the tweetnacl version of package.json");
}
const cryptoSecretbox: SecretboxFn = lowlevel.crypto_secretbox;
const cryptoSecretboxOpen: SecretboxFn = lowlevel.crypto_secretbox_open;

/**
 * Encrypts in place the plaintext found at `frame[boxOffset + 16 ..]`, leaving the tag at
 * `frame[boxOffset .. +16]`. The 16 bytes before `boxOffset` (the end of the header) are
 * used as scratch: write the header afterwards.
 */
export function sealInPlace(frame: Uint8Array, boxOffset: number, nonce: Uint8Array, key: Uint8Array): void {
  if (boxOffset < BOXZEROBYTES) throw new RangeError("sealInPlace: the header must be at least 16 bytes");
  const c = frame.subarray(boxOffset - BOXZEROBYTES);
  c.fill(0, 0, ZEROBYTES);
  // In place (c is also m): the stream cipher reads each byte before writing it, and the
  // one-time authenticator reads its key from c[0..32] before writing the tag at c[16..32].
  if (cryptoSecretbox(c, c, c.length, nonce, key) !== 0) throw new RangeError("sealInPlace: frame too short");
}

/**
 * Checks the tag and, when it is right, decrypts in place: the plaintext is then at
 * `frame[boxOffset + 16 ..]`. Overwrites the 16 bytes before `boxOffset` (read the header
 * first). False when the tag is wrong: the box was changed after it was written, or sealed
 * under another key.
 */
export function openInPlace(frame: Uint8Array, boxOffset: number, nonce: Uint8Array, key: Uint8Array): boolean {
  if (boxOffset < BOXZEROBYTES) throw new RangeError("openInPlace: the header must be at least 16 bytes");
  const c = frame.subarray(boxOffset - BOXZEROBYTES);
  // The first 16 bytes of c are not read by the authenticator and are zeroed by open.
  return c.length >= ZEROBYTES && cryptoSecretboxOpen(c, c, c.length, nonce, key) === 0;
}
