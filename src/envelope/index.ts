export { seal } from "./seal.js";
export { open } from "./open.js";
export { EnvelopeKeyring } from "./keyring.js";
export type { EnvelopeKeyringOptions, TrustedSigner } from "./keyring.js";
export { EnvelopeError } from "./errors.js";
export type { EnvelopeErrorCode, EnvelopeErrorContext } from "./errors.js";
export * from "./types.js";
