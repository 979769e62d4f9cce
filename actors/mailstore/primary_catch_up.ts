// Start-up catch-up of the accounts this mailstore is primary of: each one's actor is started
// (its recovery replays the account log onto SQLite) and passes a read barrier, before the
// mailstore serves mailbox requests. A crash between the log's ack and the SQLite commit, or an
// empty data folder, would otherwise show reads without acknowledged writes.
import type { AccountRecord } from "../../src/directory/types.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";

/** How many accounts replay at once: enough to overlap I/O, few enough not to swamp NATS. */
export const CATCH_UP_CONCURRENCY = 4;

export interface PrimaryCatchUpResult {
  caughtUp: number;
  failed: { account: string; error: string }[];
}

/**
 * Runs `sync` for every record, at most `concurrency` at once. A failure of one account is
 * reported, never thrown: its reads still pass the barrier (and retry the replay) on first use.
 */
export async function catchUpPrimaries(
  records: readonly AccountRecord[],
  sync: (rec: AccountRecord) => Promise<unknown>,
  concurrency: number = CATCH_UP_CONCURRENCY,
): Promise<PrimaryCatchUpResult> {
  const result: PrimaryCatchUpResult = { caughtUp: 0, failed: [] };
  await runBounded(records, concurrency, async (rec) => {
    try {
      await sync(rec);
      result.caughtUp++;
    } catch (e) {
      result.failed.push({ account: rec.name, error: e instanceof Error ? e.message : String(e) });
    }
  });
  return result;
}
