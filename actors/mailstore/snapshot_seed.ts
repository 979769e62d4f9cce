// Seeding a copy from the account's newest snapshot (fast seeding, and the way past entries the
// log no longer holds): read, open (signature), shape and authorship checks, then one SQLite
// transaction replaces the account's rows and moves its applied seq to the snapshot's. The
// entries after it are applied from the log as usual, each checked against the position the
// snapshot gives (epoch, primary), so a copy is never available over entries it did not see.
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import { positionOf } from "../../src/snapshot/account_snapshot.js";
import { openSnapshot } from "../../src/snapshot/snapshot_codec.js";
import { withKeyReload } from "./log_entry.js";
import { checkSnapshotAuthorship, type DirectoryView } from "../../src/snapshot/snapshot_check.js";
import type { SnapshotLog } from "../../src/snapshot/snapshot_log.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { Logger } from "../../src/log/index.js";

export interface SnapshotSeedDeps {
  store: MetadataStore;
  keyring: EnvelopeKeyring;
  snapshots: SnapshotLog;
  /** re-reads the key files; true when something changed */
  reloadKeys?(): boolean;
  /** the account's directory record as this mailstore knows it (the creation epoch's primary is proved by it) */
  directory(accountId: string): DirectoryView | undefined;
  log?: Logger;
}

export interface SeedOutcome {
  /** the seq of the snapshot loaded; undefined when none was (none usable, or the copy was already past it) */
  loaded?: number;
  items: number;
  /** snapshots that could not be used, newest first, with why */
  skipped: { seq: number; reason: string }[];
}

/**
 * Loads the newest usable snapshot newer than what the copy has applied. Undefined when there
 * is none (the caller reads the log instead); `loaded` unset when none could be used. A snapshot that is incomplete or fails a check is
 * skipped for the next older one and named in `skipped` (and logged). With `storedBefore`
 * (a lagged replica, a restore to a time), only snapshots stored before that time count; with
 * `atMostSeq` (a restore to a seq), only those at or before it.
 */
export async function seedFromSnapshot(
  d: SnapshotSeedDeps,
  accountId: string,
  opts: { storedBefore?: number; atMostSeq?: number; forLiveCopy?: boolean } = {},
): Promise<SeedOutcome | undefined> {
  const before = d.store.replicaState(accountId);
  if (!before) return undefined;
  const stored = await d.snapshots.list(accountId);
  const skipped: { seq: number; reason: string }[] = [];
  for (const s of stored.reverse()) {
    if (s.seq <= before.appliedSeq) break;
    if (opts.atMostSeq !== undefined && s.seq > opts.atMostSeq) continue;
    try {
      if (opts.storedBefore !== undefined) {
        // A lagged replica: a snapshot younger than its delay would put it ahead of it.
        const at = await d.snapshots.storedAt(accountId, s.seq);
        if (at === undefined || at > opts.storedBefore) continue;
      }
      const sealed = await d.snapshots.read(accountId, s.seq);
      const snap = withKeyReload(() => {
        const { snapshot, signer } = openSnapshot(d.keyring, sealed, accountId, s.seq);
        checkSnapshotAuthorship(d.keyring.trust, snapshot, signer, d.directory(accountId), { forLiveCopy: opts.forLiveCopy ?? true });
        return snapshot;
      }, d.reloadKeys);
      // Checked again now, with nothing awaited before the load: entries applied meanwhile
      // (the steady consumer) may already be past the snapshot, and a copy never goes back.
      const now = d.store.replicaState(accountId);
      if (!now || now.appliedSeq >= snap.seq) return { items: 0, skipped };
      d.store.loadAccountState(accountId, snap.state, positionOf(snap));
      d.log?.info({ accountId, seq: snap.seq, items: snap.state.items.length, from: before.appliedSeq }, "seeded from snapshot");
      return { loaded: snap.seq, items: snap.state.items.length, skipped };
    } catch (e) {
      const reason = `${(e as { code?: string }).code ?? "ERROR"}: ${(e as Error).message}`;
      skipped.push({ seq: s.seq, reason });
      d.log?.warn({ accountId, seq: s.seq, reason }, "snapshot not usable; trying an older one");
    }
  }
  return skipped.length > 0 ? { items: 0, skipped } : undefined;
}
