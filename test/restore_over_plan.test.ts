// Restoring over the live account, planned and written on a real SQLite store (no NATS): after
// random histories (folders created, renamed, moved, deleted and re-created at the same path,
// items delivered, moved, flagged, deleted) the plan's steps, each decided against the store
// like the account actor decides them, turn the account back into its state at the point. A
// step that a write made stale is refused RESTORE_CONFLICT and changes nothing; planning again
// from the state then converges.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailCommand, MailEvent, RestoredItem } from "../src/mail/index.js";
import { MetadataStore } from "../src/store/index.js";
import { isEmptyPlan, planRestoreOver, type MailboxState } from "../src/mail/restore_over.js";
import { firstDifference, prng, testSeed } from "./helpers/workload.js";

const ACC = "0b7c6a3e-51d2-4f8e-a1c4-6d9e2f3b7a10";
const seed = testSeed();

class Mailbox {
  seq = 0;
  constructor(readonly store: MetadataStore) {
    store.ensureReplicaState(ACC, "primary");
  }

  /** Plans the commands as one group commit and applies the ok ones; returns the refusals' codes. */
  run(...commands: MailCommand[]): (string | undefined)[] {
    const outcomes = this.store.plan(ACC, commands);
    const events: MailEvent[] = outcomes.flatMap((o) => (o.ok ? o.events : []));
    if (events.length > 0) {
      const prev = this.seq++;
      const r = this.store.applyBatch(ACC, this.seq, { v: 1, account: ACC, epoch: 1, writer: "ms1", at: 1_000 + this.seq, prev, events });
      assert.is(r.status, "applied");
    }
    return outcomes.map((o) => (o.ok ? undefined : o.error.code));
  }

  state(): MailboxState {
    const d = this.store.dumpAccount(ACC);
    return {
      folders: d.folders,
      items: d.items.map(({ id, ...rest }): RestoredItem => ({ itemId: id, ...rest })),
      tags: d.tags,
    };
  }

  /** Folders and items: what a restore over the account must give back exactly. */
  content(): unknown {
    const d = this.store.dumpAccount(ACC);
    return { folders: d.folders, items: d.items };
  }

  /** Writes the plan's steps, each as its own batch; stops at the first refusal and returns its code. */
  restore(point: MailboxState, token = "7"): { code?: string; steps: number } {
    const plan = planRestoreOver(point, this.state(), token, 5);
    let steps = 0;
    for (const phase of plan.phases) {
      for (const step of phase) {
        const [code] = this.run({ op: "restoreOver", step });
        if (code !== undefined) return { code, steps };
        steps++;
      }
    }
    return { steps };
  }
}

