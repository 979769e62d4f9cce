import { verify } from "node:crypto";
import nacl from "tweetnacl";
import { CodecError, decode } from "../codec/index.js";
import { EnvelopeError } from "./errors.js";
import type { EnvelopeKeyring } from "./keyring.js";
import type { SignerLookup, TrustList } from "./trust.js";
import { signedDigest } from "./seal.js";
import {
  BOX_OVERHEAD,
  ENVELOPE_VERSION,
  isHostName,
  isKid,
  NONCE_LENGTH,
  SIGNATURE_LENGTH,
  SIGNING_PUBLIC_KEY_LENGTH,
  type OpenedEnvelope,
  type WireEnvelope,
} from "./types.js";

const WIRE_FIELDS = 7;

/** Verifies and decrypts an envelope made by `seal`. Safe on any bytes from any subject: it
 *  throws only `EnvelopeError`, and returns nothing that was not verified and decrypted.
 *  Checks, each with its own code: TRUNCATED, GARBAGE, UNKNOWN_SIGNER, BAD_SIGNATURE, SIGNER_RETIRED,
 *  TAMPERED, UNKNOWN_KID, DECRYPT_FAILED, PAYLOAD_GARBAGE. */
export function open(keyring: EnvelopeKeyring, bytes: Uint8Array): OpenedEnvelope {
  try {
    return openChecked(keyring, bytes);
  } catch (e) {
    if (e instanceof EnvelopeError) throw e;
    throw new EnvelopeError(
      "ENVELOPE_UNEXPECTED",
      `opening an envelope failed unexpectedly (${e instanceof Error ? e.name : typeof e}): this is a bug in mailreplica; report it with the cause`,
      { cause: e },
    );
  }
}

/**
 * Checks only who signed an envelope, without decrypting it (a supervisor holds no cluster
 * key): the same signature checks as open(), the same EnvelopeError codes. Returns the signer.
 */
export function verifyEnvelopeSigner(trust: TrustList, bytes: Uint8Array): { signer: string; kid: string } {
  try {
    const env = readWire(bytes);
    checkSignature((signer, spk) => trust.mailstoreKey(signer, spk), env);
    return { signer: env.signer, kid: env.kid };
  } catch (e) {
    if (e instanceof EnvelopeError) throw e;
    throw new EnvelopeError(
      "ENVELOPE_UNEXPECTED",
      `checking an envelope's signature failed unexpectedly: this is a bug in mailreplica; report it with the cause`,
      {
        cause: e,
      },
    );
  }
}

function openChecked(keyring: EnvelopeKeyring, bytes: Uint8Array): OpenedEnvelope {
  const env = readWire(bytes);
  const { kid, signer } = env;
  // Signature first: nothing about the content is trusted (not even its kid) until the
  // bytes are known to come, unchanged, from a trusted mailstore.
  checkSignature((s, spk) => keyring.lookupSigner(s, spk), env);
  const key = keyring.secretboxKey(kid);
  if (key === undefined) {
    throw new EnvelopeError(
      "ENVELOPE_UNKNOWN_KID",
      `envelope from "${signer}" is encrypted under key id "${kid}", which this node's keyring lacks (has ${keyring.kids().join(", ")}): install the cluster.secretbox.json that holds "${kid}"`,
      { kid, signer },
    );
  }
  const plaintext = nacl.secretbox.open(env.box, env.nonce, key);
  if (plaintext === null) {
    throw new EnvelopeError(
      "ENVELOPE_DECRYPT_FAILED",
      `envelope from "${signer}" does not decrypt with this node's key "${kid}": the writer holds a different key under that id; make cluster.secretbox.json identical on every node`,
      { kid, signer },
    );
  }
  let payload: unknown;
  try {
    payload = decode(plaintext);
  } catch (e) {
    const why = e instanceof CodecError ? e.reason : "undecodable";
    throw new EnvelopeError(
      "ENVELOPE_PAYLOAD_GARBAGE",
      `envelope from "${signer}" is authentic but its payload is not msgpack (${why}): the writer is broken or speaks another format; check its version`,
      { kid, signer, cause: e },
    );
  }
  return { payload, kid, signer };
}

