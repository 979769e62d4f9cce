// The actor system: top-level actors, the registry of paths, and the supervision event feed.
import { ActorCell, type CellHost } from "./actor_cell.js";
import { systemClock, type Clock } from "./clock.js";
import type { ActorRef, Props, SupervisionEvent } from "./types.js";

export interface ActorSystemOptions {
  /** name used as the root of every path; default "mr" */
  name?: string;
  /** default: the real clock */
  clock?: Clock;
}

export class ActorSystem {
  readonly name: string;
  readonly clock: Clock;
  private readonly cells = new Map<string, ActorCell<unknown, unknown>>();
  private readonly listeners = new Set<(e: SupervisionEvent) => void>();
  /** actors that escalated with no parent above them: they stay stopped, the rest runs on */
  readonly escalations: Array<{ actor: string; error: unknown }> = [];
  private readonly host: CellHost;

  constructor(opts: ActorSystemOptions = {}) {
    this.name = opts.name ?? "mr";
    this.clock = opts.clock ?? systemClock();
    this.host = {
      clock: this.clock,
      emit: (e) => {
        for (const l of this.listeners) l(e);
      },
      topLevelEscalation: (cell, error) => {
        this.escalations.push({ actor: cell.path, error });
      },
      register: (cell) => {
        this.cells.set(cell.path, cell);
      },
      unregister: (path) => {
        this.cells.delete(path);
      },
    };
  }

  /** Starts a top-level actor at `/<system>/<name>`. */
  spawn<M, R>(name: string, props: Props<M, R>): ActorRef<M, R> {
    if (!/^[A-Za-z0-9_.:@-]+$/.test(name)) throw new Error(`actor name '${name}' is not allowed: use letters, digits and _ . : @ -`);
    const path = `/${this.name}/${name}`;
    if (this.cells.has(path)) throw new Error(`actor ${path} already exists`);
    return new ActorCell<M, R>(path, props, this.host, undefined).ref;
  }

  /** The running actor at `path`, if any. */
  lookup<M = unknown, R = unknown>(path: string): ActorRef<M, R> | undefined {
    return this.cells.get(path)?.ref as ActorRef<M, R> | undefined;
  }

  /**
   * Stops one actor (and its children): queued messages are refused, the one being handled
   * is waited for (up to `inFlightTimeoutMs`, default 30 s).
   */
  async stop(ref: ActorRef<unknown, unknown> | string, inFlightTimeoutMs?: number): Promise<void> {
    const path = typeof ref === "string" ? ref : ref.path;
    await this.cells.get(path)?.stop("stopped", inFlightTimeoutMs);
  }

  /** Messages waiting in every actor's mailbox (children included), e.g. for a depth gauge. */
  queuedMessages(): number {
    let n = 0;
    for (const c of this.cells.values()) n += c.queued;
    return n;
  }

  /** Number of running actors. */
  get actorCount(): number {
    return this.cells.size;
  }

  /** Subscribes to supervision events; returns the unsubscribe function. */
  onEvent(listener: (e: SupervisionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops every actor. Work under way (a batch being appended and applied) finishes first, up
   * to `inFlightTimeoutMs` (default 30 s), so no caller gets an error for a write that was
   * stored; queued messages that never started are refused (ActorStoppedError, safe to retry).
   */
  async shutdown(opts: { inFlightTimeoutMs?: number } = {}): Promise<void> {
    const tops = [...this.cells.values()].filter((c) => c.path.split("/").length === 3);
    await Promise.all(tops.map((c) => c.stop("stopped", opts.inFlightTimeoutMs)));
  }
}
