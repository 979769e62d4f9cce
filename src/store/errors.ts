import { CallerFacingError } from "../errors/index.js";

/**
 * Failures of the metadata store itself (as opposed to MailError, a refused command).
 * APPLY_FAILED is the one the replica agent acts on: the batch was rolled back entirely,
 * applied seq did not move, and the account's replica must be marked unavailable.
 */
export type StoreErrorCode = "STORE_OPEN_FAILED" | "STORE_TOO_NEW" | "APPLY_FAILED" | "REPLICA_STATE_NOT_FOUND" | "INVALID_ARGUMENT";

/** Caller-facing: APPLY_FAILED is documented (the other codes are not, so they stay internal errors). */
export class StoreError extends CallerFacingError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, { ...(details !== undefined ? { details } : {}), ...options });
  }
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
