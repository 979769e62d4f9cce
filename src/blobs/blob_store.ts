// Centralized storage for message bodies: the `mr_blobs` object store, content-addressed by
// sha256, so a put is idempotent (a retried delivery stores nothing twice) and a promotion
// moves no bytes of mail.
import { createHash } from "node:crypto";
import type { ObjectStore } from "@nats-io/obj";
import { transientReason } from "../jetstream/transient.js";

export class BlobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BlobError";
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface BlobStoreOptions {
  /** a put that has not finished by then is refused with UNAVAILABLE; default 5_000 ms */
  putTimeoutMs?: number;
}

export class BlobStore {
  private readonly putTimeoutMs: number;

  private readonly bucket: string;

  constructor(
    private readonly os: ObjectStore,
    opts: BlobStoreOptions & { bucket?: string } = {},
  ) {
    this.putTimeoutMs = opts.putTimeoutMs ?? 5_000;
    this.bucket = opts.bucket ?? "mr_blobs";
  }

  /**
   * Stores `data` under its sha256 (once) and returns the digest. Without a JetStream quorum
   * an object put may never settle (nats.js 2.29's did not: its clean-up after a failed chunk
   * failed too), so the put has a deadline; a transient failure is UNAVAILABLE. An abandoned put finishing later
   * is harmless: the name is the content's digest.
   */
  async put(data: Uint8Array): Promise<string> {
    const digest = sha256Hex(data);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unavailable(`JetStream did not answer within ${this.putTimeoutMs} ms (no quorum, or its leader is moving)`)), this.putTimeoutMs);
    });
    const attempt = (async () => {
      const info = await this.os.info(digest);
      if (info && !info.deleted && info.size === data.length) return digest;
      await this.os.putBlob({ name: digest }, data);
      return digest;
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

  /** The stored bytes; BLOB_MISSING when centralized storage does not hold them. */
  async get(digest: string): Promise<Uint8Array> {
    const data = await this.os.getBlob(digest);
    if (!data) throw new BlobError("BLOB_MISSING", `blob ${digest} is not in centralized storage; check the mr_blobs object store (mailreplica test)`);
    return data;
  }

  async has(digest: string): Promise<boolean> {
    const info = await this.os.info(digest);
    return !!info && !info.deleted;
  }

  async delete(digest: string): Promise<void> {
    await this.os.delete(digest);
  }
}
