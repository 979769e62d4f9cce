import { MailError } from "./errors.js";

/** Limits of a folder path; Carbonio accepts at least these. */
export const MAX_FOLDER_SEGMENT_CHARS = 128;
export const MAX_FOLDER_DEPTH = 16;

const CONTROL_CHAR = /\p{Cc}/u;

function invalid(path: unknown, why: string): MailError {
  return new MailError(
    "INVALID_FOLDER_PATH",
    `invalid folder path ${JSON.stringify(path)}: ${why}; a path is 1 to ${MAX_FOLDER_DEPTH} segments separated by '/', ` +
      `each 1 to ${MAX_FOLDER_SEGMENT_CHARS} characters without control characters, e.g. 'Inbox' or 'Archive/2026'`,
    { path },
  );
}

/**
 * Checks a folder path and returns its canonical form: Unicode NFC, without the one leading
 * '/' Zimbra-style absolute paths carry. Throws MailError INVALID_FOLDER_PATH otherwise.
 */
export function validateFolderPath(path: string): string {
  if (typeof path !== "string") throw invalid(path, "not a string");
  const body = (path.startsWith("/") ? path.slice(1) : path).normalize("NFC");
  if (body.length === 0) throw invalid(path, "empty");
  const segments = body.split("/");
  if (segments.length > MAX_FOLDER_DEPTH) throw invalid(path, `${segments.length} segments deep`);
  for (const seg of segments) {
    if (seg.length === 0) throw invalid(path, "empty segment (a doubled or trailing '/')");
    // Count code points, not UTF-16 units, so the limit means the same in every language.
    if ([...seg].length > MAX_FOLDER_SEGMENT_CHARS) throw invalid(path, `segment '${seg.slice(0, 20)}…' is longer than ${MAX_FOLDER_SEGMENT_CHARS} characters`);
    if (CONTROL_CHAR.test(seg)) throw invalid(path, "contains a control character");
  }
  return body;
}

/**
 * The key that makes folder paths unique case-insensitively. Upper case rather than lower:
 * JavaScript's toUpperCase is context-free (Greek final sigma folds like any sigma), so the
 * key of `parent/child` is always key(parent) + '/' + key(child) and a subtree is a key prefix.
 */
export function folderPathKey(canonicalPath: string): string {
  return canonicalPath.toUpperCase();
}

/** The parent's path, or undefined for a top-level folder. */
export function parentPath(canonicalPath: string): string | undefined {
  const cut = canonicalPath.lastIndexOf("/");
  return cut < 0 ? undefined : canonicalPath.slice(0, cut);
}

/** The last segment of a path. */
export function leafName(canonicalPath: string): string {
  return canonicalPath.slice(canonicalPath.lastIndexOf("/") + 1);
}
