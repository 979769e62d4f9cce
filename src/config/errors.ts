// Configuration errors. Callers branch on `code`; the message is for the operator.
import type { ConfigProblem } from "./types.js";
import { CodedError } from "../errors/index.js";

export type ConfigErrorCode =
  /** one or more values are wrong (file, environment, overrides); see `problems` */
  | "CONFIG_INVALID"
  /** the config file is missing or cannot be read */
  | "CONFIG_FILE_UNREADABLE"
  /** the config file is not valid JSON, or not a JSON object */
  | "CONFIG_FILE_NOT_JSON";

export class ConfigError extends CodedError<ConfigErrorCode> {
  constructor(
    code: ConfigErrorCode,
    message: string,
    /** Every problem found (only for CONFIG_INVALID), so all can be fixed in one go. */
    readonly problems: readonly ConfigProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** One problem as a line: `jetstream.replicas (from MR_JS_REPLICAS): got 2; allowed: 1 or 3`. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.path}${p.source ? ` (from ${p.source})` : ""}: ${p.problem}; allowed: ${p.allowed}`;
}

/** The CONFIG_INVALID error for a non-empty list of problems. */
export function invalidConfig(problems: readonly ConfigProblem[]): ConfigError {
  const n = problems.length;
  const lines = [
    `invalid configuration (${n} problem${n === 1 ? "" : "s"}):`,
    ...problems.map((p) => `  - ${formatProblem(p)}`),
    "Fix the values above (config file, MR_* environment variables or command-line options), then check with 'mailreplica config check'.",
  ];
  return new ConfigError("CONFIG_INVALID", lines.join("\n"), problems);
}
