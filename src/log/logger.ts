// The one logger of a process, built on pino: JSON lines with time, level, role, host, the
// event's fields and its message.
import { pino, type DestinationStream } from "pino";
import { prettyLine } from "./pretty.js";
import type { LogLevel, Logger, LoggerOptions } from "./types.js";

/**
 * Fields that could carry a secret or a body are censored even if a caller passes them by
 * mistake; callers never should (LogFields).
 */
const REDACT = ["password", "seed", "secret", "token", "body", "raw", "nkey", "creds"].flatMap((k) => [k, `*.${k}`]);

// JSON leaves DEL, the C1 controls and the Unicode line and paragraph separators as they are;
// inside a JSON string (the only place they can be) they are written as \u escapes (\u2028), so no reader
// that splits on them, and no terminal, sees a second line.
const UNESCAPED = /[\u007f-\u009f\u2028\u2029]/g;
function oneLine(line: string): string {
  const body = line.endsWith("\n") ? line.slice(0, -1) : line;
  return body.replace(UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function stderrSink(): (line: string) => void {
  const tty = process.stderr.isTTY === true;
  return (line) => void process.stderr.write(`${tty ? prettyLine(line) : line}\n`);
}

export { withoutCredentials } from "../text/url_credentials.js";

/** A logger writing one JSON line per event to `opts.sink` (default: standard error). */
export function createLogger(opts: LoggerOptions): Logger {
  const sink = opts.sink ?? stderrSink();
  const stream: DestinationStream = { write: (s: string) => sink(oneLine(s)) };
  const level: LogLevel = opts.level ?? "info";
  return pino(
    {
      level,
      base: { role: opts.role, host: opts.host },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: "[redacted]" },
      serializers: { err: pino.stdSerializers.err },
    },
    stream,
  ) as unknown as Logger;
}

/** A logger that drops everything (for parts used without a process around them). */
export const silentLogger: Logger = pino({ level: "silent" }) as unknown as Logger;
