export class DirectoryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DirectoryError";
  }
}

export const accountUnknown = (who: string): DirectoryError =>
  new DirectoryError("ACCOUNT_UNKNOWN", `account '${who}' is not known; check the name or id (getAccountStatus lists accounts)`, { account: who });

export const mailstoreUnknown = (host: string): DirectoryError =>
  new DirectoryError("MAILSTORE_UNKNOWN", `mailstore '${host}' is not known; start it once (mailreplica mailstore --host ${host}) so it registers, or check the name with getServices`, { host });
