// Which NATS/JetStream failures are transient states of a cluster (forming, electing a
// leader, a node or the quorum away) rather than mistakes: classified by the server's numeric
// codes (`api_error.err_code`, the 503 status) and the client's error classes (read in
// src/runtime/nats_failure.ts), never by message text. The description returned is what a
// log line says the process waits for.
import { isConnectionClosed, isConnectRefused, isNoResponders, isRequestLost, isRequestTimeout, jsApiFailure } from "../runtime/nats_failure.js";
import { CodedError } from "../errors/index.js";

/** JetStream API error codes (nats-server errors.json) that clear up by themselves. */
const TRANSIENT_ERR_CODES: ReadonlyMap<number, string> = new Map([
  [10004, "JetStream answered with incomplete results"],
  [10005, "no suitable peers for placement"],
  [10007, "JetStream cluster not assigned to this server yet"],
  [10008, "no meta leader yet (JetStream system temporarily unavailable)"],
  [10009, "the JetStream cluster cannot handle the request yet (no leader)"],
]);

/** A condition found by looking (e.g. a stream without a leader), not by a failed request. */
export class NotReadyYet extends CodedError<"NOT_READY_YET"> {
  constructor(readonly reason: string) {
    super("NOT_READY_YET", reason);
  }
}

/**
 * What the cluster is doing when `e` is a transient failure (the reason to wait and retry),
 * else undefined (a real error: report it).
 */
export function transientReason(e: unknown): string | undefined {
  if (e instanceof NotReadyYet) return e.reason;
  const api = jsApiFailure(e);
  if (api) {
    const known = TRANSIENT_ERR_CODES.get(api.errCode);
    // 10005's description names the cause ("..., peer offline"): worth showing.
    if (known) return api.errCode === 10005 && api.description ? api.description : known;
    if (api.status === 503) return `JetStream temporarily unavailable (${api.description || `error ${api.errCode}`})`;
    return undefined;
  }
  // No responders: JetStream (or the stream's leader) is not listening on the server we talk to.
  if (isNoResponders(e)) return "JetStream does not answer yet (no responders)";
  if (isRequestTimeout(e)) return "the JetStream API did not answer in time";
  if (isConnectRefused(e)) return "no NATS server accepts connections";
  if (isConnectionClosed(e) || isRequestLost(e)) return "the NATS connection was lost";
  return undefined;
}

export interface RetryTransientOptions {
  /** give up (rethrow the last failure) once this much time has passed, ms */
  deadlineMs: number;
  /** told each new reason it waits for */
  onWait?: (reason: string) => void;
  /** stop retrying when this says so (e.g. the lease was lost) */
  stillWanted?: () => boolean;
}

/**
 * Runs an idempotent step again while it fails transiently (a leader being elected, a node or
 * the quorum away), with back-off from 100 ms doubling to 2 s, up to a deadline. Any other
 * failure, or one past the deadline, is thrown as it is.
 */
export async function retryTransient<T>(step: () => Promise<T>, opts: RetryTransientOptions): Promise<T> {
  const deadline = Date.now() + opts.deadlineMs;
  let delay = 100;
  let said: string | undefined;
  for (;;) {
    try {
      return await step();
    } catch (e) {
      const reason = transientReason(e);
      if (reason === undefined || Date.now() + delay > deadline || opts.stillWanted?.() === false) throw e;
      if (reason !== said) opts.onWait?.(reason);
      said = reason;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(2_000, delay * 2);
    }
  }
}
