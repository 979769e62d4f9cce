/** Why a message body could not be stored or read. Codes are stable (README's error table):
 *  UNAVAILABLE       centralized storage did not take the body in time (nothing was written)
 *  BLOB_MISSING      no object of that name in centralized storage
 *  BLOB_UNREADABLE   the object is there but is not the body it names: changed, damaged,
 *                    swapped for another body, or not in a format this version reads
 *  BLOB_KEY_UNKNOWN  the body is encrypted under a cluster key id this node does not hold */
export type BlobErrorCode = "UNAVAILABLE" | "BLOB_MISSING" | "BLOB_UNREADABLE" | "BLOB_KEY_UNKNOWN";

export interface BlobErrorData {
  /** the blob name concerned */
  blob?: string;
  /** the key id the stored body names, once known */
  kid?: string;
}

export class BlobError extends Error {
  override readonly name = "BlobError";

  constructor(
    readonly code: BlobErrorCode,
    message: string,
    /** sent as JSON-RPC error data (never key material) */
    readonly data: BlobErrorData = {},
  ) {
    super(message);
  }
}
