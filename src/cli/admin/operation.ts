// Waiting for a long operation (--sync, --progress): polls `monitor` until the state is
// final and turns it into Carbonio's exit code.
import { CallError } from "./errors.js";
import { progressLine } from "./format.js";

/** Carbonio's --sync exit codes by final state. */
export const OPERATION_EXIT_CODES: Readonly<Record<string, number>> = {
  successful: 0,
  failed: 1,
  stopped: 2,
  removed: 3,
  interrupted: 4,
};

/** States in which an operation is still going. */
const RUNNING_STATES = new Set(["running", "queued", "pending", "waiting", "starting", "started", "stopping"]);

export interface WaitOptions {
  /** Between two monitor calls, ms. Default 500. */
  pollMs?: number;
  /** Called with a progress line whenever the progress changed (--progress). */
  onProgress?: (line: string) => void;
  /** Aborting stops the waiting (not the operation): outcome `interrupted`. */
  signal?: AbortSignal;
  /** How long the supervisor may stay unreachable before the wait gives up (interrupted), ms. Default 30000. */
  unreachableMs?: number;
}

export interface WaitOutcome {
  /** Carbonio's exit code: 0 successful, 1 failed, 2 stopped, 3 removed, 4 interrupted. */
  exitCode: number;
  /** The final state, or `removed` / `interrupted` when the wait decided it. */
  state: string;
  /** The last monitor result, when one came. */
  last: unknown;
  /** Why the wait ended without a final state from the supervisor. */
  reason?: string;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Polls `monitor(operation_uuid)` through `call` until the state is final. A supervisor that
 * forgets the operation (OPERATION_UNKNOWN) means `removed`; one unreachable for longer than
 * `unreachableMs`, or an abort, means `interrupted`. Other call errors are thrown.
 */
export async function waitForOperation(
  call: (method: string, params: Record<string, unknown>) => Promise<unknown>,
  operationId: string,
  opts: WaitOptions = {},
): Promise<WaitOutcome> {
  const pollMs = opts.pollMs ?? 500;
  const unreachableMs = opts.unreachableMs ?? 30_000;
  let last: unknown;
  let lastLine = "";
  let unreachableSince: number | undefined;
  const followHint = `the operation goes on; follow it with 'monitor ${operationId}'`;
  for (;;) {
    if (opts.signal?.aborted) return { exitCode: 4, state: "interrupted", last, reason: `stopped waiting; ${followHint}` };
    let m: unknown;
    try {
      m = await call("monitor", { operation_uuid: operationId });
      unreachableSince = undefined;
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
      if (e.code === "OPERATION_UNKNOWN")
        return { exitCode: 3, state: "removed", last, reason: `the supervisor no longer knows operation ${operationId} (${e.message})` };
      if (e.code !== "NO_RESPONDER" && e.code !== "TIMEOUT") throw e;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince >= unreachableMs) {
        return {
          exitCode: 4,
          state: "interrupted",
          last,
          reason: `lost contact with the supervisor for ${Math.round(unreachableMs / 1000)} s (${e.code}); ${followHint}`,
        };
      }
      await sleep(pollMs, opts.signal);
      continue;
    }
    last = m;
    const state = (m as { state?: unknown } | null)?.state;
    const line = progressLine(m);
    if (opts.onProgress && line !== lastLine) opts.onProgress(line);
    lastLine = line;
    if (typeof state !== "string") return { exitCode: 1, state: "unknown", last, reason: `monitor answered without a state for operation ${operationId}` };
    const code = OPERATION_EXIT_CODES[state];
    if (code !== undefined) return { exitCode: code, state, last };
    if (!RUNNING_STATES.has(state))
      return {
        exitCode: 1,
        state,
        last,
        reason: `operation ${operationId} is in state '${state}', which this CLI does not know; check it with 'monitor ${operationId}'`,
      };
    await sleep(pollMs, opts.signal);
  }
}
