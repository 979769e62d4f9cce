// Small helpers of the benchmark: polling, timing and percentiles.
// Process tracking, temp folders and ports are the test harness's (one implementation):
// everything the bench starts is killed and removed when it exits, also on a signal.
import { waitFor as pollUntil } from "../../test/helpers/processes.js";

export { exited, freePort, sleep, tempDir, trackChild as track } from "../../test/helpers/processes.js";

/** Polls `check` until truthy, every 5 ms by default (the bench times short waits). */
export function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 5): Promise<NonNullable<T>> {
  return pollUntil(what, check, timeoutMs, everyMs);
}

export const now = (): number => performance.now();

/** CPU time (user + system) of this process in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Runs `fn` repeatedly for about `ms` (after a short warm-up) in `rounds` rounds and returns
 * the mean µs per call of the fastest round: other processes on the machine only ever slow a
 * round down. Calls are timed in chunks so the clock is not read around every call.
 */
export function timeLoop(fn: () => void, ms: number, rounds = 5): { usPerOp: number; ops: number } {
  const warm = now() + Math.min(200, ms / 3);
  while (now() < warm) fn();
  let best = Infinity;
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const start = now();
    const end = start + ms / rounds;
    let chunk = 1;
    for (;;) {
      for (let i = 0; i < chunk; i++) fn();
      ops += chunk;
      const t = now();
      if (t >= end) {
        best = Math.min(best, ((t - start) * 1000) / ops);
        break;
      }
      // Next chunk: about a quarter of the time left, so a round ends close to its end.
      chunk = Math.max(1, Math.min(4096, Math.floor((end - t) / ((t - start) / ops) / 4)));
    }
    total += ops;
  }
  return { usPerOp: best, ops: total };
}

/** Runs `n` workers in parallel, each calling `next(workerIndex)` until it returns false. */
export async function workers(n: number, next: (w: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (await next(w)) {
        /* keep going */
      }
    }),
  );
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a";
