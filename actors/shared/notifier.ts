// Notifications to the Global Admin (docs/architecture.md, Directory and operations): published on MR_NOTIFY as
// `mr.notify.<kind>` with a JSON body; the REPL prints them live.
import type { JetStreamClient } from "@nats-io/jetstream";
import { silentLogger, type Logger } from "../../src/log/index.js";

export interface Notification {
  kind: string;
  at: number;
  from: string;
  [field: string]: unknown;
}

export class Notifier {
  constructor(
    private readonly js: JetStreamClient,
    private readonly from: string,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Publishes without blocking the caller; a failure is logged, never thrown. */
  notify(kind: string, payload: Record<string, unknown>): void {
    void this.publish(kind, payload).catch((e) => this.log.warn({ kind, error: (e as Error).message }, "notification not published"));
  }

  async publish(kind: string, payload: Record<string, unknown>): Promise<void> {
    const n: Notification = { kind, at: Date.now(), from: this.from, ...payload };
    await this.js.publish(`mr.notify.${kind}`, JSON.stringify(n));
  }
}
