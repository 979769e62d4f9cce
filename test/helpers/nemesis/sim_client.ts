// A simulated mail client of the nemesis: its own NATS connection (so its own reply inbox:
// a shared one makes clients read each other's answers and shows losses that are not there),
// the only writer of its accounts, one operation at a time. An operation whose outcome is not
// definite is retried with the same requestId when the server takes one (a retry returns the
// first outcome and never writes twice), until a definite answer or the end of the run; without
// requestId it is not retried and the model records it as "maybe" (at most once).
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { rpcCall } from "../../../src/jsonrpc/index.js";
import { errorCode, pick, prng, type Rand } from "../workload.js";
import { AccountModel, type MailCall } from "./account_model.js";

/**
 * Refusals that say the write was not made: the model stays as it is. ACCOUNT_UNKNOWN is not
 * one of them: a mailstore whose directory cache lags may say it for a moment, so it is
 * treated as not definite (retried with requestId, else "maybe").
 */
const DEFINITE_REFUSALS = new Set([
  "ITEM_NOT_FOUND",
  "FOLDER_NOT_FOUND",
  "FOLDER_EXISTS",
  "FOLDER_SYSTEM",
  "FOLDER_INVALID_MOVE",
  "INVALID_FLAG",
  "INVALID_FOLDER_PATH",
  "INVALID_MESSAGE",
  "rpc -32602",
]);

export interface ClientStats {
  operations: number;
  attempts: number;
  acknowledged: number;
  refused: number;
  /** operations left without a definite outcome */
  uncertain: number;
  retries: number;
  /** failed attempts by code */
  errors: Record<string, number>;
}

export interface Contradiction {
  client: string;
  account: string;
  call: string;
  code: string;
  message: string;
}

export interface SimClientOptions {
  name: string;
  seed: number;
  servers: string[];
  accounts: AccountModel[];
  /** whether the mailbox methods take `requestId` (probed once by the run) */
  requestIds: boolean;
  /** one attempt's wait for an answer */
  attemptTimeoutMs?: number;
}

export class SimClient {
  readonly stats: ClientStats = { operations: 0, attempts: 0, acknowledged: 0, refused: 0, uncertain: 0, retries: 0, errors: {} };
  readonly contradictions: Contradiction[] = [];
  private readonly rand: Rand;
  private nc!: NatsConnection;
  private stopping = false;
  private hardDeadline = Infinity;
  private loop: Promise<void> | undefined;
  private messageNo = 0;
  private opNo = 0;
  /** called when an attempt starts (returns its number) and ends (the orchestrator waits on progress, never on the clock) */
  onAttemptStart: () => number = () => 0;
  onAttempt: (startNo: number) => void = () => {};

  constructor(private readonly opts: SimClientOptions) {
    this.rand = prng(opts.seed);
  }

  get name(): string {
    return this.opts.name;
  }

  async start(): Promise<void> {
    this.nc = await connect({ servers: this.opts.servers, name: `nemesis client ${this.opts.name}`, maxReconnectAttempts: -1 });
    this.loop = this.run();
  }

  /** No new operation starts; the current one keeps retrying until definite or `deadlineMs` passes. */
  async finish(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.hardDeadline = Date.now() + deadlineMs;
    await this.loop;
    await this.nc.close().catch(() => {});
  }

  private message(): { raw: string; messageId: string; subject: string } {
    const n = ++this.messageNo;
    const messageId = `nemesis-${this.opts.seed}-${this.opts.name}-${n}@example.org`;
    const subject = `nemesis ${this.opts.name} #${n}`;
    const raw = `From: sender@example.org\r\nTo: user@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${messageId}>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody of ${subject}\r\n`;
    return { raw, messageId, subject };
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const model = pick(this.rand, this.opts.accounts);
      await this.operate(
        model,
        model.next(this.rand, () => this.message()),
      );
    }
  }

  private async operate(model: AccountModel, call: MailCall): Promise<void> {
    this.stats.operations++;
    const requestId = `${this.opts.name}.${this.opts.seed}.${++this.opNo}`;
    const params = this.opts.requestIds ? { ...call.params, requestId } : call.params;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.stats.retries++;
      this.stats.attempts++;
      const startNo = this.onAttemptStart();
      try {
        const result = await rpcCall<any>(this.nc, "mr.rpc.mailbox", call.method, params, { timeoutMs: this.opts.attemptTimeoutMs ?? 4_000 });
        this.stats.acknowledged++;
        model.acknowledged(call, result);
        return;
      } catch (e) {
        const code = errorCode(e);
        this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
        if (DEFINITE_REFUSALS.has(code)) {
          this.stats.refused++;
          // Built only on definite state, a write is never refused unless the system lost something.
          this.contradictions.push({ client: this.name, account: model.account, call: call.describe, code, message: (e as Error).message });
          model.contradicted(call);
          return;
        }
        const retry = this.opts.requestIds && Date.now() < this.hardDeadline;
        if (!retry) {
          this.stats.uncertain++;
          model.uncertain(call);
          // no busy loop of failing writes while a fault lasts
          if (!this.stopping) await new Promise((r) => setTimeout(r, 200));
          return;
        }
        await new Promise((r) => setTimeout(r, 100 + Math.floor(this.rand() * 300)));
      } finally {
        this.onAttempt(startNo);
      }
    }
  }
}
