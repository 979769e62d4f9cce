// Counters of one endpoint, as STATS reports them.
import type { EndpointConfig, EndpointInfo, EndpointRecorder, EndpointStats } from "./types.js";

export class EndpointCounters implements EndpointRecorder {
  private requests = 0;
  private errors = 0;
  private lastError = "";
  private totalNs = 0;

  constructor(readonly config: Readonly<EndpointConfig>) {}

  record(elapsedNs: number, error?: string): void {
    this.requests++;
    // A clock that went backwards must not make the sum shrink.
    this.totalNs += Math.max(0, Math.round(elapsedNs));
    if (error !== undefined) {
      this.errors++;
      this.lastError = error;
    }
  }

  info(): EndpointInfo {
    const { name, subject, queueGroup, metadata } = this.config;
    return { name, subject, ...(queueGroup ? { queue_group: queueGroup } : {}), metadata: { ...(metadata ?? {}) } };
  }

  stats(): EndpointStats {
    const { name, subject, queueGroup } = this.config;
    return {
      name,
      subject,
      ...(queueGroup ? { queue_group: queueGroup } : {}),
      num_requests: this.requests,
      num_errors: this.errors,
      last_error: this.lastError,
      processing_time: this.totalNs,
      average_processing_time: this.requests ? Math.round(this.totalNs / this.requests) : 0,
    };
  }
}