function checkSignature(lookup: (signer: string, spk: Uint8Array) => SignerLookup, env: WireEnvelope): void {
  const { kid, signer } = env;
  const found = lookup(signer, env.spk);
  if (found.status === "unknown-host") {
    throw new EnvelopeError(
      "ENVELOPE_UNKNOWN_SIGNER",
      `envelope is signed by "${signer}", which has no mailstore key in this node's trusted-signers.json: an entry is applied only from a mailstore the operator listed there (registering in the directory does not count)`,
      { kid, signer },
    );
  }
  if (found.status === "unknown-key") {
    throw new EnvelopeError(
      "ENVELOPE_BAD_SIGNATURE",
      `envelope claims signer "${signer}" but carries a key that trusted-signers.json does not list for it: if that mailstore's keys were rotated, add the new key to every node's trusted-signers.json; otherwise something else is writing as it`,
      { kid, signer },
    );
  }
  if (found.status === "retired") {
    throw new EnvelopeError(
      "ENVELOPE_SIGNER_RETIRED",
      `envelope from "${signer}" is signed with key ${found.key.kid}, which trusted-signers.json marks retired: entries under a retired key are no longer accepted; seed this copy from a snapshot, or un-retire the key`,
      { kid, signer },
    );
  }
  const trusted = found.key;
  const digest = signedDigest(env.v, kid, env.nonce, signer, env.spk, env.box);
  if (!verify(null, digest, trusted.verifyKey, env.sig)) {
    throw new EnvelopeError(
      "ENVELOPE_TAMPERED",
      `envelope from "${signer}" does not match its signature: its bytes were changed after signing; do not apply it, check the stream and what writes to it`,
      { kid, signer },
    );
  }
}

/** Decodes the outer map and checks every field's type and length. */
function readWire(bytes: Uint8Array): WireEnvelope {
  if (!(bytes instanceof Uint8Array)) {
    throw garbage(`expected the message bytes as a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  }
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (e) {
    if (e instanceof CodecError && e.code === "CODEC_TRUNCATED") {
      throw new EnvelopeError(
        "ENVELOPE_TRUNCATED",
        `envelope is cut short (${bytes.length} bytes): it was truncated in transit or storage; read it again from the account log`,
        { cause: e },
      );
    }
    throw garbage(`not msgpack: ${e instanceof CodecError ? e.reason : "undecodable"}`, e);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw garbage(`expected a map, got ${describe(value)}`);
  }
  const o = value as Record<string, unknown>;
  let fields = 0;
  for (const name in o) {
    if (!Object.prototype.hasOwnProperty.call(o, name)) continue;
    if (++fields > WIRE_FIELDS) throw garbage(`unexpected field ${JSON.stringify(name.slice(0, 40))}`);
  }
  if (o.v !== ENVELOPE_VERSION) throw garbage(`unknown version ${describe(o.v)}; this node reads version ${ENVELOPE_VERSION}`);
  if (!isKid(o.kid)) throw garbage(`field "kid" is not a key id`);
  if (!isHostName(o.signer)) throw garbage(`field "signer" is not a host name`);
  const context = { kid: o.kid, signer: o.signer };
  const nonce = bin(o, "nonce", context);
  const box = bin(o, "box", context);
  const spk = bin(o, "spk", context);
  const sig = bin(o, "sig", context);
  if (nonce.length !== NONCE_LENGTH) throw garbage(`field "nonce" has ${nonce.length} bytes, not ${NONCE_LENGTH}`, undefined, context);
  if (box.length < BOX_OVERHEAD) throw garbage(`field "box" has ${box.length} bytes, fewer than ${BOX_OVERHEAD}`, undefined, context);
  if (spk.length !== SIGNING_PUBLIC_KEY_LENGTH) throw garbage(`field "spk" has ${spk.length} bytes, not ${SIGNING_PUBLIC_KEY_LENGTH}`, undefined, context);
  if (sig.length !== SIGNATURE_LENGTH) throw garbage(`field "sig" has ${sig.length} bytes, not ${SIGNATURE_LENGTH}`, undefined, context);
  if (fields !== WIRE_FIELDS) throw garbage(`expected exactly ${WIRE_FIELDS} fields, got ${fields}`, undefined, context);
  return { v: ENVELOPE_VERSION, kid: o.kid, nonce, box, signer: o.signer, spk, sig };
}

function bin(o: Record<string, unknown>, name: string, context: { kid: string; signer: string }): Uint8Array {
  const value = o[name];
  if (!(value instanceof Uint8Array)) throw garbage(`field "${name}" is ${describe(value)}, not bytes`, undefined, context);
  return value;
}

function garbage(why: string, cause?: unknown, context: { kid?: string; signer?: string } = {}): EnvelopeError {
  return new EnvelopeError(
    "ENVELOPE_GARBAGE",
    `bytes are not a mailreplica envelope (${why}): check what publishes on this subject`,
    cause === undefined ? context : { ...context, cause },
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === "number") return String(value);
  return `a ${typeof value}`;
}
