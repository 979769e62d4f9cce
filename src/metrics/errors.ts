// Why the metrics endpoint could not start. Callers branch on `code`; the message says what to do.
import { CodedError } from "../errors/index.js";

export type MetricsErrorCode =
  /** the address of metrics.listen could not be bound (in use, not local, no permission) */
  "METRICS_LISTEN_FAILED";

export class MetricsError extends CodedError<MetricsErrorCode> {}
