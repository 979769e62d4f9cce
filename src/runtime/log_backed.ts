// A log-backed (event-sourced) actor: its state is what its JetStream subject says.
//
// - Group commit: every queued command is decided at once and costs one append.
// - Log first: state changes and replies happen only after JetStream acknowledged the append.
// - Fencing: each append states the last seq this writer knows; "wrong last sequence" means
//   another writer exists, so the actor stops writing for good (FencedError) and tells its
//   behaviour, which reads the log and steps down.
// - Recovery: at (re)start it replays the subject from the behaviour's applied seq + 1.
//   An append whose outcome is unknown (every retry timed out) fails the actor, and the
//   restart's replay settles what the log holds.
import type { Actor, Settled } from "./types.js";
import { FencedError, LogAppendError } from "./errors.js";
import type { SubjectLog } from "./subject_log.js";

/** The outcome of deciding one command against the current state. */
export type Decision<E, R> = { ok: true; events: E[]; reply: R } | { ok: false; error: unknown };

export interface LogBackedBehavior<C, E, L, R> {
  /** The last seq already reflected in the state (replay starts after it). */
  appliedSeq(): number;
  /** Decides the commands in order against the current state, each seeing the earlier ones. Must not change the state. */
  decide(commands: C[]): Decision<E, R>[];
  /**
   * Wraps the events of one batch into a log entry (adds writer, epoch, time...). `prevSeq`
   * is the seq this entry follows on the subject (the server refuses it otherwise), so a
   * reader can tell a gap from a duplicate.
   */
  toEntry(events: E[], prevSeq: number): L;
  encode(entry: L): Uint8Array;
  /** Throws on an entry that cannot be read; recovery then fails and the supervisor sees it. */
  decode(data: Uint8Array, seq: number): L | Promise<L>;
  /** Applies one stored entry; must be idempotent by seq (replay may repeat the last one). */
  apply(entry: L, seq: number): void | Promise<void>;
  /** Nats-Msg-Id part naming this writer and epoch; the id is `<subject>:<prefix>:<expected seq>`. */
  msgIdPrefix(): string;
  /** Called once when the actor learns it is fenced; e.g. catch up on the log and demote. */
  onFenced?(error: FencedError): void | Promise<void>;
}

export interface LogBackedOptions {
  /** append attempts with the same msgId before the outcome is declared unknown; default 3 */
  appendAttempts?: number;
  /** per attempt; default 5_000 ms */
  appendTimeoutMs?: number;
}

export class LogBackedActor<C, E, L, R> implements Actor<C, R> {
  private expectedSeq = 0;
  private fenced: FencedError | undefined;
  /** appends that were acknowledged (for metrics and group-commit checks) */
  appends = 0;

  constructor(
    private readonly log: SubjectLog,
    private readonly behavior: LogBackedBehavior<C, E, L, R>,
    private readonly opts: LogBackedOptions = {},
  ) {}

  get lastSeq(): number {
    return this.expectedSeq;
  }

  get isFenced(): boolean {
    return this.fenced !== undefined;
  }

  async preStart(): Promise<void> {
    await this.recover();
  }

  /** Replays every entry after the behaviour's applied seq. */
  async recover(): Promise<void> {
    this.expectedSeq = this.behavior.appliedSeq();
    for await (const e of this.log.read(this.expectedSeq + 1)) {
      await this.behavior.apply(await this.behavior.decode(e.data, e.seq), e.seq);
      this.expectedSeq = e.seq;
    }
  }

  async receiveBatch(commands: C[]): Promise<Settled<R>[]> {
    if (this.fenced) return commands.map(() => ({ ok: false, error: this.fenced }));
    const decisions = this.behavior.decide(commands);
    const events: E[] = [];
    for (const d of decisions) if (d.ok) events.push(...d.events);
    if (events.length === 0) return decisions.map(settleWithoutAppend);

    const entry = this.behavior.toEntry(events, this.expectedSeq);
    const data = this.behavior.encode(entry);
    // Dedup is stream-wide, so the id names the subject; the expected seq makes a retry of this
    // very append carry the same id.
    const msgId = `${this.log.subject}:${this.behavior.msgIdPrefix()}:${this.expectedSeq}`;
    let seq: number;
    try {
      seq = await this.appendWithRetry(data, msgId);
    } catch (err) {
      if (err instanceof FencedError) {
        this.fenced = err;
        await this.behavior.onFenced?.(err);
        return decisions.map((d) => (d.ok ? { ok: false, error: err } : { ok: false, error: d.error }));
      }
      // Outcome unknown: fail the actor; the restart replays whatever the log holds.
      throw err;
    }
    this.expectedSeq = seq;
    this.appends++;
    await this.behavior.apply(entry, seq);
    return decisions.map((d) => (d.ok ? { ok: true, value: d.reply } : { ok: false, error: d.error }));
  }

  private async appendWithRetry(data: Uint8Array, msgId: string): Promise<number> {
    const attempts = this.opts.appendAttempts ?? 3;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const r = await this.log.append(data, {
          expectedLastSeq: this.expectedSeq,
          msgId,
          timeoutMs: this.opts.appendTimeoutMs ?? 5_000,
        });
        return r.seq;
      } catch (e) {
        if (e instanceof FencedError) throw e;
        last = e;
      }
    }
    throw last instanceof LogAppendError ? last : new LogAppendError(this.log.subject, String(last));
  }
}

function settleWithoutAppend<E, R>(d: Decision<E, R>): Settled<R> {
  return d.ok ? { ok: true, value: d.reply } : { ok: false, error: d.error };
}
