// Centralized storage for message bodies: the `mr_blobs` object store. Bodies are encrypted
// with a key derived from the cluster key (current kid) and named by an HMAC of their
// content under that kid (blob_format.ts has the layout), so a put is idempotent (a retried
// delivery stores nothing twice), equal bodies are stored once per kid, a promotion moves no
// bytes of mail, and someone who can read the bucket but has no cluster key learns neither
// a body nor its hash. Bodies stored in plaintext by earlier versions (64-hex sha256 names)
// are still read, checked against their name.
import { createHash, randomBytes } from "node:crypto";
import type { ObjectStore } from "@nats-io/obj";
import type { EnvelopeKeyring } from "../envelope/index.js";
import { transientReason } from "../jetstream/transient.js";
import { BlobError } from "./errors.js";
import { BlobKeys } from "./blob_keys.js";
import { blobName, frameLength, headerLength, NONCE_LENGTH, parseName, readHeader, TAG_LENGTH, writeHeader } from "./blob_format.js";
import { openFrame, sealFrame } from "./box_runner.js";
import { objectBytes, objectStream } from "./object_bytes.js";

export { BlobError } from "./errors.js";
export type { BlobErrorCode } from "./errors.js";

export interface BlobStoreOptions {
  /** a put that has not finished by then is refused with UNAVAILABLE; default 5_000 ms */
  putTimeoutMs?: number;
  /** object store name, for messages; default mr_blobs */
  bucket?: string;
}

export class BlobStore {
  private readonly putTimeoutMs: number;
  private readonly bucket: string;
  private readonly keys: BlobKeys;

  constructor(
    private readonly os: ObjectStore,
    keyring: EnvelopeKeyring,
    opts: BlobStoreOptions = {},
  ) {
    this.putTimeoutMs = opts.putTimeoutMs ?? 5_000;
    this.bucket = opts.bucket ?? "mr_blobs";
    this.keys = new BlobKeys(keyring);
  }

  /**
   * Stores a body (a string is stored as its UTF-8 bytes) encrypted under the current kid,
   * once, and returns its name. The body is written straight into the one buffer that is
   * encrypted in place and handed to the object store in chunk-sized views: memory stays
   * about one body. Without a JetStream quorum an object put may never settle, so the put has
   * a deadline; a transient failure is UNAVAILABLE. An abandoned put finishing later is
   * harmless: the name stands for the content.
   */
  async put(body: string | Uint8Array): Promise<string> {
    const kid = this.keys.currentKid;
    const boxKey = this.keys.boxKey(kid)!; // the keyring always holds its current kid
    const plainLength = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.length;
    const boxOffset = headerLength(kid);
    // Not pooled: a whole ArrayBuffer can be moved to the box worker; every byte is written.
    let frame: Buffer = Buffer.allocUnsafeSlow(frameLength(kid, plainLength));
    const plainAt = boxOffset + TAG_LENGTH;
    if (typeof body === "string") frame.write(body, plainAt, "utf8");
    else frame.set(body, plainAt);
    const name = blobName(kid, this.keys.mac(kid, frame.subarray(plainAt))!);
    const nonce = randomBytes(NONCE_LENGTH);
    frame = await sealFrame(frame, boxOffset, nonce, boxKey);
    writeHeader(frame, kid, nonce);

    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.unavailable(`JetStream did not answer within ${this.putTimeoutMs} ms (no quorum, or its leader is moving)`)),
        this.putTimeoutMs,
      );
    });
    const attempt = (async () => {
      // Same body, same kid: stored already (dedup). Another nonce, so not the same bytes,
      // but the same size; a same-size object that is not the body fails on read (tampered).
      const info = await this.os.info(name);
      if (info && !info.deleted && info.size === frame.length) return name;
      await this.os.put({ name }, objectStream(frame));
      return name;
    })();
    attempt.catch(() => {}); // after the deadline nobody waits for it
    try {
      return await Promise.race([attempt, expired]);
    } catch (e) {
      const reason = e instanceof BlobError ? undefined : transientReason(e);
      throw reason === undefined ? e : this.unavailable(reason);
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(reason: string): BlobError {
    return new BlobError(
      "UNAVAILABLE",
      `centralized storage (object store ${this.bucket}) did not store the message body: ${reason}; nothing was written, retry when JetStream has a quorum again (check with: mailreplica test)`,
    );
  }

  /**
   * The plaintext of the body named `name`. BLOB_MISSING when storage does not hold it,
   * BLOB_KEY_UNKNOWN when it is encrypted under a kid this node lacks, BLOB_UNREADABLE when
   * the stored bytes are not that body (changed, damaged, swapped or an unknown format).
   */
  async get(name: string): Promise<Uint8Array> {
    const parsed = parseName(name);
    if (parsed.kind === "v1" && !this.keys.has(parsed.kid)) throw this.keyUnknown(name, parsed.kid);
    let stored: Buffer = await objectBytes(this.os, name, this.bucket);
    if (parsed.kind === "legacy") {
      // Written in plaintext before bodies were encrypted; its name is its sha256.
      if (!createHash("sha256").update(stored).digest().equals(parsed.sha256)) {
        throw new BlobError(
          "BLOB_UNREADABLE",
          `blob ${name} in centralized storage (stored unencrypted by an earlier version) does not match its sha256 name: it was changed or damaged in storage; restore it from a backup of the blobs stream (docs/operations.md, section 9 "Back up")`,
          { blob: name },
        );
      }
      return stored;
    }
    const header = readHeader(stored, name);
    if (header.kid !== parsed.kid) {
      throw new BlobError(
        "BLOB_UNREADABLE",
        `blob ${name} is named for key id ${parsed.kid} but its frame says ${header.kid}: it was changed in storage; restore it from a backup of the blobs stream (docs/operations.md, section 9 "Back up")`,
        { blob: name, kid: header.kid },
      );
    }
    const opened = await openFrame(stored, header.boxOffset, header.nonce, this.keys.boxKey(header.kid)!);
    if (!opened.ok) {
      throw new BlobError(
        "BLOB_UNREADABLE",
        `blob ${name} in centralized storage fails its authentication (encrypted under key id ${header.kid}): it was changed or damaged in storage after it was written; restore it from a backup of the blobs stream (docs/operations.md, section 9 "Back up"). The message's metadata is intact`,
        { blob: name, kid: header.kid },
      );
    }
    stored = opened.frame;
    const plain = stored.subarray(header.boxOffset + TAG_LENGTH);
    // A valid box of another body (copied over this one) authenticates too: its HMAC does not.
    if (!this.keys.macMatches(header.kid, plain, parsed.mac)) {
      throw new BlobError(
        "BLOB_UNREADABLE",
        `blob ${name} holds another message body than the one its name stands for: it was replaced in storage; restore it from a backup of the blobs stream (docs/operations.md, section 9 "Back up")`,
        { blob: name, kid: header.kid },
      );
    }
    return plain;
  }

  /** Whether storage holds an object of this name (not whether it is readable). */
  async has(name: string): Promise<boolean> {
    const info = await this.os.info(name);
    return !!info && !info.deleted;
  }

  async delete(name: string): Promise<void> {
    await this.os.delete(name);
  }

  private keyUnknown(name: string, kid: string): BlobError {
    return new BlobError(
      "BLOB_KEY_UNKNOWN",
      `blob ${name} is encrypted under cluster key id ${kid}, which this mailstore's cluster.secretbox.json does not hold (it holds ${this.keys.kids().join(", ")}): copy the cluster key file that still has ${kid} from another node; never retire a key id while bodies use it`,
      { blob: name, kid },
    );
  }
}
