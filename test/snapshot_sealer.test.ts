// A snapshot read and sealed on the worker thread (SnapshotSealer) while writes go on at every
// turn of the mailstore's event loop: it holds exactly the account as of the seq it reports,
// opens with the mailstore's keyring, and loads into another store as the same state.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { MetadataStore } from "../src/store/index.js";
import type { MailEvent, TxBatch } from "../src/mail/index.js";
import { initKeys, loadKeyring } from "../src/keys/index.js";
import { SnapshotSealer, SnapshotSealError } from "../src/snapshot/snapshot_sealer.js";
import { openSnapshot } from "../src/snapshot/snapshot_codec.js";
import { positionOf } from "../src/snapshot/account_snapshot.js";
import { tempDir } from "./helpers/processes.js";
import { deliveredEvents } from "./helpers/store_events.js";

const HOST = "ms1.example.com";

test("snapshot sealer - one moment of the account, sealed on its own thread while writes go on", async () => {
  const dir = tempDir("mr-sealer-");
  initKeys({ dir: join(dir, "keys"), host: HOST });
  const keyring = loadKeyring({ dir: join(dir, "keys"), host: HOST });
  const store = MetadataStore.open(join(dir, "metadata.sqlite"));
  const sealer = new SnapshotSealer(store.path);
  try {
    const id = randomUUID();
    store.ensureReplicaState(id, "primary");
    const batch = (prev: number, events: MailEvent[]): TxBatch => ({ v: 1, account: id, epoch: 1, writer: HOST, at: 1, prev, events });
    store.applyBatch(id, 1, batch(0, [{ t: "account.created", id, name: "p@example.com", type: "account", mailHost: HOST }]));
    let seq = 1;
    let next = 300;
    for (let b = 0; b < 12; b++, seq++, next += 1000) store.applyBatch(id, seq + 1, batch(seq, deliveredEvents(next, 1000)));
    const atStart = seq;
    // Applies one more batch of 10 items at every turn of the event loop while the seal runs.
    let sealing = true;
    const writer = (async () => {
      while (sealing) {
        await new Promise<void>((r) => setImmediate(r));
        store.applyBatch(id, seq + 1, batch(seq, deliveredEvents(next, 10)));
        seq++;
        next += 10;
      }
    })();
    const taken = (await sealer.seal(keyring, id, HOST, 1_700_000_000_000))!;
    sealing = false;
    await writer;
    const at = taken.position.seq;
    assert.ok(at >= atStart && at <= seq, `a seq the account had while sealing (${at} in ${atStart}..${seq})`);
    const expected = 12_000 + 10 * (at - atStart);
    assert.is(taken.items, expected, "every item of the batches up to that seq, none after");
    const { snapshot, signer } = openSnapshot(keyring, taken.sealed, id, at);
    assert.is(signer, HOST);
    assert.is(snapshot.writer, HOST);
    assert.is(snapshot.at, 1_700_000_000_000);
    assert.equal(
      snapshot.state.items.map((r) => r[0]),
      Array.from({ length: expected }, (_, i) => 300 + i),
    );
    // And equal to the one-transaction read of the same state.
    const other = MetadataStore.open(join(tempDir("mr-sealer-"), "metadata.sqlite"));
    other.ensureReplicaState(id, "replica");
    other.loadAccountState(id, snapshot.state, positionOf(snapshot));
    assert.equal(other.exportAccountState(id), { state: snapshot.state, position: taken.position });
    other.close();
    // An account with nothing applied has no snapshot; the worker goes on serving.
    assert.is(await sealer.seal(keyring, randomUUID(), HOST, 1), undefined);
  } finally {
    await sealer.close();
    store.close();
  }
});

test("snapshot sealer - a store it cannot read fails with SNAPSHOT_SEAL_FAILED naming why; a closed sealer takes no job", async () => {
  const dir = tempDir("mr-sealer-");
  initKeys({ dir: join(dir, "keys"), host: HOST });
  const keyring = loadKeyring({ dir: join(dir, "keys"), host: HOST });
  const sealer = new SnapshotSealer(join(dir, "no-such-folder", "metadata.sqlite"));
  try {
    const err = await sealer.seal(keyring, randomUUID(), HOST, 1).catch((e: unknown) => e);
    assert.instance(err, SnapshotSealError);
    assert.is((err as SnapshotSealError).code, "SNAPSHOT_SEAL_FAILED");
    assert.match((err as Error).message, /could not be read and sealed: .*(directory|open)/i);
  } finally {
    await sealer.close();
  }
  const late = await sealer.seal(keyring, randomUUID(), HOST, 1).catch((e: unknown) => e);
  assert.instance(late, SnapshotSealError);
  assert.match((late as Error).message, /stopping/);
});

test.run();
