// The directory follows the log (docs/architecture.md, Promotion, step 4): once the log names `host` as primary at
// `epoch`, the account record is moved there by compare-and-set. The epoch only moves
// forward: a record already at that epoch or later is left alone, so the supervisor, the
// promoted mailstore and the reconciler can all do it, in any order, any number of times.
import type { Directory } from "../../src/directory/directory.js";
import type { AccountRecord, Versioned } from "../../src/directory/types.js";
import { accountUnknown, DirectoryError } from "../../src/directory/errors.js";

export interface LogPrimary {
  host: string;
  epoch: number;
}

/** Compare-and-set attempts before giving up (others writing the same record meanwhile). */
const ATTEMPTS = 20;

/**
 * Records a promotion the log holds. The old primary stays listed as a replica (it catches
 * up when it comes back) with `oldPrimaryPriority`, default the promoted replica's priority.
 * `known`: the record as the caller read it, the first compare-and-set's base (saves a read
 * when nobody wrote it since). Returns the record as stored and whether this call changed it.
 */
export async function recordPromotion(
  directory: Directory,
  accountId: string,
  to: LogPrimary,
  now: number,
  oldPrimaryPriority?: number,
  known?: Versioned<AccountRecord>,
): Promise<{ record: AccountRecord; changed: boolean; before: LogPrimary }> {
  let seen = known ?? (await directory.byId(accountId));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!seen) throw accountUnknown(accountId);
    const before = { host: seen.value.mailHost, epoch: seen.value.epoch };
    // Already recorded (or moved on since): no write (every write wakes each mailstore's directory watch).
    if (seen.value.epoch >= to.epoch) return { record: seen.value, changed: false, before };
    const next = promoted(structuredClone(seen.value), to, now, oldPrimaryPriority);
    if ((await directory.compareAndSet(next, seen.revision)) !== undefined) return { record: next, changed: true, before };
    seen = await directory.byId(accountId); // someone wrote it in between: read again
  }
  throw new DirectoryError("DIRECTORY_CONFLICT", `account ${accountId} kept changing under ${ATTEMPTS} attempts; retry`, { account: accountId });
}

/** `cur` (a copy the caller owns) moved to `to`, which is at a later epoch. */
function promoted(cur: AccountRecord, to: LogPrimary, now: number, oldPrimaryPriority?: number): AccountRecord {
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
}
