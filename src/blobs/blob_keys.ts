// Keys for message bodies, derived from the cluster secretbox keys of the node's keyring with
// HKDF-SHA256 (node:crypto), one pair per key id:
//   box key   encrypts bodies (secretbox). A key of its own rather than the cluster key
//             itself, so a body's box can never be taken for an envelope's box or back.
//   name key  HMAC-SHA256 key for body names, so a name says nothing about the plaintext to
//             someone without the cluster key, while equal bodies under one kid share a name.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { inspect } from "node:util";
import type { EnvelopeKeyring } from "../envelope/index.js";

const SALT = Buffer.from("mailreplica/blobs", "ascii");
const BOX_INFO = Buffer.from("body box v1", "ascii");
const NAME_INFO = Buffer.from("body name v1", "ascii");

interface DerivedKeys {
  box: Uint8Array;
  name: Buffer;
}

/** Body keys by kid, derived on first use. Never printed (inspect/JSON show kids only). */
export class BlobKeys {
  readonly #keyring: EnvelopeKeyring;
  // A kid is never re-keyed (the keyring refuses it), so a derived pair stays valid.
  readonly #derived = new Map<string, DerivedKeys>();

  constructor(keyring: EnvelopeKeyring) {
    this.#keyring = keyring;
  }

  /** The kid new bodies are encrypted and named under: the keyring's current one. */
  get currentKid(): string {
    return this.#keyring.currentKid;
  }

  /** Key ids this node holds. */
  kids(): string[] {
    return this.#keyring.kids();
  }

  /** Whether this node holds `kid`. */
  has(kid: string): boolean {
    return this.#keys(kid) !== undefined;
  }

  /** For sealing and opening only: the box key of `kid`, if this node holds it. */
  boxKey(kid: string): Uint8Array | undefined {
    return this.#keys(kid)?.box;
  }

  /** HMAC-SHA256 of `plain` under `kid`'s name key; undefined when the kid is not held. */
  mac(kid: string, plain: Uint8Array): Buffer | undefined {
    const keys = this.#keys(kid);
    return keys && createHmac("sha256", keys.name).update(plain).digest();
  }

  /** Whether `plain` has the MAC `expected` under `kid` (constant time). */
  macMatches(kid: string, plain: Uint8Array, expected: Buffer): boolean {
    const got = this.mac(kid, plain);
    return got !== undefined && got.length === expected.length && timingSafeEqual(got, expected);
  }

  toJSON(): { currentKid: string } {
    return { currentKid: this.currentKid };
  }

  [inspect.custom](): string {
    return `BlobKeys ${inspect(this.toJSON())}`;
  }

  #keys(kid: string): DerivedKeys | undefined {
    const cached = this.#derived.get(kid);
    if (cached) return cached;
    const cluster = this.#keyring.secretboxKey(kid);
    if (!cluster) return undefined;
    const keys = {
      box: new Uint8Array(hkdfSync("sha256", cluster, SALT, BOX_INFO, 32)),
      name: Buffer.from(hkdfSync("sha256", cluster, SALT, NAME_INFO, 32)),
    };
    this.#derived.set(kid, keys);
    return keys;
  }
}
