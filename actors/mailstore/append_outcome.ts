// Whether a failed write certainly left nothing in the account log. Only then may a caller
// undo what it prepared for the write (createAccount's directory record): anything else may
// have been stored, and a retry must find what it prepared.
import { isMailError } from "../../src/mail/index.js";

/**
 * Refusals before any append: a command the account's state refused (MailError), a fenced
 * writer, a mailstore that is not the primary, a full actor mailbox. OUTCOME_UNKNOWN, timeouts,
 * append failures and unknown errors are not among them.
 */
const NOT_APPENDED: ReadonlySet<string> = new Set(["FENCED", "NOT_PRIMARY", "MAILBOX_FULL"]);

export function certainlyNotAppended(e: unknown): boolean {
  if (isMailError(e)) return true;
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === "string" && NOT_APPENDED.has(code);
}
