import { chmodSync, closeSync, existsSync, openSync } from "node:fs";
import { privateFolder } from "./private_folder.js";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { MailCommand } from "../mail/commands.js";
import { decide } from "../mail/decide.js";
import { accountNotFound, folderNotFound, itemNotFound, MailError } from "../mail/errors.js";
import type { TxBatch } from "../mail/events.js";
import type { RecordedRequest } from "../mail/types.js";
import { folderPathKey, validateFolderPath } from "../mail/folder_path.js";
import { applyEvents } from "./apply_events.js";
import { applyBatchEntry, applyEntryRun, type EntryCheck, type EntryRunOutcome, type LogEntryToApply } from "./batch_applier.js";
import {
  AccountStateStatements,
  readAccountState,
  readAccountStateInPages,
  writeAccountState,
  type AccountState,
  type StatePosition,
} from "./account_state.js";
import { StoreError } from "./errors.js";
import { StoreMailboxView } from "./mailbox_view.js";
import { migrate } from "./migrations.js";
import { parseList, toAccountInfo, toItemSummary, toReplicaState } from "./rows.js";
import { Statements } from "./statements.js";
import type {
  AccountDump,
  AccountInfo,
  AccountSummary,
  ApplyOutcome,
  FolderInfo,
  ItemDetail,
  ItemList,
  ListItemsOptions,
  MetadataStoreOptions,
  PlanOutcome,
  ReplicaRole,
  ReplicaState,
  ReplicaStatus,
} from "./types.js";

/** A Promoted entry appended at `seq` of the account's log, to apply with the copy made primary. */
export interface PromotedToApply {
  accountId: string;
  seq: number;
  batch: TxBatch;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const ROLES: ReadonlySet<string> = new Set<ReplicaRole>(["primary", "replica"]);
const STATUSES: ReadonlySet<string> = new Set<ReplicaStatus>(["available", "unavailable", "paused"]);

/**
 * The mailstore's SQLite metadata: every account it hosts (as primary or replica), and per
 * account how far its log has been applied. One connection, synchronous calls: each public
 * method is atomic with respect to the others.
 */
export class MetadataStore {
  private readonly applyTx: (accountId: string, seq: number, batch: TxBatch, at: number) => ApplyOutcome;
  private readonly dropTx: (accountId: string) => void;
  private readonly applyPromotionsTx: (entries: readonly PromotedToApply[], at: number) => Array<ApplyOutcome | Error>;
  private readonly applyRunTx: (accountId: string, entries: readonly LogEntryToApply[], check: EntryCheck, at: number) => EntryRunOutcome;
  private readonly readStateTx: (accountId: string) => { state: AccountState; position: StatePosition } | undefined;
  private readonly writeStateTx: (accountId: string, state: AccountState, position: StatePosition, at: number) => void;

