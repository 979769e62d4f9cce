// The contract every mailreplica process logs through: one event, one JSON line.

/** Levels, lowest first; a logger drops events below its level. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What an event is about, as fields (account, accountId, seq, epoch, operationId, code,
 * destination, error...). Values that came from a request go here, never into the message
 * text: the JSON encoding keeps each on its line whatever it holds. Never a secret (a
 * password, a seed, a key) nor a message body.
 */
export type LogFields = Record<string, unknown>;

export interface LogFn {
  (fields: LogFields, msg: string): void;
  (msg: string): void;
}

/** A structured logger (pino's shape): `log.info({ account, epoch }, "promoted here")`. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger whose every event also carries `bindings` (e.g. `{ account }`). */
  child(bindings: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** "mailstore" or "supervisor": the `role` field of every line. */
  role: string;
  /** This process's host name: the `host` field of every line. */
  host: string;
  /** Default "info". */
  level?: LogLevel;
  /**
   * Gets each event as one JSON line (no trailing newline). Default: standard error, as JSON
   * lines, or as pretty text when standard error is a terminal.
   */
  sink?: (line: string) => void;
}
