// Point-in-time restore (restoreAccount): the state of an account as of a past log seq or time,
// rebuilt in a scratch SQLite file from the newest snapshot at or before that point plus the
// log up to it (every entry checked as a replica checks it), then written into a new account
// as ordinary log entries (src/mail/restore.ts), or, with overwrite, the difference written
// into the account's own log (src/mail/restore_over.ts). No log entry is ever rewritten.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import { txSubject, type Assets } from "../../src/jetstream/assets.js";
import type { AccountRecord } from "../../src/directory/types.js";
import type { MailCommand, MailResult, RestoredItem } from "../../src/mail/index.js";
import type { BlobStore } from "../../src/blobs/blob_store.js";
import { isEmptyPlan, planRestoreOver, type MailboxState, type RestoreOverPlan } from "../../src/mail/restore_over.js";
import type { ActorRef } from "../../src/runtime/types.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { MetadataStore, type AccountState, type LogEntryToApply } from "../../src/store/index.js";
import type { Logger } from "../../src/log/index.js";
import type { RestoredAccount, RestoredOver } from "../../src/protocol/node_api.js";
import { checkAuthorship } from "./log_authorship.js";
import { openLogEntry } from "./log_entry.js";
import { seedFromSnapshot } from "./snapshot_seed.js";
import { NodeError } from "./errors.js";
import { isSystemFolderId } from "../../src/mail/system_folders.js";

export interface RestoreContext {
  host: string;
  keyring: EnvelopeKeyring;
  assets: Pick<Assets, "js" | "jsm" | "opts" | "snapshots">;
  /** the live state of an account this mailstore is primary of (restore over it) */
  store: Pick<MetadataStore, "exportAccountStateInPages">;
  /** whether a re-created item's body is still in centralized storage */
  blobs: Pick<BlobStore, "has">;
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

/** An item row of a state as the restore writes it. */
function restoredItem([itemId, folderId, messageId, from, to, cc, subject, date, size, flags, tags, blob]: AccountState["items"][number]): RestoredItem {
  return {
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
  };
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
  const items = state.items.map(restoredItem);
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

/**
 * Passes of a restore over the live account. A pass that finds the account changed under it
 * (a write landed between the plan and a step: RESTORE_CONFLICT, or the check after it still
 * sees a difference) plans again from the state then; only writes that keep landing use them up.
 */
export const RESTORE_OVER_PASSES = 5;

function mailboxState(state: AccountState): MailboxState {
  return {
    folders: state.folders.map(([id, path, parentId]) => ({ id, path, parentId })),
    items: state.items.map(restoredItem),
    tags: state.tags,
  };
}

/**
 * Restores the account `accountId` (primary here) over itself: its state as of `point`, written
 * as the difference to its state now, as new entries of its own log. Each pass plans against
 * the state the account actor has applied (after a read barrier), writes the steps (each
 * checked against the account when decided), then checks again; it ends when the account
 * equals the point's state. Re-created items need their bodies: when one is missing from
 * centralized storage the restore is refused BLOB_MISSING before that pass writes anything.
 */
export async function restoreOver(ctx: RestoreContext, accountId: string, point: RestorePoint): Promise<RestoredOver> {
  const rec = await ctx.accountRecord(accountId);
  const actor = ctx.accountActor(rec);
  const ask = (command: MailCommand): Promise<MailResult> => actor.ask(command, ctx.opts.writes.askTimeoutMs);
  const { state, seq, time } = await accountStateAt(ctx, accountId, point);
  const target = mailboxState(state);
  let first: RestoreOverPlan | undefined;
  for (let pass = 1; ; pass++) {
    await ask({ op: "sync" });
    // Read in pages on the store's second connection: a large account does not hold the mailstore.
    const live = await ctx.store.exportAccountStateInPages(accountId);
    if (!live) throw new NodeError("ACCOUNT_NOT_FOUND", `account ${accountId} has no state on ${ctx.host}; nothing was changed`, { account: accountId });
    const plan = planRestoreOver(target, mailboxState(live.state), String(seq), RESTORE_ITEMS_PER_ENTRY);
    first ??= plan;
    if (isEmptyPlan(plan)) {
      ctx.log.info({ accountId, seq, passes: pass - 1, ...first.changes }, "account restored over itself");
      return {
        source: accountId,
        target: accountId,
        seq,
        at: new Date(time).toISOString(),
        folders: target.folders.filter((f) => !isSystemFolderId(f.id)).length,
        items: target.items.length,
        tags: target.tags.length,
        changes: first.changes,
        passes: pass - 1,
      };
    }
    if (pass > RESTORE_OVER_PASSES) {
      throw new NodeError(
        "RESTORE_CONFLICT",
        `account ${accountId} kept changing while it was being restored (${RESTORE_OVER_PASSES} passes, each undone by writes landing meanwhile); what was written stays in its log — stop what writes to the account (its mail clients, deliveries) and run the restore again`,
        { account: accountId, passes: RESTORE_OVER_PASSES },
      );
    }
    await requireBodies(ctx, accountId, plan, pass === 1);
    try {
      await writePlan(ask, plan);
    } catch (e) {
      if ((e as { code?: unknown }).code !== "RESTORE_CONFLICT") throw e;
      ctx.log.warn({ accountId, pass, reason: (e as Error).message }, "restore over the live account met a write; planning again");
    }
  }
}

/** The phases in order; items steps a few at a time (independent), folder steps one by one (parents first). */
async function writePlan(ask: (c: MailCommand) => Promise<MailResult>, plan: RestoreOverPlan): Promise<void> {
  for (const phase of plan.phases) {
    if (phase[0]?.do === "items") {
      await runBounded(phase, 4, (step) => ask({ op: "restoreOver", step }));
      continue;
    }
    for (const step of phase) await ask({ op: "restoreOver", step });
  }
}

/** Refuses (BLOB_MISSING) a plan that re-creates an item whose body is gone: it could never be read. */
async function requireBodies(ctx: RestoreContext, accountId: string, plan: RestoreOverPlan, firstPass: boolean): Promise<void> {
  const byBlob = new Map<string, number>();
  for (const item of plan.recreated) if (!byBlob.has(item.blob)) byBlob.set(item.blob, item.itemId);
  const found = await runBounded([...byBlob.keys()], 8, (blob) => ctx.blobs.has(blob));
  const missing = [...byBlob].filter((_, i) => !found[i]);
  if (missing.length === 0) return;
  const [blob, itemId] = missing[0]!;
  throw new NodeError(
    "BLOB_MISSING",
    `account ${accountId} cannot be restored over itself: ${missing.length} item bod${missing.length > 1 ? "ies" : "y"} it would re-create ${missing.length > 1 ? "are" : "is"} no longer in centralized storage (item ${itemId}, blob ${blob}); ${firstPass ? "nothing was changed" : "what earlier passes wrote stays in its log"} — restore the blobs bucket from a backup (docs/operations.md, "Back up"), then run the restore again`,
    { account: accountId, blob, item: itemId, missing: missing.length },
  );
}
