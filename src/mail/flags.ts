import { MailError } from "./errors.js";

/** IMAP system flags we keep in an item's `flags`; anything else is a keyword (tag). */
export const SYSTEM_FLAGS: readonly string[] = ["answered", "draft", "flagged", "seen"];

const SYSTEM_FLAG_SET: ReadonlySet<string> = new Set(SYSTEM_FLAGS);
const KEYWORD = /^[A-Za-z0-9_$-]{1,64}$/;

export interface NormalizedFlags {
  /** System flags, sorted, unique. */
  flags: string[];
  /** Keywords, lower-case, sorted, unique. */
  tags: string[];
}

/**
 * Splits requested flags into system flags and keywords, both lower-case, sorted and unique,
 * so equal requests give byte-equal events. Throws MailError INVALID_FLAG naming the first bad
 * keyword.
 */
export function normalizeFlags(input: string[]): NormalizedFlags {
  const flags = new Set<string>();
  const tags = new Set<string>();
  for (const raw of input) {
    if (typeof raw !== "string" || !KEYWORD.test(raw)) {
      throw new MailError(
        "INVALID_FLAG",
        `invalid flag ${JSON.stringify(raw)}: use one of ${SYSTEM_FLAGS.join(", ")} or a keyword of 1 to 64 characters from A-Z, a-z, 0-9, '_', '$', '-'`,
        { flag: raw },
      );
    }
    const flag = raw.toLowerCase();
    (SYSTEM_FLAG_SET.has(flag) ? flags : tags).add(flag);
  }
  return { flags: [...flags].sort(), tags: [...tags].sort() };
}
