// SIGINT / SIGTERM as an AbortSignal: `dev` checks it between start-up steps and waits on it
// while running, so a stop request at any moment still stops everything in order.

export class StopSignal {
  private readonly ac = new AbortController();
  private readonly handler = (sig: NodeJS.Signals): void => {
    this.received ??= sig;
    this.ac.abort();
  };
  /** The first signal received. */
  received: NodeJS.Signals | undefined;

  constructor() {
    process.on("SIGINT", this.handler);
    process.on("SIGTERM", this.handler);
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  get requested(): boolean {
    return this.ac.signal.aborted;
  }

  /** Resolves when a stop is requested; keeps the process alive meanwhile (a signal handler alone does not). */
  wait(): Promise<void> {
    if (this.requested) return Promise.resolve();
    const keepAlive = setInterval(() => {}, 1 << 30);
    return new Promise((resolve) =>
      this.ac.signal.addEventListener(
        "abort",
        () => {
          clearInterval(keepAlive);
          resolve();
        },
        { once: true },
      ),
    );
  }

  /** Asks for a stop from inside (e.g. the REPL ended). */
  trigger(): void {
    this.ac.abort();
  }

  dispose(): void {
    process.off("SIGINT", this.handler);
    process.off("SIGTERM", this.handler);
  }
}
