import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailCommand, MailEvent, TxBatch } from "../src/mail/index.js";
import { MetadataStore, StoreError, type FolderInfo } from "../src/store/index.js";

const ACC = "c0ffee00-1234-4abc-8def-0123456789ab";
const SEED = Number(process.env.MR_TEST_SEED ?? 0x5eed2026);
const COMMANDS = 2_500;

/** mulberry32: tiny, seeded, good enough to make failures reproduce (MR_TEST_SEED). */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[this.int(xs.length)]!;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    return Array.from({ length: 1 + this.int(max) }, () => this.pick(xs));
  }
}

const NAMES = ["Projects", "Alpha", "Beta", "archive", "2026", "Receipts", "Travel", "Ärger", "Σοφία", "Straße"];
const FLAGS = ["seen", "Seen", "flagged", "answered", "draft", "Work", "$Label1", "todo", "later"];

function randomCase(rng: Rng, s: string): string {
  return [...s].map((c) => (rng.chance(0.2) ? (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase()) : c)).join("");
}

/** One command, mostly valid against the state seen, some deliberately not. */
function randomCommand(rng: Rng, folders: FolderInfo[], items: number[]): MailCommand {
  const folder = (): string => randomCase(rng, rng.chance(0.4) ? "Inbox" : rng.pick(folders).path);
  const user = folders.filter((f) => f.id >= 257);
  const ids = (): number[] => {
    const chosen = items.length ? rng.some(items, 4) : [];
    return rng.chance(0.08) || chosen.length === 0 ? [...chosen, 1_000_000 + rng.int(1000)] : chosen;
  };
  const newPath = (): string => (rng.chance(0.3) ? "" : `${folder()}/`) + randomCase(rng, rng.pick(NAMES));
  const r = rng.next();
  if (r < 0.34 || items.length === 0) {
    const date = 1_700_000_000_000 + rng.int(500) * 1000; // coarse, so equal dates happen
    return {
      op: "deliverMessage",
      folder: folder(),
      flags: rng.chance(0.5) ? [] : rng.some(FLAGS, 3),
      message: {
        messageId: `<${rng.int(1e9)}@gen>`,
        from: "gen@example.com",
        to: ["u@example.com"],
        cc: rng.chance(0.3) ? ["c@example.com"] : [],
        subject: `s${rng.int(1e6)}`,
        date,
        size: 100 + rng.int(1e5),
        blob: rng.int(1e9).toString(16).padStart(64, "0"),
      },
    };
  }
  if (r < 0.48) return { op: "setFlags", ids: ids(), flags: rng.chance(0.2) ? [] : rng.some(FLAGS, 4) };
  if (r < 0.62) return { op: "moveItems", ids: ids(), folder: folder() };
  if (r < 0.7) return { op: "deleteItems", ids: ids() };
  if (r < 0.8) return { op: "createFolder", path: newPath() };
  if (r < 0.88 && user.length) return { op: "renameFolder", path: randomCase(rng, rng.pick(user).path), newPath: newPath() };
  if (r < 0.91 && user.length) return { op: "deleteFolder", path: rng.pick(user).path };
  // Deliberately wrong: every one of these must be refused and leave no trace.
  switch (rng.int(5)) {
    case 0:
      return { op: "renameFolder", path: rng.pick(["Inbox", "Trash", "Sent"]), newPath: "Elsewhere" };
    case 1:
      return { op: "createFolder", path: "Missing/Child" };
    case 2:
      return { op: "moveItems", ids: ids(), folder: "Nowhere" };
    case 3:
      return { op: "setFlags", ids: ids(), flags: ["not a keyword"] };
    default:
      return { op: "deleteItems", ids: [999_999_999] };
  }
}

