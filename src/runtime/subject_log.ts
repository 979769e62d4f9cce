// The JetStream port of a log-backed actor: one subject of a stream is one actor's log.
// Backend errors are translated here, by the server's numeric api err_code, never by text.
import { createHash } from "node:crypto";
import { PubHeaders, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { headers, type MsgHdrsImpl } from "@nats-io/nats-core";
import { FencedError, LogAppendError, LogReadError, OutcomeUnknownError } from "./errors.js";
import { isNoResponders, isWrongLastSequence, jsApiFailure } from "./nats_failure.js";

export interface LogEntry {
  seq: number;
  data: Uint8Array;
  /** server time the entry was stored, ms since epoch */
  time: number;
}

export interface AppendOptions {
  /** the last seq of this subject the writer knows; the server refuses the append otherwise */
  expectedLastSeq: number;
  /** Nats-Msg-Id: a retry with the same id is stored once */
  msgId: string;
  /** per attempt; default 5_000 ms */
  timeoutMs?: number;
}

export interface AppendResult {
  seq: number;
  /** the server had it already (a retry of an append that was stored) */
  duplicate: boolean;
}

/** Lifetime of one pull request of a log read, ms (the client's minimum is 1 s). */
export const READ_PULL_EXPIRES_MS = 2_000;

/**
 * Missed heartbeats (one per READ_PULL_EXPIRES_MS / 2 while a pull waits) after which a read
 * gives up. The server holding the read's consumer is then likely gone: nats.js only asks for
 * the consumer's info, which no server answers while its assignment names that server, so the
 * read would wait until the server came back. A new read creates a new consumer.
 */
export const READ_STALL_HEARTBEATS = 5;

/** sha256 of an entry's bytes, base64url: what names a batch. */
export function contentDigest(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("base64url");
}

/**
 * A Nats-Msg-Id that names a batch by its contentDigest (dedup is stream-wide, so it names the subject too): a
 * retry of the same batch (same bytes) is deduplicated, and a different batch never shares
 * its id, whatever seq it expects.
 */
export function contentMsgId(subject: string, digest: string): string {
  return `${subject}:${digest}`;
}

/**
 * Bytes of the headers an append sends with its entry (Nats-Msg-Id and the expected last
 * subject seq), measured by encoding them as the client does. The server's max_payload bounds
 * headers and data together.
 */
export function appendHeaderBytes(subject: string, expectedLastSeq: number): number {
  // headers() makes the client's own implementation, whose encoding is what goes on the wire.
  const h = headers() as MsgHdrsImpl;
  // A msgId is always the subject and a sha256 digest in base64url (43 characters).
  h.set(PubHeaders.MsgIdHdr, contentMsgId(subject, "x".repeat(43)));
  h.set(PubHeaders.ExpectedLastSubjectSequenceHdr, String(expectedLastSeq));
  return h.encode().length;
}

export class SubjectLog {
  /** appends sent to the server (attempts, including retries); for group-commit checks */
  appendCalls = 0;

  /**
   * `maxPayload` tells the server's max_payload (nc.info.max_payload) when known; without it
   * entries are not bounded here and an oversized append is refused by the client.
   */
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly subject: string,
    private readonly maxPayload?: () => number | undefined,
  ) {}

  /** Largest entry one append after `expectedLastSeq` can carry, or undefined when the limit is unknown. */
  maxEntryBytes(expectedLastSeq: number): number | undefined {
    const max = this.maxPayload?.();
    if (max === undefined || max <= 0) return undefined;
    return max - appendHeaderBytes(this.subject, expectedLastSeq);
  }

  /** Last seq stored on this subject, 0 when it has none. */
  async lastSeq(): Promise<number> {
    try {
      // The client answers "no message found" (err_code 10037) with null.
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject });
      return m?.seq ?? 0;
    } catch (e) {
      throw new LogReadError(this.subject, (e as Error).message, { cause: e });
    }
  }

  /**
   * Appends `data` if the subject's last seq is still `expectedLastSeq`.
   * Idempotent for the same msgId within the stream's duplicate window: a "duplicate" ack is
   * checked against the entry stored at its seq, and is a success only when that entry is
   * these very bytes on this subject.
   * Throws FencedError on "wrong last sequence"; LogAppendError when the server definitely did
   * not store it (it refused it, or no stream listens); OutcomeUnknownError when it may have
   * (no answer in time, connection lost, or a duplicate of other content).
   */
  async append(data: Uint8Array, opts: AppendOptions): Promise<AppendResult> {
    this.appendCalls++;
    let ack;
    try {
      ack = await this.js.publish(this.subject, data, {
        msgID: opts.msgId,
        expect: { lastSubjectSequence: opts.expectedLastSeq },
        timeout: opts.timeoutMs ?? 5_000,
      });
    } catch (e) {
      if (isWrongLastSequence(e)) {
        throw new FencedError(this.subject, opts.expectedLastSeq, jsApiFailure(e)?.description ?? "wrong last sequence");
      }
      // The server answered with a refusal, or nothing listens (no stream leader captures the
      // subject): it stored nothing.
      if (jsApiFailure(e) !== undefined || isNoResponders(e)) {
        throw new LogAppendError(this.subject, (e as Error).message, { cause: e });
      }
      // A timeout or a lost connection: the publish may have reached the server.
      throw new OutcomeUnknownError(this.subject, `no acknowledgement (${(e as Error).message})`, { cause: e });
    }
    if (ack.duplicate) await this.checkDuplicate(data, ack.seq, opts.msgId);
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /** A duplicate ack names an entry stored earlier under the same id: it must be these bytes. */
  private async checkDuplicate(data: Uint8Array, seq: number, msgId: string): Promise<void> {
    let stored;
    try {
      stored = await this.jsm.streams.getMessage(this.stream, { seq });
    } catch (e) {
      throw new OutcomeUnknownError(
        this.subject,
        `the server says Msg-Id ${msgId} is stored at seq ${seq}, and reading it back failed (${(e as Error).message})`,
        { cause: e },
      );
    }
    if (stored === null) {
      throw new OutcomeUnknownError(this.subject, `the server says Msg-Id ${msgId} is stored at seq ${seq}, and no entry is there`);
    }
    if (stored.subject !== this.subject || !Buffer.from(stored.data).equals(Buffer.from(data))) {
      throw new OutcomeUnknownError(
        this.subject,
        `the server says Msg-Id ${msgId} is stored at seq ${seq}, but that entry is another batch (subject ${stored.subject})`,
      );
    }
  }

  /** Reads entries with seq >= fromSeq, up to the last one stored when the read starts. */
  async *read(fromSeq: number): AsyncGenerator<LogEntry> {
    const last = await this.lastSeq();
    if (last < fromSeq) return;
    let consumer;
    try {
      consumer = await this.js.consumers.get(this.stream, {
        // A plain string, not a one-item list: nats-server 2.10 reads a one-item filter list
        // up to ~80x slower from cold blocks (measured in docs/benchmarks.md).
        filter_subjects: this.subject,
        opt_start_seq: Math.max(1, fromSeq),
        // Deleted when the read ends; this only bounds its life if the reader dies first.
        inactive_threshold: 30_000,
      });
    } catch (e) {
      throw new LogReadError(this.subject, (e as Error).message, { cause: e });
    }
    // Short pulls: a pull request lost on its way (a consumer just created in a cluster, a
    // leader that moved) is noticed after two missed heartbeats of half its lifetime; with the
    // client's default 30 s lifetime a read stalled ~30 s (seen: a replica seeded 32 s late).
    const messages = await consumer.consume({ max_messages: 512, expires: READ_PULL_EXPIRES_MS });
    let stalled = false;
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === "heartbeats_missed" && s.count >= READ_STALL_HEARTBEATS) {
          stalled = true;
          messages.stop();
        }
      }
    })().catch(() => {});
    let next = fromSeq;
    try {
      for await (const m of messages) {
        next = m.seq + 1;
        yield { seq: m.seq, data: m.data, time: Math.floor(m.info.timestampNanos / 1e6) };
        if (m.seq >= last) return;
      }
      // Ended without reaching `last`: stopped because it stalled (or the consumer went away).
      const why = stalled
        ? `the read stalled at seq ${next}: ${READ_STALL_HEARTBEATS} heartbeats of its consumer missed (the server holding it may be down); read again`
        : `the read ended at seq ${next}, before seq ${last}; read again`;
      throw new LogReadError(this.subject, why);
    } finally {
      messages.stop();
      // An ordered consumer outlives its reader by its inactive threshold unless deleted. One
      // that stalled is not: its server does not answer (the delete would wait out its timeout).
      if (!stalled) await consumer.delete().catch(() => {});
    }
  }
}
