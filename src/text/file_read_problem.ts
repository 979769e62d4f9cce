// Why a file could not be read, in the operator's words rather than Node's errno codes, so every
// "this file cannot be used" message (config, NATS credentials, input_file, licence, REPL
// history) says the same thing the same way. Each caller adds what the file is for and what
// to do next, and throws its own error class.

/** The errno code of a Node system error (ENOENT, EACCES...); undefined for anything else. */
export function errnoCode(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/** What is wrong with a file, for each errno code an operator can fix; the rest are named. */
const REASONS = new Map<string, string>([
  ["ENOENT", "does not exist"],
  ["EISDIR", "is a folder"],
  ["ENOTDIR", "cannot be reached (a part of its path is a file, not a folder)"],
  ["EACCES", "is not readable by this process (permission denied)"],
  ["EPERM", "is not readable by this process (permission denied)"],
]);

/**
 * `file` and why reading it failed: "/etc/x.json does not exist", "... is a folder",
 * "... cannot be read (EIO)". Meant to follow the file's role and precede the fix:
 * `${role} ${fileReadProblem(file, e)}; ${what to do}`.
 */
export function fileReadProblem(file: string, error: unknown): string {
  const code = errnoCode(error);
  const reason = code !== undefined ? REASONS.get(code) : undefined;
  return `${file} ${reason ?? `cannot be read (${code ?? (error instanceof Error ? error.message : String(error))})`}`;
}
