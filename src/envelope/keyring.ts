import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { inspect } from "node:util";
import { EnvelopeError } from "./errors.js";
import { isHostName, isKid, SECRETBOX_KEY_LENGTH, SIGNING_PUBLIC_KEY_LENGTH, SIGNING_SECRET_KEY_LENGTH } from "./types.js";
import { ed25519PublicKey, signingKid, SPKI_ED25519_PREFIX, TrustList, type SignerLookup, type TrustedKeyEntry } from "./trust.js";

// DER headers that wrap a raw ed25519 seed / public key for node:crypto. Signing goes through
// node:crypto rather than tweetnacl: same RFC 8032 signatures, about 100 times faster.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface EnvelopeKeyringOptions {
  /** Cluster secretbox keys, 32 bytes each, by key id. */
  keys: Record<string, Uint8Array>;
  /** Key id `seal` encrypts under; must be in `keys`. */
  currentKid: string;
  /** This node's host name, written as `signer` in every envelope it seals. */
  signerId: string;
  /** This node's ed25519 secret key in tweetnacl form (seed then public key, 64 bytes). */
  signingSecretKey: Uint8Array;
  /** Key id of this node's signing key; default `signingKid(its public key)`. */
  signingKid?: string;
  /** The operator's trusted-signers list (mailstore and supervisor keys). */
  trustList?: readonly TrustedKeyEntry[];
  /** More mailstores' ed25519 public keys by host (programs and tests building keyrings by hand). */
  trusted?: Record<string, Uint8Array>;
  /**
   * Trust this node's own key without it being in `trustList` (default true, for keyrings
   * built by hand). Nodes load theirs with false: their own key counts only when the
   * operator listed it, so a node never applies entries the others refuse.
   */
  trustOwnKey?: boolean;
}

/** A trusted signer: its raw public key (compared with `spk`) and the parsed key (verifies). */
export interface TrustedSigner {
  readonly publicKey: Uint8Array;
  readonly verifyKey: KeyObject;
}

/** Every key one node needs to seal and open envelopes. Keys are copied in and never shown
 *  by console.log, util.inspect or JSON.stringify (they print kids and signer ids only). */
export class EnvelopeKeyring {
  readonly #boxKeys = new Map<string, Uint8Array>();
  #listed: readonly TrustedKeyEntry[] = [];
  readonly #added: TrustedKeyEntry[] = [];
  #trust: TrustList = new TrustList([]);
  #currentKid: string;
  #signingKid: string;
  readonly #signerId: string;
  #signingPublicKey: Uint8Array;
  #signingKey: KeyObject;

  constructor(options: EnvelopeKeyringOptions) {
    for (const [kid, key] of Object.entries(options.keys)) this.#putBoxKey(kid, key);
    if (!this.#boxKeys.has(options.currentKid)) {
      throw invalid(
        `current key id "${String(options.currentKid)}" is not among the secretbox keys given (${this.kids().join(", ") || "none"}): add its key or pick one of those`,
      );
    }
    this.#currentKid = options.currentKid;
    if (!isHostName(options.signerId)) {
      throw invalid(`signer id must be this node's host name (letters, digits, "-", "."), got ${JSON.stringify(String(options.signerId).slice(0, 80))}`);
    }
    this.#signerId = options.signerId;
    const secret = options.signingSecretKey;
    if (!(secret instanceof Uint8Array) || secret.length !== SIGNING_SECRET_KEY_LENGTH) {
      throw invalid(`signing secret key must be ${SIGNING_SECRET_KEY_LENGTH} bytes (tweetnacl form: seed then public key)`);
    }
    this.#signingKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, secret.subarray(0, 32)]), format: "der", type: "pkcs8" });
    const derived = createPublicKey(this.#signingKey).export({ format: "der", type: "spki" }).subarray(SPKI_ED25519_PREFIX.length);
    // A pair whose halves disagree would seal envelopes that every reader refuses.
    if (!derived.equals(secret.subarray(32))) {
      throw invalid("signing secret key's last 32 bytes are not the public key of its seed: the key pair is corrupt; generate it again");
    }
    this.#signingPublicKey = new Uint8Array(derived);
    this.#signingKid = options.signingKid ?? signingKid(this.#signingPublicKey);
    if (!isKid(this.#signingKid)) throw invalid(`signing key id ${JSON.stringify(String(this.#signingKid).slice(0, 80))} is not a key id`);
    for (const [id, publicKey] of Object.entries(options.trusted ?? {})) this.trustSigner(id, publicKey);
    if (options.trustOwnKey !== false) this.trustSigner(this.#signerId, this.#signingPublicKey);
    this.setTrustList(options.trustList ?? []);
  }

  /**
   * Signs with another key pair from now on (an activated rotation). The old public key stays
   * trusted as far as the list says, so what it signed stays readable.
   */
  setSigningKey(secretKey: Uint8Array, kid?: string): void {
    if (!(secretKey instanceof Uint8Array) || secretKey.length !== SIGNING_SECRET_KEY_LENGTH) {
      throw invalid(`signing secret key must be ${SIGNING_SECRET_KEY_LENGTH} bytes (tweetnacl form: seed then public key)`);
    }
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, secretKey.subarray(0, 32)]), format: "der", type: "pkcs8" });
    const derived = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(SPKI_ED25519_PREFIX.length);
    if (!derived.equals(secretKey.subarray(32)))
      throw invalid("signing secret key's last 32 bytes are not the public key of its seed: the key pair is corrupt");
    const newKid = kid ?? signingKid(derived);
    if (!isKid(newKid)) throw invalid(`signing key id ${JSON.stringify(String(newKid).slice(0, 80))} is not a key id`);
    this.#signingKey = key;
    this.#signingPublicKey = new Uint8Array(derived);
    this.#signingKid = newKid;
  }

