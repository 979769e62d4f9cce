// Idempotency keys (requestId) of write commands: what a valid key looks like and how long
// the account remembers the outcome of one.

/** How long a requestId's first outcome is kept (by the writer's clock): 24 hours. */
export const REQUEST_WINDOW_MS = 24 * 60 * 60 * 1000;

/** 1–128 characters of letters, digits, '.', '_', ':' and '-'. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The allowed characters, for error messages (the length is said beside it). */
export const REQUEST_ID_RULE = "letters A-Z a-z, digits 0-9, '.', '_', ':' and '-'";
