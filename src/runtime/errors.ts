// Typed runtime errors with stable codes. Callers branch on `code`, never on message text.
// Caller-facing (src/errors/coded_error.ts): a method that lets one escape answers its caller
// with the code (MAILBOX_FULL is OVERLOADED, ASK_TIMEOUT is TIMEOUT...); a code README does
// not document (LOG_READ_FAILED) is still an internal error.
import { CallerFacingError } from "../errors/index.js";

export class RuntimeError extends CallerFacingError {}

/** The actor's bounded mailbox is full: the message was refused, nothing was queued. */
export class MailboxFullError extends RuntimeError {
  constructor(
    readonly actor: string,
    readonly capacity: number,
  ) {
    super("MAILBOX_FULL", `actor ${actor} is overloaded: its mailbox holds ${capacity} messages; retry later or raise the mailbox capacity`);
  }
}

/** No reply arrived within the ask timeout. The message may still be processed. */
export class AskTimeoutError extends RuntimeError {
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    super("ASK_TIMEOUT", `no reply from ${target} within ${timeoutMs} ms; the request may still complete, check before retrying`);
  }
}

/** The actor was stopped (or gave up after too many restarts) and takes no more messages. */
export class ActorStoppedError extends RuntimeError {
  constructor(
    readonly actor: string,
    reason = "stopped",
  ) {
    super("ACTOR_STOPPED", `actor ${actor} is ${reason} and takes no messages`);
  }
}

/**
 * Another writer appended to the log subject first (JetStream "wrong last sequence",
 * api err_code 10071). This writer must stop writing, read the log, and step down.
 */
export class FencedError extends RuntimeError {
  constructor(
    readonly subject: string,
    readonly expectedLastSeq: number,
    readonly detail: string,
  ) {
    super("FENCED", `another writer appended to ${subject} after seq ${expectedLastSeq} (${detail}); this writer is fenced and no longer writes it`);
  }
}

/** An append to the log failed for a reason other than fencing (timeout, no stream, ...). */
export class LogAppendError extends RuntimeError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("LOG_APPEND_FAILED", `append to ${subject} failed: ${detail}; nothing was acknowledged, retry the request`, options);
  }
}

/**
 * An append may or may not have been stored: every attempt's acknowledgement was lost (timed
 * out, connection dropped after the publish left), or the server answered "duplicate" with an
 * entry that is not this one. The writer must read the log before it writes again; the caller
 * must check the effect (or retry with an idempotency key) instead of blindly retrying.
 */
export class OutcomeUnknownError extends RuntimeError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("OUTCOME_UNKNOWN", `append to ${subject} has an unknown outcome: ${detail}; it may have been stored, check before retrying`, options);
  }
}

/** Reading the log back failed (decode error, stream missing, ...). */
export class LogReadError extends RuntimeError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("LOG_READ_FAILED", `reading ${subject} failed: ${detail}`, options);
  }
}

/** An error that came back from a remote actor, with the remote code kept. */
export class RemoteActorError extends RuntimeError {
  /** `data` as the remote sent it: an object is the details, anything else is details.detail. */
  constructor(code: string, message: string, data?: unknown) {
    const isRecord = typeof data === "object" && data !== null && !Array.isArray(data);
    super(code, message, data === undefined ? {} : { details: isRecord ? (data as Record<string, unknown>) : { detail: data } });
  }
}

/** Nobody serves the subject a remote ask was sent to. */
export class NoResponderError extends RuntimeError {
  constructor(readonly subject: string) {
    super("NO_RESPONDER", `nothing answers on ${subject}; is the process that hosts it running?`);
  }
}

/**
 * One command's log entry alone is larger than one message the server accepts (its
 * max_payload less the append's headers): it is refused, nothing of it is stored, and the
 * other commands of its group commit are appended without it.
 */
export class EntryTooLargeError extends RuntimeError {
  constructor(
    readonly subject: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      "ENTRY_TOO_LARGE",
      `the log entry of this write is ${size} bytes, over the ${limit} bytes one append to ${subject} may carry (the NATS server's max_payload less the append's headers); nothing was stored; make the write smaller (fewer ids, a message with shorter headers) or raise max_payload on the NATS server`,
    );
  }
}
