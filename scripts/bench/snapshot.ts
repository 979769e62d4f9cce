// Snapshot figures (issue 11): what seeding from a snapshot costs, step by step, for an account
// of `items` items, against a raw baseline: better-sqlite3 inserting the same rows, batched in
// one transaction, into a table of the same schema (measured by the caller, same run).
// Everything runs in this process on real SQLite files in a temp folder.
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { initKeys, loadKeyring } from "../../src/keys/index.js";
import { MetadataStore } from "../../src/store/index.js";
import type { MailEvent, TxBatch } from "../../src/mail/index.js";
import { positionOf, snapshotOf } from "../../src/snapshot/account_snapshot.js";
import { openSnapshot, sealSnapshot } from "../../src/snapshot/snapshot_codec.js";
import { SnapshotSealer } from "../../src/snapshot/snapshot_sealer.js";
import { now, tempDir } from "./util.js";

export interface SnapshotBench {
  items: number;
  /** reading the account's rows in one SQLite read transaction */
  exportMs: number;
  /** msgpack, secretbox and the signature of the whole state */
  sealMs: number;
  /** export + seal on SnapshotSealer's worker thread, as the mailstore takes a snapshot (worker start included) */
  workerTakeMs: number;
  /** the longest the event loop went without a turn meanwhile (inline, it is held for export + seal) */
  workerLoopHeldMs: number;
  bytes: number;
  /** signature check, decryption, inflating, msgpack decoding and the shape check of every row */
  openMs: number;
  /** replacing the copy's rows in one transaction (the seeding's SQLite part) */
  loadMs: number;
  /** items / loadMs: seeding's apply rate */
  applyRowsPerS: number;
  /** items / (open + load): a replica's whole CPU for a snapshot it has read */
  seedRowsPerS: number;
}

const HOST = "ms1.bench.example.com";

/** An account of `items` items in 20 folders, written through the real applier (batches of 1,000 deliveries). */
function fillStore(store: MetadataStore, accountId: string, items: number): void {
  store.ensureReplicaState(accountId, "primary");
  let seq = 1;
  const batch = (events: MailEvent[], prev: number): TxBatch => ({ v: 1, account: accountId, epoch: 1, writer: HOST, at: Date.now(), prev, events });
  store.applyBatch(accountId, seq, batch([{ t: "account.created", id: accountId, name: "bench@example.com", type: "account", mailHost: HOST }], 0));
  const folders: MailEvent[] = [];
  for (let f = 0; f < 20; f++) folders.push({ t: "folder.created", folderId: 257 + f, path: `Folder ${f}` });
  store.applyBatch(accountId, seq + 1, batch(folders, seq));
  seq++;
  let id = 300;
  for (let done = 0; done < items;) {
    const events: MailEvent[] = [];
    for (let i = 0; i < 1000 && done < items; i++, done++) {
      id++;
      events.push({
        t: "message.delivered",
        itemId: id,
        folderId: 257 + (id % 20),
        messageId: `<${id}.bench@example.com>`,
        from: "sender@example.org",
        to: ["bench@example.com"],
        cc: [],
        subject: `Quarterly numbers, part ${id}`,
        date: 1_760_000_000_000 + id * 1000,
        size: 4096 + (id % 1000),
        flags: id % 3 === 0 ? ["seen"] : [],
        tags: id % 10 === 0 ? ["work"] : [],
        blob: `b1.k1.${id.toString(16).padStart(64, "0")}`,
      });
    }
    store.applyBatch(accountId, seq + 1, batch(events, seq));
    seq++;
  }
}

/** The longest gap between turns of the event loop while `work` runs. */
async function longestLoopGap(work: Promise<unknown>): Promise<number> {
  let done = false;
  void work.finally(() => (done = true));
  let longest = 0;
  let last = now();
  while (!done) {
    await new Promise<void>((r) => setImmediate(r));
    const t = now();
    longest = Math.max(longest, t - last);
    last = t;
  }
  await work;
  return longest;
}

export async function benchSnapshot(items: number): Promise<SnapshotBench> {
  const dir = tempDir("mr-bench-snapshot-");
  initKeys({ dir: join(dir, "keys"), host: HOST });
  const keyring = loadKeyring({ dir: join(dir, "keys"), host: HOST });
  const accountId = randomUUID();
  const primary = MetadataStore.open(join(dir, "primary.sqlite"));
  const replica = MetadataStore.open(join(dir, "replica.sqlite"));
  try {
    fillStore(primary, accountId, items);
    let t = now();
    const exported = primary.exportAccountState(accountId)!;
    const exportMs = now() - t;
    t = now();
    const sealed = sealSnapshot(keyring, snapshotOf(accountId, HOST, Date.now(), exported.state, exported.position));
    const sealMs = now() - t;
    const sealer = new SnapshotSealer(primary.path);
    t = now();
    const onWorker = sealer.seal(keyring, accountId, HOST, Date.now());
    const workerLoopHeldMs = await longestLoopGap(onWorker);
    const workerTakeMs = now() - t;
    await sealer.close();
    t = now();
    const snap = openSnapshot(keyring, sealed, accountId, exported.position.seq).snapshot;
    const openMs = now() - t;
    replica.ensureReplicaState(accountId, "replica");
    t = now();
    replica.loadAccountState(accountId, snap.state, positionOf(snap));
    const loadMs = now() - t;
    return {
      items,
      exportMs,
      sealMs,
      workerTakeMs,
      workerLoopHeldMs,
      bytes: sealed.length,
      openMs,
      loadMs,
      applyRowsPerS: items / (loadMs / 1000),
      seedRowsPerS: items / ((openMs + loadMs) / 1000),
    };
  } finally {
    primary.close();
    replica.close();
  }
}
