// Contracts of the actor runtime. Nothing here knows about mail.
import type { Clock } from "./clock.js";

/** What a supervisor does with a failed actor (Proto.Actor / Akka directives). */
export type Directive =
  /** keep the instance and its state, go on with the next message */
  | "resume"
  /** replace the instance (new state from the producer), after a backoff */
  | "restart"
  /** stop the actor; queued and later messages are refused */
  | "stop"
  /** the parent fails too: its own supervisor decides for it */
  | "escalate";

/** How failures of an actor are handled. */
export interface SupervisorStrategy {
  /** chooses the directive for an error; default: always "restart" */
  decider?: (error: unknown) => Directive;
  /** restarts allowed within `withinMs` before the failure escalates; default 5 */
  maxRestarts?: number;
  /** window for `maxRestarts`; default 10_000 ms */
  withinMs?: number;
  /** first restart delay; doubles per restart in the window up to maxBackoffMs; default 10 ms */
  minBackoffMs?: number;
  /** default 1_000 ms */
  maxBackoffMs?: number;
}

export function defaultSupervisorStrategy(): Required<SupervisorStrategy> {
  return { decider: () => "restart", maxRestarts: 5, withinMs: 10_000, minBackoffMs: 10, maxBackoffMs: 1_000 };
}

/** A settled result for one message of a batch. */
export type Settled<R = unknown> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * An actor handles one message at a time. `receive` returns the reply to an ask (ignored for
 * tell). A throw is a failure: the asker gets the error and the supervisor decides what
 * happens to the actor.
 */
export interface Actor<M = unknown, R = unknown> {
  receive?(message: M, ctx: ActorContext<M>): R | Promise<R>;
  /**
   * Group handling: when present, the runtime hands over every queued message (up to
   * `Props.maxBatch`) at once and replies to each with its settled result. A throw fails all
   * of them. Used by log-backed actors for group commit.
   */
  receiveBatch?(messages: M[], ctx: ActorContext<M>): Promise<Settled<R>[]>;
  /** runs before the first message, also after each restart */
  preStart?(ctx: ActorContext<M>): void | Promise<void>;
  /** runs when the actor stops or before a restart replaces it */
  postStop?(ctx: ActorContext<M>): void | Promise<void>;
}

export interface Props<M = unknown, R = unknown> {
  /** makes a fresh instance: at start and at each restart */
  producer: () => Actor<M, R>;
  /** bounded mailbox; a full mailbox refuses with MailboxFullError; default 1_000 */
  mailboxCapacity?: number;
  /** messages handed to receiveBatch at once; default 512 */
  maxBatch?: number;
  /** how this actor's failures are handled; defaults from defaultSupervisorStrategy() */
  supervisor?: SupervisorStrategy;
}

/** Address of a running actor. */
export interface ActorRef<M = unknown, R = unknown> {
  readonly path: string;
  /** fire and forget; throws MailboxFullError / ActorStoppedError when refused */
  tell(message: M): void;
  /** request/reply; rejects with AskTimeoutError after `timeoutMs` (default 5_000) */
  ask(message: M, timeoutMs?: number): Promise<R>;
}

/** What an actor may do while handling a message. */
export interface ActorContext<M = unknown> {
  readonly self: ActorRef<M>;
  readonly path: string;
  readonly clock: Clock;
  /** starts a child supervised by this actor; children stop with their parent */
  spawn<CM, CR>(name: string, props: Props<CM, CR>): ActorRef<CM, CR>;
  /** stops this actor after the current message */
  stopSelf(): void;
}

/** One supervision decision or lifecycle step, for logs and metrics. */
export interface SupervisionEvent {
  actor: string;
  /** "stopping": a stop waits for the message (or batch) being handled before it stops the actor */
  kind: "started" | "failed" | "restarted" | "stopping" | "stopped" | "escalated" | "resumed";
  directive?: Directive;
  error?: unknown;
  restarts?: number;
  at: number;
}
