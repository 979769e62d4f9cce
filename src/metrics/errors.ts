// Why the metrics endpoint could not start. Callers branch on `code`; the message says what to do.

export type MetricsErrorCode =
  /** the address of metrics.listen could not be bound (in use, not local, no permission) */
  "METRICS_LISTEN_FAILED";

export class MetricsError extends Error {
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "MetricsError";
  }
}
