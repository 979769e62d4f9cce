// Where snapshots are kept: the stream MR_SNAP, one subject per snapshot,
// `mr.snap.<accountId>.<seq>`. A snapshot is a manifest (its length, chunk count and sha256)
// followed by the sealed bytes in chunks under the server's max_payload; every message after
// the first is appended at the expected last subject seq, so a snapshot subject is written
// once, in order, by one writer. A snapshot whose chunks are missing or do not hash to the
// manifest (a writer that died half-way) is not complete and is never read.
//
// One subject per snapshot (not an object store): the stream's per-subject state lists an
// account's snapshots by a subject filter, without reading every account's metadata.
import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { decode, encode } from "../codec/index.js";
import { SubjectLog } from "../runtime/subject_log.js";
import { CodedError } from "../errors/index.js";

export const SNAPSHOT_SUBJECTS = "mr.snap.*.*";

export function snapshotSubject(accountId: string, seq: number): string {
  return `mr.snap.${accountId}.${seq}`;
}

/** Bytes of one chunk: well under the default 1 MiB max_payload, with room for headers. */
export const SNAPSHOT_CHUNK_BYTES = 512 * 1024;

interface Manifest {
  v: 1;
  bytes: number;
  chunks: number;
  sha256: string;
}

/** The manifest a snapshot subject starts with, or undefined when its first message is not one. */
function readManifest(data: Uint8Array): Manifest | undefined {
  let m: Partial<Manifest> | undefined;
  try {
    m = decode(data) as Partial<Manifest>;
  } catch {
    return undefined;
  }
  return m?.v === 1 && Number.isSafeInteger(m.chunks) && Number.isSafeInteger(m.bytes) && typeof m.sha256 === "string" ? (m as Manifest) : undefined;
}

export class SnapshotReadError extends CodedError<"SNAPSHOT_INCOMPLETE"> {
  constructor(message: string) {
    super("SNAPSHOT_INCOMPLETE", message);
  }
}

export interface StoredSnapshot {
  seq: number;
  /** messages on its subject (the manifest and the chunks) */
  messages: number;
}

export class SnapshotLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
  ) {}

  private subjectLog(accountId: string, seq: number): SubjectLog {
    return new SubjectLog(this.js, this.jsm, this.stream, snapshotSubject(accountId, seq));
  }

  /** Stores the sealed snapshot of the account at `seq`. Throws FencedError when that snapshot subject already has messages. */
  async write(accountId: string, seq: number, sealed: Uint8Array): Promise<void> {
    const log = this.subjectLog(accountId, seq);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < sealed.length; at += SNAPSHOT_CHUNK_BYTES) chunks.push(sealed.subarray(at, at + SNAPSHOT_CHUNK_BYTES));
    const manifest: Manifest = { v: 1, bytes: sealed.length, chunks: chunks.length, sha256: createHash("sha256").update(sealed).digest("hex") };
    let last = 0;
    const parts = [encode(manifest), ...chunks];
    for (let i = 0; i < parts.length; i++) {
      // The msg-id makes a retried part land once; the expected seq keeps the parts in order.
      const r = await log.append(parts[i]!, { expectedLastSeq: last, msgId: `${log.subject}:${manifest.sha256}:${i}`, timeoutMs: 10_000 });
      last = r.seq;
    }
  }

  /** The account's snapshots in the stream, oldest first (complete or not: read() tells). */
  async list(accountId: string): Promise<StoredSnapshot[]> {
    const prefix = `mr.snap.${accountId}.`;
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${prefix}*` });
    const subjects = info.state.subjects ?? {};
    return Object.entries(subjects)
      .map(([subject, messages]) => ({ seq: Number(subject.slice(prefix.length)), messages }))
      .filter((s) => Number.isSafeInteger(s.seq) && s.seq > 0)
      .sort((a, b) => a.seq - b.seq);
  }

  /**
   * Whether the snapshot at `seq` has all the messages its manifest announces (one direct get,
   * not a read of the chunks). Undefined when there is none.
   */
  async complete(accountId: string, seq: number): Promise<boolean | undefined> {
    const subject = snapshotSubject(accountId, seq);
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: subject });
    const messages = info.state.subjects?.[subject] ?? 0;
    if (messages === 0) return undefined;
    const first = await this.jsm.direct.getMessage(this.stream, { next_by_subj: subject });
    if (!first) return undefined;
    const manifest = readManifest(first.data);
    return manifest !== undefined && messages === manifest.chunks + 1;
  }

  /** When the snapshot's first message was stored (server time, ms since the epoch); undefined when it is gone. */
  async storedAt(accountId: string, seq: number): Promise<number | undefined> {
    const first = await this.jsm.direct.getMessage(this.stream, { next_by_subj: snapshotSubject(accountId, seq) });
    return first ? first.time.getTime() : undefined;
  }

  /** The sealed bytes of a complete snapshot. Throws SnapshotReadError when it is missing or incomplete. */
  async read(accountId: string, seq: number): Promise<Uint8Array> {
    const log = this.subjectLog(accountId, seq);
    const where = `snapshot ${log.subject}`;
    let manifest: Manifest | undefined;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const e of log.read(1)) {
      if (manifest === undefined) {
        manifest = readManifest(e.data);
        if (manifest === undefined) throw new SnapshotReadError(`${where} does not start with a manifest`);
        continue;
      }
      chunks.push(e.data);
      bytes += e.data.length;
      if (chunks.length === manifest.chunks) break;
    }
    if (manifest === undefined) throw new SnapshotReadError(`${where} is not in the stream`);
    if (chunks.length !== manifest.chunks || bytes !== manifest.bytes) {
      throw new SnapshotReadError(
        `${where} has ${chunks.length} of ${manifest.chunks} chunks (${bytes} of ${manifest.bytes} bytes): its writer stopped half-way`,
      );
    }
    const sealed = Buffer.concat(chunks);
    if (createHash("sha256").update(sealed).digest("hex") !== manifest.sha256) throw new SnapshotReadError(`${where} does not hash to its manifest`);
    return sealed;
  }

  /** Removes a snapshot (the supervisor, once the log no longer needs it). */
  async remove(accountId: string, seq: number): Promise<void> {
    await this.jsm.streams.purge(this.stream, { filter: snapshotSubject(accountId, seq) });
  }
}
