// At most `max` expensive requests at once in this process; one more is refused BUSY at once
// rather than queued, so a burst cannot pile up work (and memory) behind the running ones.
import { AppError } from "../../src/jsonrpc/index.js";

export class ExpensiveGate {
  private running = 0;

  constructor(
    readonly max: number,
    /** the setting that sets max, named in the refusal */
    private readonly setting = "limits.maxConcurrentExpensive",
  ) {}

  /** Requests running now. */
  get active(): number {
    return this.running;
  }

  async run<T>(what: string, fn: () => T | Promise<T>): Promise<Awaited<T>> {
    if (this.running >= this.max) {
      throw new AppError(
        "BUSY",
        `busy: ${this.running} expensive requests are running (${this.setting} = ${this.max}), so ${what} was not started; retry after they end; nothing was changed`,
        {
          method: what,
          running: this.running,
          limit: this.max,
          setting: this.setting,
        },
      );
    }
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
    }
  }
}
