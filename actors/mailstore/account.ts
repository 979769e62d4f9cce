// The account actor: the only writer of one account, on its primary mailstore.
// Write path (docs/architecture.md): every queued command is planned against the SQLite store (each
// seeing the earlier ones), the events of the whole batch are sealed into one envelope and
// appended to mr.tx.<id> at the expected last seq, then applied locally in one transaction
// that also stores the seq, and only then is each caller answered.
import type { Clock } from "../../src/runtime/clock.js";
import { LogBackedActor, type Decision, type LogBackedBehavior, type LogBackedOptions } from "../../src/runtime/log_backed.js";
import type { FencedError } from "../../src/runtime/errors.js";
import type { SubjectLog } from "../../src/runtime/subject_log.js";
import type { Props } from "../../src/runtime/types.js";
import { open, seal, type EnvelopeKeyring } from "../../src/envelope/index.js";
import type { MailCommand, MailEvent, MailResult, TxBatch } from "../../src/mail/index.js";
import type { MetadataStore } from "../../src/store/index.js";
import { readTxBatch } from "./tx_batch.js";
import { checkAuthorship } from "./log_authorship.js";
import { NodeError } from "./errors.js";

export interface AccountActorDeps {
  accountId: string;
  /** this mailstore */
  host: string;
  /** the epoch the directory gives this primary */
  epoch: number;
  store: MetadataStore;
  keyring: EnvelopeKeyring;
  log: SubjectLog;
  clock: Clock;
  /** told once when this mailstore learns another primary exists for the account */
  onDemoted(accountId: string, reason: string): void;
  /** tells the Global Admin (MR_NOTIFY), e.g. that this account's log holds an entry no one may have written */
  notify(kind: string, payload: Record<string, unknown>): void;
  /** re-reads the key files; true when something changed (a key the operator just added) */
  reloadKeys?(): boolean;
  /** told after each entry applied here (the snapshot policy counts them) */
  onApplied?(accountId: string, seq: number, entry: TxBatch): void;
}

export class AccountBehavior implements LogBackedBehavior<MailCommand, MailEvent, TxBatch, MailResult> {
  private epoch: number;
  /** set when the log shows another primary: no more writes from here */
  private demotedBy: string | undefined;
  /** writer of the last entry applied by this actor (undefined before its first) */
  private lastWriter: string | undefined;

  constructor(private readonly d: AccountActorDeps) {
    const local = d.store.replicaState(d.accountId);
    this.epoch = Math.max(d.epoch, local?.epoch ?? 0);
    d.store.ensureReplicaState(d.accountId, "primary");
    d.store.setRole(d.accountId, "primary");
  }

  appliedSeq(): number {
    return this.d.store.replicaState(this.d.accountId)?.appliedSeq ?? 0;
  }

  decide(commands: MailCommand[]): Decision<MailEvent, MailResult>[] {
    const refusal = this.refusal();
    if (refusal) return commands.map(() => ({ ok: false, error: refusal }));
    return this.d.store
      .plan(this.d.accountId, commands)
      .map((o) => (o.ok ? { ok: true, events: o.events, reply: o.result as MailResult } : { ok: false, error: o.error }));
  }

  /** Why this mailstore may not serve the account now (nothing when it may). */
  private refusal(): NodeError | undefined {
    if (this.demotedBy) return NodeError.notPrimary(this.d.accountId, this.d.host, this.demotedBy);
    const st = this.d.store.replicaState(this.d.accountId);
    if (st?.status === "unavailable") {
      // The replay met an entry no one may have written: serving would show or extend a log
      // that every replica refuses.
      return new NodeError(
        "APPLY_FAILED",
        `account ${this.d.accountId} is not served by ${this.d.host}: its log was refused (${st.error ?? "no reason recorded"}); fix the key files (mailreplica test shows them) or remove the offending entry, then restart this mailstore: it replays the log again at start`,
        { account: this.d.accountId },
      );
    }
    if (st?.primaryHost && st.primaryHost !== this.d.host) {
      this.demote(`the log names ${st.primaryHost} as primary at epoch ${st.epoch}`, st.primaryHost);
      return NodeError.notPrimary(this.d.accountId, this.d.host, st.primaryHost);
    }
    if (!this.d.keyring.ownKeyTrusted()) {
      return new NodeError(
        "SIGNER_NOT_TRUSTED",
        `${this.d.host} does not write: its signing key ${this.d.keyring.signingKid} is not a trusted mailstore key in trusted-signers.json, so every other node would refuse its entries; add it there on every node (mailreplica keys init prints how)`,
        { account: this.d.accountId, host: this.d.host, kid: this.d.keyring.signingKid },
      );
    }
    return undefined;
  }

  toEntry(events: MailEvent[], prevSeq: number): TxBatch {
    // The epoch the log gives this primary (the directory's only for the account's first entry).
    const st = this.d.store.replicaState(this.d.accountId);
    const epoch = st?.primaryHost ? st.epoch : this.epoch;
    return { v: 1, account: this.d.accountId, epoch, writer: this.d.host, at: this.d.clock.now(), prev: prevSeq, events };
  }

  encode(entry: TxBatch): Uint8Array {
    return seal(this.d.keyring, entry);
  }

