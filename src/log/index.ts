export { createLogger, silentLogger, withoutCredentials } from "./logger.js";
export { prettyLine } from "./pretty.js";
export { LOG_LEVELS, type LogFields, type LogLevel, type Logger, type LoggerOptions } from "./types.js";
export { supervisionLogger } from "./supervision.js";
