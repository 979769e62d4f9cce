// One clock for the benchmark, its child processes and nats-server: times taken in different
// processes (an entry stored by the server, applied by a mailstore) are compared directly.

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * The wall clock's offset from the monotonic clock, taken at the instant Date.now() ticks, so
 * wallMs() agrees with every process's wall clock (the server's storage times included) to a
 * few µs, with the monotonic clock's resolution. (performance.timeOrigin + performance.now()
 * does not: each process rounds its origin on its own, and they differ by up to a few ms.)
 */
function wallOffset(): number {
  const start = Date.now();
  let t = start;
  while (t === start) t = Date.now();
  return t - monotonicMs();
}

const offset = wallOffset();

/** Wall-clock ms since the epoch, sub-ms precision. */
export const wallMs = (): number => monotonicMs() + offset;