  /**
   * Opens and checks an entry read from the log (replay, or entries found after a refused
   * append). The LogBackedActor applies each decoded entry before decoding the next, so the
   * store's state now is the state it applies onto. A refused entry makes the account
   * unavailable here (with the reason, and the Global Admin is told) and fails the replay:
   * nothing after it is applied and nothing is served.
   */
  decode(data: Uint8Array, seq: number): TxBatch {
    const st = this.d.store.replicaState(this.d.accountId);
    if (st?.status === "unavailable") {
      // Refused before (and the admin told then): a restarted actor stops here again.
      throw new NodeError(
        "APPLY_FAILED",
        `account ${this.d.accountId}: its log was refused (${st.error ?? "no reason recorded"}); ${this.d.host} does not serve the account`,
        { account: this.d.accountId, seq },
      );
    }
    const check = (): TxBatch => {
      const opened = open(this.d.keyring, data);
      const batch = readTxBatch(opened.payload, this.d.accountId, seq);
      if (st && seq > st.appliedSeq) checkAuthorship(this.d.keyring.trust, st, batch, opened.signer);
      return batch;
    };
    try {
      try {
        return check();
      } catch (e) {
        if (this.d.reloadKeys?.()) return check();
        throw e;
      }
    } catch (e) {
      const code = (e as { code?: string }).code ?? "APPLY_FAILED";
      const reason = `${code} at seq ${seq}: ${(e as Error).message}`;
      this.d.store.setReplicaStatus(this.d.accountId, "unavailable", reason);
      this.d.notify("replica.unavailable", { account: this.d.accountId, destination: this.d.host, seq, code, reason, primary: true });
      throw new NodeError(
        "APPLY_FAILED",
        `account ${this.d.accountId}: the log entry at seq ${seq} is refused (${reason}); ${this.d.host} does not serve the account`,
        { account: this.d.accountId, seq },
      );
    }
  }

  apply(entry: TxBatch, seq: number): void {
    this.d.store.applyBatch(this.d.accountId, seq, entry);
    this.d.onApplied?.(this.d.accountId, seq, entry);
    this.lastWriter = entry.writer;
    for (const e of entry.events) {
      if (e.t !== "promoted") continue;
      if (e.host === this.d.host) this.epoch = Math.max(this.epoch, e.epoch);
      else this.demote(`promoted to ${e.host} at epoch ${e.epoch}`, e.host);
    }
  }

  /**
   * After "wrong last sequence": this mailstore may go on writing only when the entries it had
   * not seen are its own (a batch whose outcome was unknown and that landed late). Another
   * writer's entry, or a Promoted naming another host (which demotes), fences it.
   */
  canWrite(): boolean {
    return this.demotedBy === undefined && (this.lastWriter === undefined || this.lastWriter === this.d.host);
  }

  onFenced(error: FencedError): void {
    this.demote(error.message, "another writer");
  }

  private demote(reason: string, by: string): void {
    if (this.demotedBy) return;
    this.demotedBy = by;
    this.d.store.setRole(this.d.accountId, "replica");
    this.d.onDemoted(this.d.accountId, reason);
  }
}

export interface AccountActorOptions {
  mailboxCapacity: number;
  maxBatch: number;
  /** how long a caller waits for its write; the append attempts fit inside it */
  askTimeoutMs: number;
  /** per append attempt; default APPEND_ATTEMPT_MS (less when askTimeoutMs is short) */
  appendTimeoutMs?: number;
  /** attempts of one batch before its outcome is unknown; default: as many as fit in 3/4 of askTimeoutMs */
  appendAttempts?: number;
  /** told about each append (metrics) */
  onAppend?: LogBackedOptions["onAppend"];
}

/**
 * The default wait for one append attempt. An append sent to a MR_TX leader that just died is
 * never answered, and the next attempt goes out only when this one times out: after the new
 * leader is elected, writes resume within one attempt. JetStream acknowledges a healthy append
 * in milliseconds; a slow one that times out is sent again with the same Msg-Id and counted once.
 */
export const APPEND_ATTEMPT_MS = 750;

/**
 * Append limits that end within the caller's wait, so a caller whose batch got no answer hears
 * OUTCOME_UNKNOWN from the actor rather than a bare timeout: short attempts, as many as fit in
 * three quarters of askTimeoutMs (at least 3).
 */
export function appendLimits(opts: AccountActorOptions): LogBackedOptions {
  const budget = Math.floor((opts.askTimeoutMs * 3) / 4);
  const appendTimeoutMs = opts.appendTimeoutMs ?? Math.max(50, Math.min(APPEND_ATTEMPT_MS, Math.floor(budget / 3)));
  const appendAttempts = opts.appendAttempts ?? Math.max(3, Math.floor(budget / appendTimeoutMs));
  return { appendAttempts, appendTimeoutMs, ...(opts.onAppend ? { onAppend: opts.onAppend } : {}) };
}

/** Props for an account actor: restarts (and so replays the log) on unexpected failures. */
export function accountActorProps(deps: AccountActorDeps, opts: AccountActorOptions): Props<MailCommand, MailResult> {
  return {
    mailboxCapacity: opts.mailboxCapacity,
    maxBatch: opts.maxBatch,
    supervisor: { maxRestarts: 5, withinMs: 30_000, minBackoffMs: 50, maxBackoffMs: 2_000 },
    producer: () => new LogBackedActor(deps.log, new AccountBehavior(deps), appendLimits(opts)),
  };
}
