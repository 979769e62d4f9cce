/**
 * Failures of the metadata store itself (as opposed to MailError, a refused command).
 * APPLY_FAILED is the one the replica agent acts on: the batch was rolled back entirely,
 * applied seq did not move, and the account's replica must be marked unavailable.
 */
export type StoreErrorCode =
  | "STORE_OPEN_FAILED"
  | "STORE_TOO_NEW"
  | "APPLY_FAILED"
  | "REPLICA_STATE_NOT_FOUND"
  | "INVALID_ARGUMENT";

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(code: StoreErrorCode, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
    this.data = data;
  }
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
