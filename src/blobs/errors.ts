import { CallerFacingError } from "../errors/index.js";

/** Why a message body could not be stored or read. Codes are stable (README's error table):
 *  UNAVAILABLE       centralized storage did not take the body in time (nothing was written)
 *  BLOB_MISSING      no object of that name in centralized storage
 *  BLOB_UNREADABLE   the object is there but is not the body it names: changed, damaged,
 *                    swapped for another body, or not in a format this version reads
 *  BLOB_KEY_UNKNOWN  the body is encrypted under a cluster key id this node does not hold */
export type BlobErrorCode = "UNAVAILABLE" | "BLOB_MISSING" | "BLOB_UNREADABLE" | "BLOB_KEY_UNKNOWN";

// A type, not an interface: it must fit CodedError's details (a record of JSON-safe values).
export type BlobErrorData = {
  /** the blob name concerned */
  blob?: string;
  /** the key id the stored body names, once known */
  kid?: string;
};

/** Caller-facing: every code is documented; `details` (BlobErrorData, never key material) goes out as the error's data. */
export class BlobError extends CallerFacingError<BlobErrorCode> {
  declare readonly details: Readonly<BlobErrorData>;

  constructor(code: BlobErrorCode, message: string, details: BlobErrorData = {}, options?: { cause?: unknown }) {
    super(code, message, { details, ...options });
  }
}
