// A task that runs every `everyMs` on an injected clock, never overlapping itself: the next
// run is scheduled only when the previous one has ended (a slow round delays, never doubles).
import type { Clock, TimerHandle } from "./clock.js";

export class PeriodicTask {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly run: () => Promise<unknown>,
    /** told about a failed round; the next round runs as planned */
    private readonly onError: (error: Error) => void,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the rounds (the first after `everyMs`); a second start is a no-op. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** No round starts after this; one already under way finishes. */
  stop(): void {
    this.running = false;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimer(() => {
      void this.run()
        .catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))))
        .finally(() => this.schedule());
    }, this.everyMs);
  }
}
