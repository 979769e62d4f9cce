// The account read on the store's second connection, in pages with the event loop turning
// between them: writes applied meanwhile on the main connection are not in it, and what it
// holds is exactly the state at the applied seq it reports (real SQLite file, WAL).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { MetadataStore } from "../src/store/index.js";
import type { MailEvent, TxBatch } from "../src/mail/index.js";
import { tempDir } from "./helpers/processes.js";
import { deliveredEvents } from "./helpers/store_events.js";

const HOST = "ms1.example.com";

test("store export in pages - one moment of the account while writes go on between the pages", async () => {
  const store = MetadataStore.open(join(tempDir("mr-export-pages-"), "metadata.sqlite"));
  try {
    const id = randomUUID();
    store.ensureReplicaState(id, "primary");
    const batch = (seq: number, prev: number, events: MailEvent[]): TxBatch => ({ v: 1, account: id, epoch: 1, writer: HOST, at: 1, prev, events });
    store.applyBatch(id, 1, batch(1, 0, [{ t: "account.created", id, name: "p@example.com", type: "account", mailHost: HOST }]));
    let seq = 1;
    let next = 300;
    for (let b = 0; b < 12; b++, seq++, next += 1000) store.applyBatch(id, seq + 1, batch(seq + 1, seq, deliveredEvents(next, 1000)));
    const atStart = store.replicaState(id)!.appliedSeq;
    // Applies one more batch at every turn of the event loop while the export runs.
    let exporting = true;
    let written = 0;
    const writer = (async () => {
      while (exporting) {
        await new Promise<void>((r) => setImmediate(r));
        store.applyBatch(id, seq + 1, batch(seq + 1, seq, deliveredEvents(next, 10)));
        seq++;
        next += 10;
        written++;
      }
    })();
    const exported = (await store.exportAccountStateInPages(id, 500))!;
    exporting = false;
    await writer;
    assert.ok(written >= 10, `writes went on during the export (${written} batches)`);
    assert.is(exported.position.seq, atStart, "the state of the moment the read began");
    assert.is(exported.state.items.length, 12_000);
    assert.equal(
      exported.state.items.map((r) => r[0]),
      Array.from({ length: 12_000 }, (_, i) => 300 + i),
    );
    // And equal to the one-transaction read of the same state.
    const other = MetadataStore.open(join(tempDir("mr-export-pages-"), "metadata.sqlite"));
    other.ensureReplicaState(id, "replica");
    other.loadAccountState(id, exported.state, exported.position);
    assert.equal(other.exportAccountState(id), exported);
    other.close();
  } finally {
    store.close();
  }
});

test.run();