function withMailbox(fn: (m: Mailbox) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-restore-over-"));
    const store = MetadataStore.open(join(dir, "metadata.sqlite"));
    try {
      const m = new Mailbox(store);
      m.run({ op: "createAccount", id: ACC, name: "restore.over@example.com", mailHost: "ms1.example.com" });
      fn(m);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

let messageNo = 0;
function deliver(folder: string, flags: string[] = []): MailCommand {
  const n = messageNo++;
  return {
    op: "deliverMessage",
    folder,
    flags,
    message: {
      messageId: `<${n}@example.com>`,
      from: "a@example.com",
      to: ["b@example.com"],
      cc: [],
      subject: `m${n}`,
      date: n,
      size: 10 + n,
      blob: `${n}`.padStart(64, "0"),
    },
  };
}

const NAMES = ["Work", "Archive", "work", "Later", "Sub", "2026", "Ünïcode"];
const FLAGS = ["seen", "flagged", "answered", "ProjectX", "later", "$Label1"];

/** One random write against the account as it is (it may be refused, like a client's). */
function randomWrite(m: Mailbox, rand: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const d = m.store.dumpAccount(ACC);
  const folders = d.folders.map((f) => f.path);
  const user = d.folders.filter((f) => f.id > 256).map((f) => f.path);
  const ids = d.items.map((i) => i.id);
  const some = () => (ids.length === 0 ? [1] : [pick(ids), pick(ids)]);
  const r = rand();
  if (r < 0.3) m.run(deliver(pick(folders), rand() < 0.5 ? [pick(FLAGS)] : []));
  else if (r < 0.42) m.run({ op: "setFlags", ids: some(), flags: [pick(FLAGS), pick(FLAGS)] });
  else if (r < 0.54) m.run({ op: "moveItems", ids: some(), folder: pick(folders) });
  else if (r < 0.62) m.run({ op: "deleteItems", ids: some() });
  else if (r < 0.78) m.run({ op: "createFolder", path: rand() < 0.5 || folders.length === 0 ? pick(NAMES) : `${pick(folders)}/${pick(NAMES)}` });
  else if (r < 0.92 && user.length > 0)
    m.run({ op: "renameFolder", path: pick(user), newPath: rand() < 0.5 ? pick(NAMES) : `${pick(folders)}/${pick(NAMES)}` });
  else if (user.length > 0) m.run({ op: "deleteFolder", path: pick(user) });
}

test(
  "restore over - after deletes, moves, flags, folder renames, moves, deletes and re-creations: the account equals the point",
  withMailbox((m) => {
    m.run({ op: "createFolder", path: "Work" }, { op: "createFolder", path: "Work/Sub" }, { op: "createFolder", path: "Archive" });
    m.run(deliver("Inbox", ["seen"]), deliver("Work", ["ProjectX"]), deliver("Work/Sub"), deliver("Archive", ["flagged"]), deliver("Archive"));
    const point = m.state();
    const content = m.content();
    const ids = point.items.map((i) => i.itemId);
    m.run({ op: "deleteItems", ids: [ids[0]!] });
    m.run({ op: "setFlags", ids: [ids[1]!], flags: ["answered", "Other"] });
    m.run({ op: "moveItems", ids: [ids[2]!], folder: "Inbox" });
    m.run({ op: "renameFolder", path: "Work", newPath: "Projects" });
    m.run({ op: "deleteFolder", path: "Archive" });
    m.run({ op: "createFolder", path: "Archive" }, deliver("Archive"));
    m.run({ op: "createFolder", path: "New" }, { op: "renameFolder", path: "Projects/Sub", newPath: "New/Sub" });
    m.run(deliver("Inbox", ["Later"]));
    const plan = planRestoreOver(point, m.state(), "7", 5);
    assert.equal(plan.changes, {
      itemsDeleted: 2,
      itemsRecreated: 3,
      itemsUpdated: 2,
      foldersCreated: 1,
      foldersRemoved: 2,
      foldersRenamed: 2,
      tagsAdded: 0,
    });
    assert.equal(
      plan.recreated.map((i) => i.itemId),
      [ids[0], ids[3], ids[4]],
    );
    assert.is(m.restore(point).code, undefined);
    assert.is(firstDifference(content, m.content()), undefined, "the account equals the point");
    assert.ok(isEmptyPlan(planRestoreOver(point, m.state(), "7", 5)), "nothing left to do");
    // Keywords only grow: the ones of then are all there.
    for (const t of point.tags) assert.ok(m.state().tags.includes(t), `keyword ${t} kept`);
  }),
);

test(
  "restore over - random histories: the plan written step by step gives back the point exactly",
  withMailbox((m) => {
    const rand = prng(seed);
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 40; i++) randomWrite(m, rand);
      const point = m.state();
      const content = m.content();
      for (let i = 0; i < 40; i++) randomWrite(m, rand);
      const r = m.restore(point, String(round));
      assert.is(r.code, undefined, `seed ${seed} round ${round}: a step was refused`);
      const diff = firstDifference(content, m.content());
      assert.is(diff, undefined, `seed ${seed} round ${round}: the account differs at ${diff}`);
    }
  }),
);

test(
  "restore over - a step made stale by a write is refused RESTORE_CONFLICT, changes nothing, and planning again converges",
  withMailbox((m) => {
    m.run({ op: "createFolder", path: "Work" });
    m.run(deliver("Work"), deliver("Inbox"));
    const point = m.state();
    const content = m.content();
    const [a, b] = point.items.map((i) => i.itemId);
    m.run({ op: "moveItems", ids: [a!], folder: "Inbox" }, { op: "deleteItems", ids: [b!] });
    const plan = planRestoreOver(point, m.state(), "7", 5);
    const items = plan.phases.flat().find((s) => s.do === "items")!;
    // A client deletes the item the step moves back, and re-creates... nothing: the step no longer fits.
    m.run({ op: "deleteItems", ids: [a!] });
    const before = m.store.dumpAccount(ACC);
    assert.equal(m.run({ op: "restoreOver", step: items }), ["RESTORE_CONFLICT"]);
    assert.equal(m.store.dumpAccount(ACC), before, "the refused step changed nothing");
    // A folder in the way of a re-created one.
    m.run({ op: "deleteFolder", path: "Work" });
    const again = planRestoreOver(point, m.state(), "7", 5);
    const create = again.phases.flat().find((s) => s.do === "createFolder")!;
    m.run({ op: "createFolder", path: (create as { path: string }).path });
    assert.equal(m.run({ op: "restoreOver", step: create }), ["RESTORE_CONFLICT"]);
    // Planning from the state now converges.
    assert.is(m.restore(point, "8").code, undefined);
    assert.is(firstDifference(content, m.content()), undefined);
  }),
);

test(
  "restore over - a restore step never fails the batch it is committed with: other commands of the group commit go through",
  withMailbox((m) => {
    m.run(deliver("Inbox"));
    const point = m.state();
    m.run({ op: "deleteItems", ids: [point.items[0]!.itemId] });
    const plan = planRestoreOver(point, m.state(), "7", 5);
    const step = plan.phases.flat()[0]!;
    // The same step twice in one group commit: the second finds the item there and is refused.
    assert.equal(m.run({ op: "restoreOver", step }, { op: "restoreOver", step }, deliver("Inbox")), [undefined, "RESTORE_CONFLICT", undefined]);
    assert.is(m.store.dumpAccount(ACC).items.length, 2);
  }),
);

test.run();
