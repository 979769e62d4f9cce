import { CodedError } from "../errors/index.js";

/** Why an envelope was refused (by `open`) or a keyring could not be built. Codes are stable:
 *  replicas record them as the reason an account replica became unavailable. */
export type EnvelopeErrorCode =
  | "ENVELOPE_TRUNCATED"
  | "ENVELOPE_GARBAGE"
  | "ENVELOPE_UNKNOWN_SIGNER"
  | "ENVELOPE_BAD_SIGNATURE"
  /** signed with a key trusted-signers.json lists as retired */
  | "ENVELOPE_SIGNER_RETIRED"
  | "ENVELOPE_TAMPERED"
  | "ENVELOPE_UNKNOWN_KID"
  | "ENVELOPE_DECRYPT_FAILED"
  | "ENVELOPE_PAYLOAD_GARBAGE"
  /** `open` failed in a way none of the codes above describes (a bug, not the data). */
  | "ENVELOPE_UNEXPECTED"
  /** Keys given to the keyring have the wrong form (length, key id, host name, pair). */
  | "ENVELOPE_KEYRING_INVALID";

export interface EnvelopeErrorContext {
  kid?: string;
  signer?: string;
  cause?: unknown;
}

export class EnvelopeError extends CodedError<EnvelopeErrorCode> {
  /** Key id named by the envelope, once it is known to be a well-formed kid. */
  readonly kid: string | undefined;
  /** Signer named by the envelope, once it is known to be a well-formed host name. */
  readonly signer: string | undefined;

  constructor(code: EnvelopeErrorCode, message: string, context: EnvelopeErrorContext = {}) {
    super(code, message, { cause: context.cause });
    this.kid = context.kid;
    this.signer = context.signer;
  }
}
