// Runs a function over a list with at most `limit` calls under way at once: enough to overlap
// the I/O of many accounts, few enough not to flood NATS or a store with requests.
// Items start in list order, each as soon as a slot is free; results keep the list's order.

export interface BoundedRunOptions {
  /**
   * Asked before each item starts; once it returns true no further item starts (those under
   * way finish). Their result slots stay empty. Used to give up when the run is no longer
   * wanted (a supervisor that lost its lease, a load test past its end).
   */
  stop?: () => boolean;
}

/**
 * Calls `fn(item, index)` for every item, at most `limit` (an integer >= 1) at once, and
 * resolves to the results in the items' order.
 *
 * A call that throws ends the run: no further item starts, the calls under way are waited
 * for, then the returned promise rejects with the first error. So when it settles, no call
 * is running. Callers that want every item tried catch inside `fn`.
 *
 * With `stop`, items that never started have no result: the array has `undefined` there.
 */
export function runBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]>;
export function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  opts: BoundedRunOptions,
): Promise<Array<R | undefined>>;
export async function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  opts: BoundedRunOptions = {},
): Promise<Array<R | undefined>> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`runBounded: limit must be an integer of at least 1, got ${limit}`);
  const results: Array<R | undefined> = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed && !opts.stop?.()) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.error;
  return results;
}
