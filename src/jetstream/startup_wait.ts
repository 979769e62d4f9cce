// Start-up on a cluster that may still be forming: every step that needs JetStream is retried
// with back-off while it fails transiently (src/jetstream/transient.ts), the log says what the
// process waits for (one line per change of reason, not one per attempt), and a deadline ends
// the wait with a message naming what it waited for and what to check.
import { connect as tcpConnect } from "node:net";
import { jsErrCode, JS_ERR } from "../runtime/nats_failure.js";
import { transientReason } from "./transient.js";
import { withoutCredentials } from "../text/url_credentials.js";
import { CodedError } from "../errors/index.js";

/** Exit status of a mailstore or supervisor whose start-up deadline passed (EX_TEMPFAIL). */
export const STARTUP_TIMEOUT_EXIT_CODE = 75;

export const DEFAULT_STARTUP_TIMEOUT_MS = 120_000;

export class StartupTimeoutError extends CodedError<"STARTUP_TIMEOUT"> {
  readonly exitCode = STARTUP_TIMEOUT_EXIT_CODE;
  constructor(
    readonly timeoutMs: number,
    readonly reason: string,
    servers: readonly string[],
  ) {
    super(
      "STARTUP_TIMEOUT",
      `JetStream was not ready within ${Math.round(timeoutMs / 1000)} s (node.startupTimeoutMs; still waiting for: ${reason}). ` +
        `Check that the nats-server nodes (${servers.map(withoutCredentials).join(", ")}) run with JetStream enabled and reach each other over their cluster routes ` +
        `(assets with 3 replicas need 2 of the 3 nodes up), then start again; or raise node.startupTimeoutMs (MR_STARTUP_TIMEOUT_MS)`,
    );
  }
}

export interface StartupWaitOptions {
  /** how long start-up may wait for JetStream in all, ms */
  timeoutMs: number;
  /** the configured NATS URLs (for the message and for counting the servers that answer) */
  servers: readonly string[];
  /** told what it waits for (`reason` field) and when the wait ended (`waitedMs`) */
  log: (msg: string, fields: Record<string, unknown>) => void;
  /** first and longest pause between attempts, ms */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** One start-up's wait: shares the deadline and the last reason logged across its steps. */
export class StartupWait {
  private readonly startedAt = Date.now();
  private readonly deadline: number;
  private lastLogged: string | undefined;
  private lastReason: string | undefined;
  private waited = false;

  constructor(private readonly opts: StartupWaitOptions) {
    this.deadline = this.startedAt + opts.timeoutMs;
  }

  /**
   * Runs `step` until it succeeds; a transient failure is logged (when its reason changed) and
   * retried after a growing pause; any other failure, or the deadline, ends the start-up.
   * `what` names the asset for the log (`stream MR_TX`), empty for JetStream as a whole.
   */
  async until<T>(what: string, step: () => Promise<T>): Promise<T> {
    let delay = this.opts.minDelayMs ?? 100;
    const maxDelay = this.opts.maxDelayMs ?? 2_000;
    for (;;) {
      try {
        return await this.beforeDeadline(what, step());
      } catch (e) {
        if (e instanceof StartupTimeoutError) throw e;
        const cause = transientReason(e) ?? justCreatedReason(e);
        if (cause === undefined) throw e;
        const reason = await this.describe(what, cause);
        this.lastReason = reason;
        if (reason !== this.lastLogged) {
          this.opts.log("waiting for JetStream", { reason });
          this.lastLogged = reason;
        }
        this.waited = true;
        const left = this.deadline - Date.now();
        if (left <= 0) throw new StartupTimeoutError(this.opts.timeoutMs, reason, this.opts.servers);
        await new Promise((r) => setTimeout(r, Math.min(delay, left)));
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  /** The step's outcome, or StartupTimeoutError when the deadline comes first (the step is abandoned). */
  private beforeDeadline<T>(what: string, attempt: Promise<T>): Promise<T> {
    const left = this.deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          const reason = this.lastReason ?? (what ? `${what} to answer` : "JetStream to answer");
          reject(new StartupTimeoutError(this.opts.timeoutMs, reason, this.opts.servers));
        },
        Math.max(left, 0),
      );
    });
    attempt.catch(() => {}); // abandoned after the deadline: its failure is of no interest
    return Promise.race([attempt, expired]).finally(() => clearTimeout(timer));
  }

  /** Says once that the wait is over (only when there was one). */
  done(): void {
    if (this.waited) this.opts.log("JetStream ready after waiting", { waitedMs: Date.now() - this.startedAt });
    this.waited = false;
  }

  private async describe(what: string, cause: string): Promise<string> {
    // JetStream as a whole not answering usually means no meta leader: how many servers are
    // up tells the operator what is missing.
    if (!what && cause.startsWith("the JetStream API did not answer")) cause = "no meta leader yet? (the JetStream API did not answer in time)";
    if (!what || cause.startsWith("no meta leader")) {
      const up = await countAnswering(this.opts.servers);
      cause = `${cause} (${up} of ${this.opts.servers.length} servers answer)`;
    }
    return !what || cause.startsWith(what) ? cause : `${what}: ${cause}`;
  }
}

/**
 * At start-up every stream is created (or found) before it is used, so "stream not found"
 * (10059) means a stream that another process just created is not known to every server yet.
 */
function justCreatedReason(e: unknown): string | undefined {
  return jsErrCode(e) === JS_ERR.STREAM_NOT_FOUND ? "just created, not known to every server yet (stream not found)" : undefined;
}

/** How many of the NATS URLs accept a TCP connection now. */
async function countAnswering(servers: readonly string[]): Promise<number> {
  const answers = await Promise.all(servers.map((s) => acceptsConnections(s)));
  return answers.filter(Boolean).length;
}

function acceptsConnections(server: string): Promise<boolean> {
  let host = "127.0.0.1";
  let port = 4222;
  try {
    const u = new URL(server.includes("://") ? server : `nats://${server}`);
    host = u.hostname || host;
    port = u.port ? Number(u.port) : port;
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const sock = tcpConnect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}