function withStores(fn: (open: (name: string) => MetadataStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "mr-store-replication-"));
  const opened: MetadataStore[] = [];
  try {
    fn((name) => {
      const s = MetadataStore.open(join(dir, `${name}.sqlite`));
      opened.push(s);
      return s;
    });
  } finally {
    for (const s of opened) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Entry {
  seq: number;
  batch: TxBatch;
  /** Written by a fenced writer: skipped by every store, so it cannot fail either. */
  stale?: boolean;
}

test(`replication - ${COMMANDS} random commands in group commits give identical stores A, B and C (seed ${SEED})`, () => {
  withStores((open) => {
    const rng = new Rng(SEED);
    const a = open("a");
    a.ensureReplicaState(ACC, "primary");
    const log: Entry[] = [];
    let seq = 0;
    let epoch = 1;
    let maxId = 256;
    const tally = new Map<string, number>();
    const count = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);
    const append = (events: MailEvent[], batchEpoch: number, withPrev: boolean): Entry => {
      const prev = seq;
      seq += 1 + rng.int(4); // stream-wide seqs: other accounts' entries fall in between
      const batch: TxBatch = { v: 1, account: ACC, epoch: batchEpoch, writer: "ms1.example.com", at: 1_000 + seq, events, prev: withPrev ? prev : 0 };
      const entry = { seq, batch };
      log.push(entry);
      return entry;
    };

    append([{ t: "account.created", id: ACC, name: "gen@example.com", type: "account", mailHost: "ms1.example.com" }], epoch, true);
    assert.is(a.applyBatch(ACC, seq, log[0]!.batch).status, "applied");

    let done = 0;
    let group = 0;
    while (done < COMMANDS) {
      const folders = a.listFolders(ACC);
      const items = a.dumpAccount(ACC).items.map((i) => i.id);
      const commands = Array.from({ length: Math.min(COMMANDS - done, 1 + rng.int(12)) }, () => randomCommand(rng, folders, items));
      done += commands.length;
      group += 1;

      const before = group % 20 === 0 ? a.dumpAccount(ACC) : undefined;
      const outcomes = a.plan(ACC, commands);
      if (before) assert.equal(a.dumpAccount(ACC), before, `plan of group ${group} changed the store`);

      const events: MailEvent[] = [];
      outcomes.forEach((o, i) => {
        const op = commands[i]!.op;
        if (!o.ok) return count(`${op}:${o.error.code}`);
        count(`${op}:ok`);
        events.push(...o.events);
        const fresh = o.events.flatMap((e) => (e.t === "message.delivered" ? [e.itemId] : e.t === "folder.created" ? [e.folderId] : []));
        for (const id of fresh) {
          assert.ok(id === maxId + 1, `new id ${id} follows ${maxId} (seed ${SEED})`);
          maxId = id;
        }
      });

      // Halfway, the write role moves: a promoted entry, then a fenced writer's late entry
      // (its effects must be skipped everywhere), then the new primary writes at epoch 2.
      if (epoch === 1 && done >= COMMANDS / 2) {
        epoch = 2;
        const p = append([{ t: "promoted", epoch: 2, host: "ms2.example.com", from: "ms1.example.com" }], 1, true);
        assert.is(a.applyBatch(ACC, p.seq, p.batch).status, "applied");
        const stale = append([{ t: "folder.created", folderId: 9_999_999, path: "FromTheOldPrimary" }], 1, false);
        stale.stale = true;
        assert.is(a.applyBatch(ACC, stale.seq, stale.batch).status, "stale-epoch");
      }
      if (events.length === 0) continue;
      const e = append(events, epoch, true);
      const r = a.applyBatch(ACC, e.seq, e.batch);
      assert.is(r.status, "applied", `group ${group} (seed ${SEED})`);
    }

    // B: the same log, once, in order.
    const b = open("b");
    b.ensureReplicaState(ACC, "replica");
    for (const { seq: s, batch } of log) assert.not.equal(b.applyBatch(ACC, s, batch).status, "duplicate");

    // C: crash-like. Every entry is delivered twice, some first arrive torn (a batch that
    // fails midway must leave nothing behind), the store is closed and reopened now and then,
    // and finally the whole log is redelivered.
    let c = open("c");
    c.ensureReplicaState(ACC, "replica");
    log.forEach(({ seq: s, batch, stale }, i) => {
      if (!stale && rng.chance(0.1)) {
        const torn: TxBatch = { ...batch, events: [...batch.events, { t: "items.deleted", ids: [123_456_789] }] };
        try {
          c.applyBatch(ACC, s, torn);
          assert.unreachable("a torn batch applied");
        } catch (err) {
          assert.is((err as StoreError).code, "APPLY_FAILED");
        }
      }
      assert.not.equal(c.applyBatch(ACC, s, batch).status, "duplicate");
      assert.is(c.applyBatch(ACC, s, batch).status, "duplicate");
      if (i % 37 === 36) {
        c.close();
        c = open("c");
      }
    });
    for (const { seq: s, batch } of log) assert.is(c.applyBatch(ACC, s, batch).status, "duplicate");

    const dump = a.dumpAccount(ACC);
    assert.equal(b.dumpAccount(ACC), dump, `A and B differ (seed ${SEED})`);
    assert.equal(c.dumpAccount(ACC), dump, `A and C differ (seed ${SEED})`);
    for (const s of [b, c]) {
      const st = s.replicaState(ACC);
      assert.equal([st?.appliedSeq, st?.epoch], [seq, 2]);
    }
    assert.is(dump.account?.mailHost, "ms2.example.com");
    assert.not.ok(dump.folders.some((f) => f.path === "FromTheOldPrimary"));

    // The tree the applier keeps without foreign keys is whole: parents match paths, items
    // sit in existing folders, and no two paths are equal ignoring case.
    const byPath = new Map(dump.folders.map((f) => [f.path, f]));
    for (const f of dump.folders) {
      const cut = f.path.lastIndexOf("/");
      assert.is(f.parentId, cut < 0 ? null : (byPath.get(f.path.slice(0, cut))?.id ?? "missing parent"), f.path);
    }
    assert.is(new Set(dump.folders.map((f) => f.path.toUpperCase())).size, dump.folders.length);
    const folderIds = new Set(dump.folders.map((f) => f.id));
    assert.ok(dump.items.every((i) => folderIds.has(i.folderId)));

    // Not vacuous: every kind of change happened, and refusals were mixed in.
    for (const k of [
      "deliverMessage:ok",
      "setFlags:ok",
      "moveItems:ok",
      "deleteItems:ok",
      "createFolder:ok",
      "renameFolder:ok",
      "deleteFolder:ok",
      "deleteItems:ITEM_NOT_FOUND",
      "createFolder:FOLDER_EXISTS",
      "createFolder:FOLDER_NOT_FOUND",
      "renameFolder:FOLDER_SYSTEM",
      "setFlags:INVALID_FLAG",
    ]) {
      assert.ok((tally.get(k) ?? 0) > 0, `no ${k} in ${JSON.stringify([...tally])}`);
    }
    assert.ok(dump.items.length > 100, `only ${dump.items.length} items left`);
    assert.ok(dump.folders.length > 10, `only ${dump.folders.length} folders left`);
  });
});

test.run();
