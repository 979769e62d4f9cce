// The operator's list of trusted signing keys (`trusted-signers.json`, identical on every
// node). Only what is in it is trusted: a mailstore's key lets its envelopes be opened, a
// supervisor's key lets its promotion grants be accepted. Nothing a node reads from NATS
// (the directory included) can add to it.
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { EnvelopeError } from "./errors.js";
import { isHostName, isKid, SIGNING_PUBLIC_KEY_LENGTH } from "./types.js";

/** DER header that wraps a raw ed25519 public key for node:crypto. */
export const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export type SignerRole = "mailstore" | "supervisor";
export const SIGNER_ROLES: readonly SignerRole[] = ["mailstore", "supervisor"];

/** One entry of the trusted list, as the operator wrote it. */
export interface TrustedKeyEntry {
  /** Key id of this signing key (`signingKid(publicKey)` unless the operator chose one). */
  kid: string;
  host: string;
  role: SignerRole;
  /** Raw ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** ms since epoch when it was added. */
  addedAt: number;
  /** ms since epoch when it was retired: no longer accepted for anything. */
  retiredAt?: number;
}

/** A trusted key ready to verify with. */
export interface TrustedKey extends TrustedKeyEntry {
  readonly verifyKey: KeyObject;
}

/**
 * The stable key id of a signing key, derived from its public key: key files written before
 * kids existed get the same id as new ones. `s-` and 16 hex digits of SHA-256.
 */
export function signingKid(publicKey: Uint8Array): string {
  return `s-${createHash("sha256").update(publicKey).digest("hex").slice(0, 16)}`;
}

/** Parses a raw ed25519 public key; throws ENVELOPE_KEYRING_INVALID naming `what`. */
export function ed25519PublicKey(publicKey: Uint8Array, what: string): KeyObject {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== SIGNING_PUBLIC_KEY_LENGTH) {
    throw new EnvelopeError("ENVELOPE_KEYRING_INVALID", `public key of ${what} must be ${SIGNING_PUBLIC_KEY_LENGTH} bytes`);
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: "der", type: "spki" });
  } catch (cause) {
    throw new EnvelopeError("ENVELOPE_KEYRING_INVALID", `public key of ${what} is not an ed25519 key: copy it again from that host's key file`, { cause });
  }
}

/** Checks an entry's form and parses its key. */
export function toTrustedKey(e: TrustedKeyEntry): TrustedKey {
  if (!isKid(e.kid))
    throw new EnvelopeError(
      "ENVELOPE_KEYRING_INVALID",
      `trusted key id ${JSON.stringify(String(e.kid).slice(0, 80))} is not a key id (1-64 letters, digits, ".", "_", "-")`,
    );
  if (!isHostName(e.host))
    throw new EnvelopeError("ENVELOPE_KEYRING_INVALID", `trusted key ${e.kid}: host ${JSON.stringify(String(e.host).slice(0, 80))} is not a host name`, {
      kid: e.kid,
    });
  if (!SIGNER_ROLES.includes(e.role))
    throw new EnvelopeError("ENVELOPE_KEYRING_INVALID", `trusted key ${e.kid}: role must be one of ${SIGNER_ROLES.join(", ")}`, { kid: e.kid });
  const verifyKey = ed25519PublicKey(e.publicKey, `trusted key ${e.kid} (${e.host})`);
  return { ...e, publicKey: new Uint8Array(e.publicKey), verifyKey };
}

/** What the list says about a (host, public key) pair claiming to be a mailstore. */
export type SignerLookup =
  | { status: "trusted"; key: TrustedKey }
  /** the host has no mailstore key in the list at all */
  | { status: "unknown-host" }
  /** the host is listed, but not with this key */
  | { status: "unknown-key" }
  /** this key was trusted once and is retired */
  | { status: "retired"; key: TrustedKey };

/** The trusted keys, indexed by host and by kid. Immutable: a reload builds a new one. */
export class TrustList {
  readonly #byKid = new Map<string, TrustedKey>();
  readonly #byHost = new Map<string, TrustedKey[]>();

  constructor(entries: readonly TrustedKeyEntry[]) {
    for (const e of entries) {
      const k = toTrustedKey(e);
      if (this.#byKid.has(k.kid))
        throw new EnvelopeError("ENVELOPE_KEYRING_INVALID", `trusted key id ${k.kid} is listed twice: give each key its own kid`, { kid: k.kid });
      this.#byKid.set(k.kid, k);
      const list = this.#byHost.get(k.host) ?? [];
      list.push(k);
      this.#byHost.set(k.host, list);
    }
  }

  entries(): TrustedKey[] {
    return [...this.#byKid.values()];
  }

  byKid(kid: string): TrustedKey | undefined {
    return this.#byKid.get(kid);
  }

  /** A mailstore key of `host` that equals `publicKey`. */
  mailstoreKey(host: string, publicKey: Uint8Array): SignerLookup {
    const keys = (this.#byHost.get(host) ?? []).filter((k) => k.role === "mailstore");
    if (keys.length === 0) return { status: "unknown-host" };
    const k = keys.find((x) => Buffer.from(x.publicKey).equals(publicKey));
    if (!k) return { status: "unknown-key" };
    return k.retiredAt !== undefined ? { status: "retired", key: k } : { status: "trusted", key: k };
  }

  /**
   * A short digest of what the list trusts (kid, host, role, key, retired or not), so nodes
   * can compare their lists without sending them: equal lists, equal digests.
   */
  digest(): string {
    const rows = this.entries()
      .map((k) => [k.kid, k.host, k.role, Buffer.from(k.publicKey).toString("base64"), k.retiredAt !== undefined])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    return createHash("sha256").update(JSON.stringify(rows)).digest("hex").slice(0, 16);
  }

  /** Hosts with at least one non-retired key of `role`. */
  hosts(role: SignerRole): string[] {
    return [
      ...new Set(
        this.entries()
          .filter((k) => k.role === role && k.retiredAt === undefined)
          .map((k) => k.host),
      ),
    ];
  }
}
