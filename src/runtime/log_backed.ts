// A log-backed (event-sourced) actor: its state is what its JetStream subject says.
//
// - Group commit: every queued command is decided at once and costs one append.
// - Log first: state changes and replies happen only after JetStream acknowledged the append.
// - Each batch is named by its content (Nats-Msg-Id = digest of its bytes): a retry of the
//   batch is deduplicated, a different batch is never taken for it.
// - Unknown outcome: when no attempt got a definite answer, the callers get OUTCOME_UNKNOWN
//   and the actor reads what the log holds before it decides anything again.
// - "Wrong last sequence": the actor reads the entries it had not seen. When they leave it
//   the writer (its own append that landed late), it decides the commands again against the
//   new state and appends after them; otherwise another writer exists and the actor stops
//   writing for good (FencedError) and tells its behaviour, which steps down.
// - Bounded appends: a batch whose entry is over the log's append limit (the server's
//   max_payload less the headers) is appended as several consecutive batches, each decided
//   again after the one before it; one command too large alone is refused alone.
// - Recovery: at (re)start it replays the subject from the behaviour's applied seq + 1.
import type { Actor, Settled } from "./types.js";
import { EntryTooLargeError, FencedError, LogAppendError, OutcomeUnknownError } from "./errors.js";
import { splitBySize } from "./batch_split.js";
import { contentDigest, contentMsgId, type SubjectLog } from "./subject_log.js";

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
  /**
   * Asked after "wrong last sequence", once the entries this writer had not seen are applied:
   * true when they leave it the log's writer (e.g. they are its own append that landed after
   * it gave up on it), so its commands are decided again and appended after them. False, or
   * absent, means another writer exists: the actor is fenced.
   */
  canWrite?(): boolean;
  /** Called once when the actor learns it is fenced; e.g. catch up on the log and demote. */
  onFenced?(error: FencedError): void | Promise<void>;
}

export interface LogBackedOptions {
  /** append attempts with the same msgId before the outcome is declared unknown; default 3 */
  appendAttempts?: number;
  /** per attempt; default 5_000 ms */
  appendTimeoutMs?: number;
  /** times a batch is decided again after the log moved under it by this writer's own entries; default 3 */
  redecideRounds?: number;
  /**
   * Told after each append of a group commit, with its outcome (for metrics). A throw is
   * ignored: observing never changes the write.
   */
  onAppend?: (report: AppendReport) => void;
}

/** One append of a group commit, as `onAppend` hears of it. */
export interface AppendReport {
  /** stored; fenced (another writer: "wrong last sequence"); refused (definitely not stored); unknown (may be stored) */
  outcome: "stored" | "fenced" | "refused" | "unknown";
  /** commands in the group commit (its size) */
  commands: number;
  /** from the first attempt to the last answer, retries included */
  ms: number;
}

/**
 * Bytes a group's entry may differ from the sum of its commands' measured parts: msgpack
 * length prefixes grow by at most 4 bytes for the events array and 8 for the entry's numbers
 * (prev seq); the encoded group is checked again anyway.
 */
const SPLIT_SLACK_BYTES = 64;

/** A batch's encoded bytes and their digest (its Msg-Id): computed once, sent on every attempt. */
interface PendingAppend {
  data: Uint8Array;
  digest: string;
  msgId: string;
}