  /** Replaces the operator's list (a reload of trusted-signers.json); checked before anything changes. */
  setTrustList(entries: readonly TrustedKeyEntry[]): void {
    this.#trust = this.#build(entries, this.#added);
    this.#listed = [...entries];
  }

  /** Key id of this node's signing key. */
  get signingKid(): string {
    return this.#signingKid;
  }

  /** The trusted keys in force (the operator's list plus keys trusted by hand). */
  get trust(): TrustList {
    return this.#trust;
  }

  /** Whether this node's own signing key is a trusted, non-retired mailstore key: if not, every other node refuses what it writes. */
  ownKeyTrusted(): boolean {
    return this.#trust.mailstoreKey(this.#signerId, this.#signingPublicKey).status === "trusted";
  }

  /** For `open`: what the trusted list says about a signer host and the key it carries. */
  lookupSigner(signerId: string, spk: Uint8Array): SignerLookup {
    return this.#trust.mailstoreKey(signerId, spk);
  }

  /** Key id that `seal` encrypts under. */
  get currentKid(): string {
    return this.#currentKid;
  }

  /** This node's host name, the `signer` of what it seals. */
  get signerId(): string {
    return this.#signerId;
  }

  /** This node's ed25519 public key (a copy). */
  get signingPublicKey(): Uint8Array {
    return this.#signingPublicKey.slice();
  }

  /** Key ids this keyring can open, current one included. */
  kids(): string[] {
    return [...this.#boxKeys.keys()];
  }

  /** Adds a secretbox key (key rotation): with `current`, `seal` uses it from now on, and
   *  the older kids stay available to open what was sealed before. */
  addKey(kid: string, key: Uint8Array, options: { current?: boolean } = {}): void {
    this.#putBoxKey(kid, key);
    if (options.current) this.#currentKid = kid;
  }

  /** Trusts one more mailstore key of a host, besides the operator's list (keyrings built by hand). */
  trustSigner(signerId: string, publicKey: Uint8Array): void {
    if (!isHostName(signerId)) {
      throw invalid(`trusted signer id must be a host name (letters, digits, "-", "."), got ${JSON.stringify(String(signerId).slice(0, 80))}`);
    }
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== SIGNING_PUBLIC_KEY_LENGTH) {
      throw invalid(`public key of signer "${signerId}" must be ${SIGNING_PUBLIC_KEY_LENGTH} bytes`);
    }
    ed25519PublicKey(publicKey, `signer "${signerId}"`);
    const entry: TrustedKeyEntry = { kid: signingKid(publicKey), host: signerId, role: "mailstore", publicKey: new Uint8Array(publicKey), addedAt: 0 };
    const added = [...this.#added.filter((e) => e.kid !== entry.kid), entry];
    this.#trust = this.#build(this.#listed, added);
    this.#added.splice(0, this.#added.length, ...added);
  }

  /** Host names whose envelopes this keyring accepts (a non-retired mailstore key). */
  trustedSigners(): string[] {
    return this.#trust.hosts("mailstore");
  }

  /** For `seal`/`open` only: the secretbox key of a kid. Never log what this returns. */
  secretboxKey(kid: string): Uint8Array | undefined {
    return this.#boxKeys.get(kid);
  }

  /** For `seal` only: this node's parsed signing key. */
  signingKey(): KeyObject {
    return this.#signingKey;
  }

  /** For `seal` only: this node's public key without a copy (written as `spk`). */
  signingPublicKeyView(): Uint8Array {
    return this.#signingPublicKey;
  }

  toJSON(): { currentKid: string; kids: string[]; signerId: string; signingKid: string; trustedSigners: string[] } {
    return { currentKid: this.#currentKid, kids: this.kids(), signerId: this.#signerId, signingKid: this.#signingKid, trustedSigners: this.trustedSigners() };
  }

  [inspect.custom](): string {
    return `EnvelopeKeyring ${inspect(this.toJSON())}`;
  }

  /** The operator's entries win over keys trusted by hand that have the same kid (a retirement must count). */
  #build(listed: readonly TrustedKeyEntry[], added: readonly TrustedKeyEntry[]): TrustList {
    const kids = new Set(listed.map((e) => e.kid));
    return new TrustList([...listed, ...added.filter((e) => !kids.has(e.kid))]);
  }

  #putBoxKey(kid: string, key: Uint8Array): void {
    if (!isKid(kid)) {
      throw invalid(
        `key id ${JSON.stringify(String(kid).slice(0, 80))} is not valid: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    if (!(key instanceof Uint8Array) || key.length !== SECRETBOX_KEY_LENGTH) {
      throw invalid(`secretbox key "${kid}" must be ${SECRETBOX_KEY_LENGTH} bytes`, kid);
    }
    const existing = this.#boxKeys.get(kid);
    // Re-keying a kid would make everything already sealed under it unreadable.
    if (existing !== undefined && !Buffer.from(existing.buffer, existing.byteOffset, existing.byteLength).equals(key)) {
      throw invalid(`key id "${kid}" already holds a different key: give the new key a new kid`, kid);
    }
    this.#boxKeys.set(kid, new Uint8Array(key));
  }
}

function invalid(message: string, kid?: string): EnvelopeError {
  return new EnvelopeError("ENVELOPE_KEYRING_INVALID", message, kid === undefined ? {} : { kid });
}
