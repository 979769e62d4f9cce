// Point-in-time restore (restoreAccount): the state of an account as of a past log seq or time,
// rebuilt in a scratch SQLite file from the newest snapshot at or before that point plus the
// log up to it (every entry checked as a replica checks it), then written into a new account
// as ordinary log entries (src/mail/restore.ts). Nothing of the original's log is changed.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import { txSubject, type Assets } from "../../src/jetstream/assets.js";
import type { AccountRecord } from "../../src/directory/types.js";
import type { MailCommand, MailResult, RestoredItem } from "../../src/mail/index.js";
import type { ActorRef } from "../../src/runtime/types.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { MetadataStore, type AccountState, type LogEntryToApply } from "../../src/store/index.js";
import type { Logger } from "../../src/log/index.js";
import type { RestoredAccount } from "../../src/protocol/node_api.js";
import { checkAuthorship } from "./log_authorship.js";
import { openLogEntry } from "./log_entry.js";
import { seedFromSnapshot } from "./snapshot_seed.js";
import { NodeError } from "./errors.js";
import { isSystemFolderId } from "../../src/mail/system_folders.js";

export interface RestoreContext {
  host: string;
  keyring: EnvelopeKeyring;
  assets: Pick<Assets, "js" | "jsm" | "opts" | "snapshots">;
  opts: { dataDir: string; writes: { askTimeoutMs: number } };
  log: Logger;
  reloadKeys(): boolean;
  accountRecord(idOrName: string): Promise<AccountRecord>;
  accountActor(rec: AccountRecord): ActorRef<MailCommand, MailResult>;
}

/** Exactly one of them: the state after the entry at `seq`, or after the last entry stored at or before `at` (ms). */
export interface RestorePoint {
  seq?: number;
  at?: number;
}

/** Items per restoreState command: one log entry each, well under max_payload. */
export const RESTORE_ITEMS_PER_ENTRY = 200;

function pointUnavailable(message: string, details: Record<string, unknown>): NodeError {
  return new NodeError("RESTORE_POINT_UNAVAILABLE", message, details);
}

/** The account's state as of `point`, with the seq and stored time of the last entry in it. */
export async function accountStateAt(ctx: RestoreContext, accountId: string, point: RestorePoint): Promise<{ state: AccountState; seq: number; time: number }> {
  const file = join(ctx.opts.dataDir, `restore-${randomUUID()}.sqlite`);
  const directory = await ctx.accountRecord(accountId);
  const scratch = MetadataStore.open(file);
  try {
    scratch.ensureReplicaState(accountId, "replica");
    await seedFromSnapshot(
      {
        store: scratch,
        keyring: ctx.keyring,
        snapshots: ctx.assets.snapshots,
        reloadKeys: () => ctx.reloadKeys(),
        directory: () => directory,
        log: ctx.log,
      },
      accountId,
      { forLiveCopy: false, ...(point.seq !== undefined ? { atMostSeq: point.seq } : { storedBefore: point.at! }) },
    );
    let time: number | undefined;
    const log = new SubjectLog(ctx.assets.js, ctx.assets.jsm, ctx.assets.opts.txStream, txSubject(accountId));
    const head = await log.lastSeq();
    if (point.seq !== undefined && point.seq > head) {
      throw pointUnavailable(`account ${accountId}'s log ends at seq ${head}, before seq ${point.seq}`, { account: accountId, head });
    }
    const check = (state: Parameters<typeof checkAuthorship>[1], batch: Parameters<typeof checkAuthorship>[2], signer: string) =>
      void checkAuthorship(ctx.keyring.trust, state, batch, signer);
    const applyRun = (run: LogEntryToApply[]): void => {
      const out = scratch.applyEntryRun(accountId, run, check);
      if (out.stop?.kind === "gap") {
        const from = scratch.replicaState(accountId)?.appliedSeq ?? 0;
        throw pointUnavailable(
          `account ${accountId}'s log no longer holds the entries between seq ${from} and ${out.stop.prev} and no snapshot at or before the point covers them: history is kept for retention.keepDays`,
          { account: accountId, seq: from },
        );
      }
      if (out.stop?.kind === "refused") throw out.stop.error;
    };
    let run: LogEntryToApply[] = [];
    const from = (scratch.replicaState(accountId)?.appliedSeq ?? 0) + 1;
    for await (const e of log.read(from)) {
      if ((point.seq !== undefined && e.seq > point.seq) || (point.at !== undefined && e.time > point.at)) break;
      run.push(openLogEntry(ctx.keyring, accountId, e.seq, e.data, () => ctx.reloadKeys()));
      time = e.time;
      if (run.length >= 256) {
        applyRun(run);
        run = [];
      }
    }
    if (run.length > 0) applyRun(run);
    const exported = scratch.exportAccountState(accountId);
    if (!exported) {
      throw pointUnavailable(
        `account ${accountId} did not exist yet at that point, or its log no longer reaches back to it (history is kept for retention.keepDays)`,
        {
          account: accountId,
        },
      );
    }
    // No entry read after the snapshot: the time of the snapshot's own entry (kept by compaction).
    time ??= (await ctx.assets.jsm.streams.getMessage(ctx.assets.opts.txStream, { seq: exported.position.seq }).catch(() => null))?.time.getTime();
    return { state: exported.state, seq: exported.position.seq, time: time ?? 0 };
  } finally {
    scratch.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  }
}

/** Rebuilds `sourceId` as of `point` and writes it into the new, empty account `targetId` (primary here). */
export async function restoreInto(ctx: RestoreContext, sourceId: string, targetId: string, point: RestorePoint): Promise<RestoredAccount> {
  const target = await ctx.accountRecord(targetId);
  const actor = ctx.accountActor(target);
  const { state, seq, time } = await accountStateAt(ctx, sourceId, point);
  const ask = (command: MailCommand): Promise<MailResult> => actor.ask(command, ctx.opts.writes.askTimeoutMs);
  // Parents first: a path's parent has fewer '/'.
  const folders = state.folders.map(([id, path]) => ({ id, path })).sort((a, b) => a.path.split("/").length - b.path.split("/").length || a.id - b.id);
  await ask({ op: "restoreState", folders, items: [], tags: [] });
  const items: RestoredItem[] = state.items.map(([itemId, folderId, messageId, from, to, cc, subject, date, size, flags, tags, blob]) => ({
    itemId,
    folderId,
    messageId,
    from,
    to: JSON.parse(to) as string[],
    cc: JSON.parse(cc) as string[],
    subject,
    date,
    size,
    flags: JSON.parse(flags) as string[],
    tags: JSON.parse(tags) as string[],
    blob,
  }));
  const chunks: RestoredItem[][] = [];
  for (let i = 0; i < items.length; i += RESTORE_ITEMS_PER_ENTRY) chunks.push(items.slice(i, i + RESTORE_ITEMS_PER_ENTRY));
  // A few in flight: the account actor commits them together, split below max_payload.
  await runBounded(chunks, 4, (chunk) => ask({ op: "restoreState", folders: [], items: chunk, tags: [] }));
  if (state.tags.length > 0) await ask({ op: "restoreState", folders: [], items: [], tags: state.tags });
  ctx.log.info({ accountId: sourceId, into: targetId, seq, items: items.length }, "account restored");
  return {
    source: sourceId,
    target: targetId,
    seq,
    at: new Date(time).toISOString(),
    folders: folders.filter((f) => !isSystemFolderId(f.id)).length,
    items: items.length,
    tags: state.tags.length,
  };
}