export class LogBackedActor<C, E, L, R> implements Actor<C, R> {
  private expectedSeq = 0;
  private fenced: FencedError | undefined;
  /** an append's outcome was unknown: the log must be read before the next decision */
  private unsettled = false;
  /** the batch being appended had an attempt without a definite answer before its last one */
  private earlierAttemptUnknown = false;
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
    await this.catchUp();
  }

  /**
   * Applies the entries after the behaviour's applied seq; returns the seq at which an entry
   * with `pending`'s digest was found (that batch was stored after all), else undefined.
   */
  private async catchUp(pending?: PendingAppend): Promise<number | undefined> {
    this.expectedSeq = this.behavior.appliedSeq();
    let found: number | undefined;
    for await (const e of this.log.read(this.expectedSeq + 1)) {
      if (pending && found === undefined && contentDigest(e.data) === pending.digest) found = e.seq;
      await this.behavior.apply(await this.behavior.decode(e.data, e.seq), e.seq);
      this.expectedSeq = e.seq;
    }
    return found;
  }

  async receiveBatch(commands: C[]): Promise<Settled<R>[]> {
    if (this.fenced) return commands.map(() => ({ ok: false, error: this.fenced }));
    if (this.unsettled) {
      // The last append may have been stored: decide nothing before the log is read.
      await this.catchUp();
      this.unsettled = false;
    }
    return this.commit(commands);
  }

  /** Decides and appends `commands` as one entry, or as several when one would not fit in an append. */
  private async commit(commands: C[]): Promise<Settled<R>[]> {
    const rounds = this.opts.redecideRounds ?? 3;
    for (let round = 1; ; round++) {
      const decisions = this.behavior.decide(commands);
      const events: E[] = [];
      for (const d of decisions) if (d.ok) events.push(...d.events);
      if (events.length === 0) return decisions.map((d) => settle(d, undefined));

      const entry = this.behavior.toEntry(events, this.expectedSeq);
      const data = this.behavior.encode(entry);
      const limit = this.log.maxEntryBytes(this.expectedSeq);
      if (limit !== undefined && data.length > limit) return this.commitSplit(commands, decisions, data.length, limit);
      const digest = contentDigest(data);
      const pending: PendingAppend = { data, digest, msgId: contentMsgId(this.log.subject, digest) };
      let seq: number;
      const startedAt = performance.now();
      try {
        seq = await this.appendWithRetry(pending);
        this.report("stored", commands.length, startedAt);
      } catch (err) {
        this.report(err instanceof FencedError ? "fenced" : err instanceof OutcomeUnknownError ? "unknown" : "refused", commands.length, startedAt);
        if (err instanceof FencedError) {
          // Nothing of this attempt was stored; read what the log got instead.
          const storedAt = await this.catchUp(pending).catch((readError: unknown) => {
            // An earlier attempt that got no answer may be among the entries that could not be read.
            if (!this.earlierAttemptUnknown) throw readError;
            this.unsettled = true;
            throw new OutcomeUnknownError(
              this.log.subject,
              `an attempt got no answer, a later one found the log moved, and reading it failed (${(readError as Error)?.message ?? String(readError)})`,
              { cause: readError },
            );
          });
          const mayWrite = this.behavior.canWrite?.() === true;
          if (storedAt !== undefined) {
            // An earlier attempt of this very batch landed (and was just applied from the log).
            if (!mayWrite) await this.fence(err);
            return decisions.map((d) => settle(d, undefined));
          }
          if (mayWrite) {
            if (round < rounds) continue;
            const gaveUp = new LogAppendError(
              this.log.subject,
              `the log moved under this writer ${rounds} times in a row (its own late entries); nothing of this request was stored`,
            );
            return decisions.map((d) => settle(d, gaveUp));
          }
          await this.fence(err);
          return decisions.map((d) => settle(d, err));
        }
        if (err instanceof OutcomeUnknownError) this.unsettled = true;
        // Definitely not stored (LogAppendError) or maybe stored: nothing was applied here.
        return decisions.map((d) => settle(d, err));
      }
      this.expectedSeq = seq;
      this.appends++;
      await this.behavior.apply(entry, seq);
      return decisions.map((d) => settle(d, undefined));
    }
  }

  private report(outcome: AppendReport["outcome"], commands: number, startedAt: number): void {
    try {
      this.opts.onAppend?.({ outcome, commands, ms: performance.now() - startedAt });
    } catch {
      /* observing never fails a write */
    }
  }

  /**
   * A group commit whose entry is over the append limit: its commands are appended in
   * consecutive groups that fit, in order, each decided again against the state the groups
   * before it left (a group commit of its own, with the same exactly-once rules). A command
   * whose entry alone is too large is refused alone. Each caller hears its own group's outcome.
   */
  private async commitSplit(commands: C[], decisions: Decision<E, R>[], size: number, limit: number): Promise<Settled<R>[]> {
    if (commands.length === 1) return [settle(decisions[0]!, new EntryTooLargeError(this.log.subject, size, limit))];
    const base = this.behavior.encode(this.behavior.toEntry([], this.expectedSeq)).length;
    const parts = decisions.map((d) =>
      d.ok && d.events.length > 0 ? this.behavior.encode(this.behavior.toEntry(d.events, this.expectedSeq)).length - base : 0,
    );
    const out: Settled<R>[] = [];
    for (const group of splitBySize({ base, parts }, limit, SPLIT_SLACK_BYTES)) {
      const part = group.map((i) => commands[i]!);
      if (this.fenced) {
        out.push(...part.map((): Settled<R> => ({ ok: false, error: this.fenced })));
        continue;
      }
      try {
        if (this.unsettled) {
          // An earlier group's outcome is unknown: read the log before deciding the next one.
          await this.catchUp();
          this.unsettled = false;
        }
        out.push(...(await this.commit(part)));
      } catch (err) {
        // The groups before this one are stored and answered; this one and the rest are not
        // appended. The log is read again before the next decision (as a restart would).
        this.unsettled = true;
        out.push(...part.map((): Settled<R> => ({ ok: false, error: err })));
      }
    }
    return out;
  }

  /** Stops writing for good and tells the behaviour (once). */
  private async fence(err: FencedError): Promise<void> {
    if (this.fenced) return;
    this.fenced = err;
    await this.behavior.onFenced?.(err);
  }

  /**
   * Sends the same bytes (same Msg-Id) up to `appendAttempts` times. "Wrong last sequence"
   * ends it at once. When no attempt got a definite answer the outcome is unknown: any of
   * them may have been stored.
   */
  private async appendWithRetry(pending: PendingAppend): Promise<number> {
    const attempts = this.opts.appendAttempts ?? 3;
    let unknown: OutcomeUnknownError | undefined;
    let last: unknown;
    this.earlierAttemptUnknown = false;
    for (let i = 0; i < attempts; i++) {
      this.earlierAttemptUnknown = unknown !== undefined;
      try {
        const r = await this.log.append(pending.data, {
          expectedLastSeq: this.expectedSeq,
          msgId: pending.msgId,
          timeoutMs: this.opts.appendTimeoutMs ?? 5_000,
        });
        return r.seq;
      } catch (e) {
        if (e instanceof FencedError) throw e;
        if (e instanceof OutcomeUnknownError) unknown = e;
        last = e;
      }
    }
    // A refusal after an unanswered attempt does not undo that attempt: still unknown.
    if (unknown) {
      const refused = last instanceof OutcomeUnknownError ? "" : ` (the last one was refused: ${(last as Error)?.message ?? String(last)})`;
      const timeoutMs = this.opts.appendTimeoutMs ?? 5_000;
      throw new OutcomeUnknownError(this.log.subject, `no acknowledgement in ${attempts} attempts of ${timeoutMs} ms${refused}`, { cause: last });
    }
    throw last instanceof LogAppendError ? last : new LogAppendError(this.log.subject, String(last));
  }
}

/** A decision's result: its reply, its own refusal, or (for an accepted one) `failure` when the append failed. */
function settle<E, R>(d: Decision<E, R>, failure: unknown): Settled<R> {
  if (!d.ok) return { ok: false, error: d.error };
  return failure === undefined ? { ok: true, value: d.reply } : { ok: false, error: failure };
}
