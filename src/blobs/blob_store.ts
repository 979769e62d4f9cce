// Centralized storage for message bodies: the `mr_blobs` object store, content-addressed by
// sha256, so a put is idempotent (a retried delivery stores nothing twice) and a promotion
// moves no bytes of mail.
import { createHash } from "node:crypto";
import type { ObjectStore } from "nats";

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

export class BlobStore {
  constructor(private readonly os: ObjectStore) {}

  /** Stores `data` under its sha256 (once) and returns the digest. */
  async put(data: Uint8Array): Promise<string> {
    const digest = sha256Hex(data);
    const info = await this.os.info(digest);
    if (info && !info.deleted && info.size === data.length) return digest;
    await this.os.putBlob({ name: digest }, data);
    return digest;
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