  /** the read-only connection of exportAccountStateInPages (restore over the live account) and its statements, opened on first use */
  private reader: { db: Database.Database; s: AccountStateStatements } | undefined;
  private exporting: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly db: Database.Database,
    private readonly s: Statements,
    private readonly now: () => number,
  ) {
    // IMMEDIATE: take the write lock up front, so busy_timeout (not a failed upgrade) handles
    // another connection writing.
    this.applyTx = db.transaction((accountId: string, seq: number, batch: TxBatch, at: number) => applyBatchEntry(s, accountId, seq, batch, at)).immediate;
    // Each promotion in a savepoint of its own (a transaction function called inside another):
    // one that fails is rolled back alone, the others commit together.
    const applyPromoted = db.transaction((accountId: string, seq: number, batch: TxBatch, at: number): ApplyOutcome => {
      const outcome = applyBatchEntry(s, accountId, seq, batch, at);
      this.expectState(s.setRole.run("primary", accountId).changes, accountId);
      return outcome;
    });
    this.applyPromotionsTx = db.transaction((entries: readonly PromotedToApply[], at: number) =>
      entries.map((e) => {
        try {
          return applyPromoted(e.accountId, e.seq, e.batch, at);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      }),
    ).immediate;
    this.dropTx = db.transaction((accountId: string) => {
      s.deleteItems.run(accountId);
      s.deleteTags.run(accountId);
      s.deleteFolders.run(accountId);
      s.deleteAccount.run(accountId);
      s.deleteRequests.run(accountId);
      s.deleteReplicaState.run(accountId);
    }).immediate;
    this.applyRunTx = db.transaction((accountId: string, entries: readonly LogEntryToApply[], check: EntryCheck, at: number) =>
      applyEntryRun(s, accountId, entries, check, at),
    ).immediate;
    const ss = new AccountStateStatements(db);
    // Deferred: a read transaction, so the rows and the applied seq are one moment of the account.
    this.readStateTx = db.transaction((accountId: string) => readAccountState(ss, accountId)).deferred;
    this.writeStateTx = db.transaction((accountId: string, state: AccountState, position: StatePosition, at: number) =>
      writeAccountState(ss, accountId, state, position, at),
    ).immediate;
  }

  /** Opens (creating if needed) the store at `file` and migrates it to the latest schema. */
  static open(file: string, opts: MetadataStoreOptions = {}): MetadataStore {
    const now = opts.now ?? Date.now;
    let db: Database.Database;
    try {
      privateFolder(dirname(file));
      // Mail metadata is for this user only: the file is created 0600 before SQLite opens it,
      // and SQLite gives its -wal and -shm files the database file's mode.
      closeSync(openSync(file, "a", 0o600));
      chmodSync(file, 0o600);
      db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5000 });
    } catch (e) {
      throw new StoreError(
        "STORE_OPEN_FAILED",
        `cannot open metadata store ${file}: ${(e as Error).message}; check the data folder exists and is writable`,
        { file },
        { cause: e },
      );
    }
    try {
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a process crash loses nothing committed; only an OS crash or power
      // loss can drop the last transactions, and the JetStream account log is the source of
      // truth anyway — applied_seq rolls back with them and those batches are applied again.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      migrate(db, file, now);
      // Files an older version created with looser modes are tightened too.
      for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
      return new MetadataStore(file, db, new Statements(db), now);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** The SQLite file (a snapshot's reader opens it read-only on a thread of its own). */
  get path(): string {
    return this.file;
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    this.reader?.db.close();
    this.reader = undefined;
    this.db.close();
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * Applies the log entry at `seq` for the account, exactly once, in one transaction with the
   * new applied seq. Idempotent (a seq already applied returns "duplicate"). Seqs may skip
   * (stream-wide sequence). Throws StoreError REPLICA_STATE_NOT_FOUND (ensureReplicaState
   * first) or APPLY_FAILED (nothing applied; mark the replica unavailable).
   */
  applyBatch(accountId: string, seq: number, batch: TxBatch): ApplyOutcome {
    return this.applyTx(accountId, seq, batch, this.now());
  }

  /**
   * Applies the Promoted entries a promotion here appended (one per account, at `seq`) and
   * makes each copy primary: what applyBatch then setRole(primary) do for one, for many in one
   * transaction. Each account's apply and role change commit together or not at all; one that
   * fails gets its error in its place and the others still commit. Throws only when SQLite
   * fails the whole transaction (nothing is applied then).
   */
  applyPromotions(entries: readonly PromotedToApply[]): Array<ApplyOutcome | Error> {
    return this.applyPromotionsTx(entries, this.now());
  }

  /**
   * Applies consecutive log entries of the account in one transaction (a catch-up's run),
   * each exactly as applyBatch would, after `check` (authorship) accepted it against the state
   * it applies onto. Stops at the first entry that does not follow the applied seq (a gap) or
   * that `check` or the applier refuses: that entry's partial effects are rolled back, the
   * entries before it commit. Throws only when SQLite itself fails (nothing is applied then).
   */
  applyEntryRun(accountId: string, entries: readonly LogEntryToApply[], check: EntryCheck): EntryRunOutcome {
    return this.applyRunTx(accountId, entries, check, this.now());
  }

  /**
   * Decides the commands in order, each against the current state plus the effects of the
   * ok commands before it; a refused command affects nothing after it. Changes nothing
   * (everything runs in a transaction that is rolled back). Ids of later commands are higher.
   * Between plan and applyBatch of its batch, no other write for the account may happen.
   */
  plan(accountId: string, commands: readonly MailCommand[]): PlanOutcome[] {
    const view = new StoreMailboxView(this.s, accountId);
    const ctx = { accountId, seq: undefined, at: this.now() };
    const out: PlanOutcome[] = [];
    this.s.begin.run();
    try {
      for (const command of commands) {
        this.s.savepoint.run();
        try {
          const decision = decide(view, command);
          applyEvents(this.s, ctx, decision.events, 0);
          this.s.releaseSavepoint.run();
          out.push({ ok: true, events: decision.events, result: decision.result });
        } catch (e) {
          // Anything but a refusal is a bug or a broken database: abandon the whole plan.
          if (!(e instanceof MailError)) throw e;
          this.s.rollbackToSavepoint.run();
          this.s.releaseSavepoint.run();
          out.push({ ok: false, error: e });
        }
      }
    } finally {
      // SQLite may already have rolled back on its own (e.g. disk full); keep the first error.
      if (this.db.inTransaction) this.s.rollback.run();
    }
    return out;
  }

  /**
   * The account's whole replicated state and the log position it is at (what a snapshot
   * holds), read in one transaction. Undefined while nothing of the account has been applied.
   */
  exportAccountState(accountId: string): { state: AccountState; position: StatePosition } | undefined {
    return this.readStateTx(accountId);
  }

  /**
   * exportAccountState without holding the process: read on a second, read-only connection
   * in one read transaction, 5,000 items a turn of the event loop (restore over the live
   * account compares it with the point). One export at a time per store; the connection stays open for the next.
   */
  async exportAccountStateInPages(accountId: string, pageRows = 5_000): Promise<{ state: AccountState; position: StatePosition } | undefined> {
    const previous = this.exporting;
    let done!: () => void;
    this.exporting = new Promise<void>((r) => (done = r));
    await previous;
    try {
      if (!this.reader) {
        const db = new Database(this.file, { readonly: true, timeout: 5_000 });
        this.reader = { db, s: new AccountStateStatements(db) };
      }
      return await readAccountStateInPages(this.reader.db, this.reader.s, accountId, pageRows);
    } finally {
      done();
    }
  }

  /**
   * Replaces the account's rows with `state` and sets its applied seq, epoch, primary and
   * grant to `position`, in one transaction; the copy is then available at `position.seq`.
   * Its role and generation stay. Throws StoreError REPLICA_STATE_NOT_FOUND, or SQLite's
   * constraint error for rows that do not fit together (nothing is changed then).
   */
  loadAccountState(accountId: string, state: AccountState, position: StatePosition): void {
    this.writeStateTx(accountId, state, position, this.now());
  }

  /** Deletes every row of the account, its replica state included (a replica was removed). */
  dropAccount(accountId: string): void {
    this.dropTx(accountId);
  }

  // ---- replica state -----------------------------------------------------------------------

  /** The account's row, created (applied seq 0, epoch 0, available) if missing; an existing row is returned unchanged. */
  ensureReplicaState(accountId: string, role: ReplicaRole): ReplicaState {
    checkRole(role);
    this.s.insertReplicaState.run(accountId, role);
    return this.replicaStateOrThrow(accountId);
  }

  replicaState(accountId: string): ReplicaState | undefined {
    const row = this.s.replicaState.get(accountId);
    return row && toReplicaState(row);
  }

  /** Sets status and error (null unless given). Throws REPLICA_STATE_NOT_FOUND. */
  setReplicaStatus(accountId: string, status: ReplicaStatus, error?: string): ReplicaState {
    if (!STATUSES.has(status)) {
      throw new StoreError("INVALID_ARGUMENT", `replica status ${JSON.stringify(status)} is not one of available, unavailable, paused`, { status });
    }
    this.expectState(this.s.setStatus.run(status, error ?? null, accountId).changes, accountId);
    return this.replicaStateOrThrow(accountId);
  }

  /** Throws REPLICA_STATE_NOT_FOUND. */
  /** Records the directory generation this copy belongs to. */
  setGeneration(accountId: string, generation: number): ReplicaState {
    this.expectState(this.s.setGeneration.run(generation, accountId).changes, accountId);
    return this.replicaStateOrThrow(accountId);
  }

  setRole(accountId: string, role: ReplicaRole): ReplicaState {
    checkRole(role);
    this.expectState(this.s.setRole.run(role, accountId).changes, accountId);
    return this.replicaStateOrThrow(accountId);
  }

  /** Every account hosted here, by id. */
  listReplicaStates(): ReplicaState[] {
    return this.s.listReplicaStates.all().map(toReplicaState);
  }

  // ---- reads -------------------------------------------------------------------------------

  account(accountId: string): AccountInfo | undefined {
    const row = this.s.accountById.get(accountId);
    return row && toAccountInfo(row);
  }

  /** By address, ignoring ASCII case. */
  accountByName(name: string): AccountInfo | undefined {
    const row = this.s.accountByName.get(name);
    return row && toAccountInfo(row);
  }

  /**
   * Replica state and account counters in one primary-key read: what getAccountStatus needs
   * (appliedSeq as `sequence`, lastItemId as `itemId`, mailboxId). Undefined if not hosted.
   */
  accountSummary(accountId: string): AccountSummary | undefined {
    const row = this.s.summary.get(accountId);
    if (row === undefined) return undefined;
    const state = toReplicaState(row);
    return {
      accountId,
      name: row.name,
      mailboxId: row.mailbox_id,
      lastItemId: row.last_item_id,
      appliedSeq: state.appliedSeq,
      epoch: state.epoch,
      role: state.role,
      status: state.status,
      error: state.error,
      appliedAt: state.appliedAt,
    };
  }

  /** Folders by id (system folders first). Throws MailError ACCOUNT_NOT_FOUND. */
  listFolders(accountId: string): FolderInfo[] {
    this.requireAccount(accountId);
    return this.s.listFolders.all(accountId).map((r) => ({ id: r.id, path: r.path, parentId: r.parent_id, itemCount: r.item_count }));
  }

  /**
   * A page of items, newest first, of one folder or the whole account. Throws MailError
   * ACCOUNT_NOT_FOUND, FOLDER_NOT_FOUND, INVALID_FOLDER_PATH or INVALID_PAGING.
   */
  listItems(accountId: string, opts: ListItemsOptions = {}): ItemList {
    const limit = opts.limit ?? DEFAULT_LIMIT;
    const offset = opts.offset ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT || !Number.isSafeInteger(offset) || offset < 0) {
      throw new MailError(
        "INVALID_PAGING",
        `limit ${limit} / offset ${offset} are out of range; limit is an integer 1..${MAX_LIMIT} (default ${DEFAULT_LIMIT}), offset an integer >= 0`,
        { limit, offset },
      );
    }
    this.requireAccount(accountId);
    if (opts.folder === undefined) {
      return { items: this.s.pageAll.all(accountId, limit, offset).map(toItemSummary), total: this.s.countAll.get(accountId) ?? 0 };
    }
    const path = validateFolderPath(opts.folder);
    const folder = this.s.folderByKey.get(accountId, folderPathKey(path));
    if (folder === undefined) throw folderNotFound(accountId, path);
    return {
      items: this.s.pageFolder.all(accountId, folder.id, limit, offset).map(toItemSummary),
      total: this.s.countFolder.get(accountId, folder.id) ?? 0,
    };
  }

  /** The first outcome stored for a requestId of the account (its params digest and result), if any. */
  recordedRequest(accountId: string, requestId: string): RecordedRequest | undefined {
    return new StoreMailboxView(this.s, accountId).request(requestId);
  }

  /** One item with its blob digest. Throws MailError ITEM_NOT_FOUND or ACCOUNT_NOT_FOUND. */
  getItem(accountId: string, id: number): ItemDetail {
    const row = this.s.getItem.get(accountId, id);
    if (row === undefined) {
      this.requireAccount(accountId);
      throw itemNotFound(accountId, [id]);
    }
    return { ...toItemSummary(row), folderId: row.folder_id, messageId: row.message_id, blob: row.blob };
  }

  /** Every replicated row of the account in a stable order, local-only columns left out. */
  dumpAccount(accountId: string): AccountDump {
    const a = this.s.accountById.get(accountId);
    return {
      account: a ? { id: a.id, name: a.name, type: a.type, mailHost: a.mail_host, lastItemId: a.last_item_id, createdAt: a.created_at } : null,
      folders: this.s.listFolders.all(accountId).map((f) => ({ id: f.id, path: f.path, parentId: f.parent_id })),
      items: this.s.dumpItems.all(accountId).map((r) => ({
        id: r.id,
        folderId: r.folder_id,
        messageId: r.message_id,
        from: r.sender,
        to: parseList(r.recipients),
        cc: parseList(r.cc),
        subject: r.subject,
        date: r.date,
        size: r.size,
        flags: parseList(r.flags),
        tags: parseList(r.tags),
        blob: r.blob,
      })),
      tags: this.s.listTags.all(accountId),
    };
  }

  // ---- helpers -----------------------------------------------------------------------------

  private requireAccount(accountId: string): void {
    if (this.s.accountById.get(accountId) === undefined) throw accountNotFound(accountId);
  }

  private replicaStateOrThrow(accountId: string): ReplicaState {
    const row = this.s.replicaState.get(accountId);
    if (row === undefined) throw notHosted(accountId);
    return toReplicaState(row);
  }

  private expectState(changes: number, accountId: string): void {
    if (changes === 0) throw notHosted(accountId);
  }
}

function notHosted(accountId: string): StoreError {
  return new StoreError("REPLICA_STATE_NOT_FOUND", `account ${accountId} is not hosted on this mailstore; call ensureReplicaState(accountId, role) first`, {
    account: accountId,
  });
}

function checkRole(role: string): void {
  if (!ROLES.has(role)) throw new StoreError("INVALID_ARGUMENT", `replica role ${JSON.stringify(role)} is not one of primary, replica`, { role });
}
