// The running home of one actor: its mailbox, its instance, its children, and the handling
// of its failures. Messages are handled strictly one at a time (or one batch at a time).
import type { Clock, TimerHandle } from "./clock.js";
import { ActorStoppedError, AskTimeoutError, MailboxFullError } from "./errors.js";
import { BoundedQueue } from "./mailbox.js";
import {
  defaultSupervisorStrategy,
  type Actor,
  type ActorContext,
  type ActorRef,
  type Directive,
  type Props,
  type Settled,
  type SupervisionEvent,
  type SupervisorStrategy,
} from "./types.js";

interface Envelope<M> {
  message: M;
  reply?: { resolve(v: unknown): void; reject(e: unknown): void };
}

export interface CellHost {
  clock: Clock;
  emit(event: SupervisionEvent): void;
  /** an actor without parent escalated: the system records it and the actor stays stopped */
  topLevelEscalation(cell: ActorCell<unknown, unknown>, error: unknown): void;
  unregister(path: string): void;
  register(cell: ActorCell<unknown, unknown>): void;
}

type CellState = "running" | "restarting" | "stopped";

/** How long a stop waits for the message being handled; default of stop(). */
export const DEFAULT_IN_FLIGHT_TIMEOUT_MS = 30_000;

export class ActorCell<M, R> {
  readonly ref: ActorRef<M, R>;
  private readonly mailbox: BoundedQueue<Envelope<M>>;
  private readonly strategy: Required<SupervisorStrategy>;
  private readonly children = new Map<string, ActorCell<unknown, unknown>>();
  private instance: Actor<M, R> | undefined;
  private state: CellState = "running";
  private busy = false;
  private started: Promise<void> | undefined;
  private restartTimes: number[] = [];
  private restartTimer: TimerHandle | undefined;
  private stopRequested = false;
  /** the message (or batch) being handled, until its callers are answered */
  private inFlight: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly ctx: ActorContext<M>;

  /** messages waiting in the mailbox (not the one being handled) */
  get queued(): number {
    return this.mailbox.size;
  }

  constructor(
    readonly path: string,
    private readonly props: Props<M, R>,
    private readonly host: CellHost,
    private readonly parent: ActorCell<unknown, unknown> | undefined,
  ) {
    this.mailbox = new BoundedQueue(props.mailboxCapacity ?? 1_000);
    this.strategy = { ...defaultSupervisorStrategy(), ...stripUndefined(props.supervisor ?? {}) };
    const cell = this;
    this.ref = {
      path,
      tell: (message: M) => cell.enqueue({ message }),
      ask: (message: M, timeoutMs = 5_000) =>
        new Promise<R>((resolve, reject) => {
          const timer = host.clock.setTimer(() => reject(new AskTimeoutError(path, timeoutMs)), timeoutMs);
          cell.enqueue({
            message,
            reply: {
              resolve: (v) => {
                host.clock.clearTimer(timer);
                resolve(v as R);
              },
              reject: (e) => {
                host.clock.clearTimer(timer);
                reject(e);
              },
            },
          });
        }),
    };
    this.ctx = {
      self: this.ref,
      path,
      clock: host.clock,
      spawn: (name, childProps) => this.spawnChild(name, childProps),
      stopSelf: () => {
        this.stopRequested = true;
      },
    };
    host.register(this as ActorCell<unknown, unknown>);
    this.startInstance();
  }

  get mailboxSize(): number {
    return this.mailbox.size;
  }

  get isStopped(): boolean {
    return this.state === "stopped";
  }

  private enqueue(env: Envelope<M>): void {
    if (this.state === "stopped") {
      const err = new ActorStoppedError(this.path);
      if (env.reply) return env.reply.reject(err);
      throw err;
    }
    if (!this.mailbox.offer(env)) {
      const err = new MailboxFullError(this.path, this.mailbox.capacity);
      if (env.reply) return env.reply.reject(err);
      throw err;
    }
    this.schedule();
  }

  private spawnChild<CM, CR>(name: string, props: Props<CM, CR>): ActorRef<CM, CR> {
    if (this.children.has(name)) throw new Error(`actor ${this.path}/${name} already exists`);
    const child = new ActorCell<CM, CR>(`${this.path}/${name}`, props, this.host, this as ActorCell<unknown, unknown>);
    this.children.set(name, child as ActorCell<unknown, unknown>);
    return child.ref;
  }

  private startInstance(): void {
    this.instance = this.props.producer();
    const inst = this.instance;
    this.started = (async () => {
      await inst.preStart?.(this.ctx);
    })();
    this.started.then(
      () => {
        this.host.emit({ actor: this.path, kind: "started", at: this.host.clock.now() });
        this.schedule();
      },
      (err) => this.fail(err),
    );
  }

