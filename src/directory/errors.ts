import { CallerFacingError } from "../errors/index.js";

/** Caller-facing: ACCOUNT_UNKNOWN, MAILSTORE_UNKNOWN, DIRECTORY_CONFLICT... answer the JSON-RPC caller with their code. */
export class DirectoryError extends CallerFacingError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details !== undefined ? { details } : {});
  }
}

export const accountUnknown = (who: string): DirectoryError =>
  new DirectoryError("ACCOUNT_UNKNOWN", `account '${who}' is not known; check the name or id (getAccountStatus lists accounts)`, { account: who });

export const mailstoreUnknown = (host: string): DirectoryError =>
  new DirectoryError(
    "MAILSTORE_UNKNOWN",
    `mailstore '${host}' is not known; start it once (mailreplica mailstore --host ${host}) so it registers, or check the name with getServices`,
    { host },
  );
