// Failures of authenticating to NATS. Callers branch on `code`; the message names the
// setting and the file involved, never a secret.
import { CodedError } from "../errors/index.js";

export type NatsAuthErrorCode =
  /** a configured credential file is missing, unreadable, malformed or readable by others */
  | "NATS_AUTH_FILE"
  /** the server refused the configured credentials (or asked for some when none are configured) */
  | "NATS_AUTH_REFUSED"
  /** the TLS handshake with the server failed (CA, client certificate or key) */
  | "NATS_TLS_FAILED"
  /** `auth init` was given hosts it cannot make identities of (bad or colliding names) */
  | "AUTH_INIT_INVALID";

export class NatsAuthError extends CodedError<NatsAuthErrorCode> {}