  private schedule(): void {
    if (this.busy || this.state !== "running" || this.mailbox.size === 0) return;
    this.busy = true;
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      await this.started;
    } catch {
      this.busy = false;
      return; // fail() already handles it
    }
    while (this.state === "running" && this.mailbox.size > 0) {
      // A stop during the turn waits for it (see stop()), so callers of work that is under
      // way get their real answers.
      const turn = this.handleNext(this.instance!);
      this.inFlight = turn.then(() => {});
      const failure = await turn;
      this.inFlight = undefined;
      if (failure) {
        this.busy = false;
        this.fail(failure.error);
        return;
      }
      if (this.stopRequested) {
        this.busy = false;
        await this.stop();
        return;
      }
    }
    this.busy = false;
  }

  /** Handles the next message (or batch) and answers its callers; a throw is returned as a failure. */
  private async handleNext(inst: Actor<M, R>): Promise<{ error: unknown } | undefined> {
    if (inst.receiveBatch) {
      const batch = this.mailbox.take(this.props.maxBatch ?? 512);
      let results: Settled<R>[];
      try {
        results = await inst.receiveBatch(
          batch.map((e) => e.message),
          this.ctx,
        );
      } catch (err) {
        for (const e of batch) e.reply?.reject(err);
        return { error: err };
      }
      batch.forEach((e, i) => {
        const r = results[i];
        if (!e.reply) return;
        if (!r) e.reply.reject(new Error(`actor ${this.path} returned no result for message ${i}`));
        else if (r.ok) e.reply.resolve(r.value);
        else e.reply.reject(r.error);
      });
      return undefined;
    }
    const env = this.mailbox.shift()!;
    try {
      const value = await inst.receive!(env.message, this.ctx);
      env.reply?.resolve(value);
      return undefined;
    } catch (err) {
      env.reply?.reject(err);
      return { error: err };
    }
  }

  /** A failure of this actor: the supervision strategy decides. */
  fail(error: unknown): void {
    if (this.state === "stopped") return;
    const directive: Directive = safeDecide(this.strategy.decider, error);
    this.host.emit({ actor: this.path, kind: "failed", directive, error, at: this.host.clock.now() });
    switch (directive) {
      case "resume":
        this.host.emit({ actor: this.path, kind: "resumed", at: this.host.clock.now() });
        this.schedule();
        return;
      case "stop":
        void this.stop();
        return;
      case "escalate":
        this.escalate(error);
        return;
      case "restart":
        this.restart(error);
        return;
    }
  }

  private restart(error: unknown): void {
    const now = this.host.clock.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.strategy.withinMs);
    if (this.restartTimes.length >= this.strategy.maxRestarts) {
      this.escalate(error);
      return;
    }
    this.restartTimes.push(now);
    const n = this.restartTimes.length;
    const delay = Math.min(this.strategy.maxBackoffMs, this.strategy.minBackoffMs * 2 ** (n - 1));
    this.state = "restarting";
    const old = this.instance;
    void (async () => {
      await this.stopChildren();
      try {
        await old?.postStop?.(this.ctx);
      } catch {
        /* the instance is being replaced; its cleanup error changes nothing */
      }
      this.restartTimer = this.host.clock.setTimer(() => {
        this.restartTimer = undefined;
        if (this.state !== "restarting") return;
        this.state = "running";
        this.host.emit({ actor: this.path, kind: "restarted", restarts: n, at: this.host.clock.now() });
        this.startInstance();
      }, delay);
    })();
  }

  private escalate(error: unknown): void {
    this.host.emit({ actor: this.path, kind: "escalated", error, at: this.host.clock.now() });
    void this.stop(`stopped after too many failures`);
    if (this.parent) this.parent.fail(error);
    else this.host.topLevelEscalation(this as ActorCell<unknown, unknown>, error);
  }

  private async stopChildren(inFlightTimeoutMs = DEFAULT_IN_FLIGHT_TIMEOUT_MS): Promise<void> {
    const kids = [...this.children.values()];
    this.children.clear();
    await Promise.all(kids.map((c) => c.stop("stopped", inFlightTimeoutMs)));
  }

  /**
   * Stops the actor and its children. Queued messages are refused with ActorStoppedError (safe
   * to retry: they were never started); the message or batch being handled is waited for, up
   * to `inFlightTimeoutMs` (default 30 s), so its callers get their real answers. A second
   * call waits for the same stop.
   */
  stop(reason = "stopped", inFlightTimeoutMs = DEFAULT_IN_FLIGHT_TIMEOUT_MS): Promise<void> {
    this.stopping ??= this.stopNow(reason, inFlightTimeoutMs);
    return this.stopping;
  }

  private async stopNow(reason: string, inFlightTimeoutMs: number): Promise<void> {
    this.state = "stopped";
    if (this.restartTimer) this.host.clock.clearTimer(this.restartTimer);
    for (const env of this.mailbox.drain()) env.reply?.reject(new ActorStoppedError(this.path, reason));
    if (this.inFlight) {
      this.host.emit({ actor: this.path, kind: "stopping", at: this.host.clock.now() });
      await this.waitInFlight(this.inFlight, inFlightTimeoutMs);
    }
    await this.stopChildren(inFlightTimeoutMs);
    try {
      await this.instance?.postStop?.(this.ctx);
    } catch {
      /* stopping anyway */
    }
    this.host.unregister(this.path);
    this.parent?.children.delete(this.path.slice(this.path.lastIndexOf("/") + 1));
    this.host.emit({ actor: this.path, kind: "stopped", at: this.host.clock.now() });
  }

  /** Bounded: a handler that never ends must not keep its actor (and a shutdown) forever. */
  private async waitInFlight(turn: Promise<void>, timeoutMs: number): Promise<void> {
    let timer: TimerHandle | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = this.host.clock.setTimer(resolve, timeoutMs);
    });
    await Promise.race([turn, expired]);
    if (timer) this.host.clock.clearTimer(timer);
  }
}

function safeDecide(decider: (e: unknown) => Directive, error: unknown): Directive {
  try {
    return decider(error);
  } catch {
    return "escalate";
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
