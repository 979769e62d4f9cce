// The directory follows the log (docs/architecture.md, Promotion, step 4): once the log names `host` as primary at
// `epoch`, the account record is moved there by compare-and-set. The epoch only moves
// forward: a record already at that epoch or later is left alone, so the supervisor, the
// promoted mailstore and the reconciler can all do it, in any order, any number of times.
import type { Directory } from "../../src/directory/directory.js";
import type { AccountRecord } from "../../src/directory/types.js";

export interface LogPrimary {
  host: string;
  epoch: number;
}

/**
 * Records a promotion the log holds. The old primary stays listed as a replica (it catches
 * up when it comes back) with `oldPrimaryPriority`, default the promoted replica's priority.
 * Returns the record as stored and whether this call changed it.
 */
export async function recordPromotion(
  directory: Directory,
  accountId: string,
  to: LogPrimary,
  now: number,
  oldPrimaryPriority?: number,
): Promise<{ record: AccountRecord; changed: boolean; before: LogPrimary }> {
  const seen = await directory.byId(accountId);
  if (seen && seen.value.epoch >= to.epoch) {
    // Nothing to do: no write (every write wakes each mailstore's directory watch).
    return { record: seen.value, changed: false, before: { host: seen.value.mailHost, epoch: seen.value.epoch } };
  }
  let changed = false;
  let before: LogPrimary = { host: "", epoch: 0 };
  const updated = await directory.updateAccount(accountId, (cur) => {
    before = { host: cur.mailHost, epoch: cur.epoch };
    changed = false;
    if (cur.epoch >= to.epoch) return cur; // already recorded (or moved on since)
    changed = true;
    const oldPrimary = cur.mailHost;
    const priority = oldPrimaryPriority ?? cur.replicas.find((x) => x.destination === to.host)?.priority ?? 1;
    cur.mailHost = to.host;
    cur.epoch = to.epoch;
    cur.replicas = cur.replicas.filter((x) => x.destination !== to.host);
    if (oldPrimary !== to.host && !cur.replicas.some((x) => x.destination === oldPrimary)) {
      // The old primary stays listed: when it comes back it catches up as a replica.
      cur.replicas.push({ destination: oldPrimary, priority, state: "active", generation: 0, addedAt: now });
    }
    return cur;
  });
  return { record: updated.value, changed, before };
}
