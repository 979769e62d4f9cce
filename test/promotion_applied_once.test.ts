// A promotion's own work, done once (actors/mailstore/promotion_target.ts, actors/supervisor/promotion_record.ts):
// the promoted mailstore applies its Promoted entry itself, and its replica agent, which reads
// the same subject, never opens and applies it a second time (the copy leaves the replica set
// while the append is under way); the directory is moved by compare-and-set from a record the
// caller read earlier, and a stale one never makes a write that changes nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { logHead, stopBounded } from "./helpers/workload.js";
import { addReplicas, createAccounts, directoryOfSystem, promote } from "./helpers/promotion.js";
import { recordPromotion } from "../actors/supervisor/promotion_record.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
/** a host no mailstore runs as: the directory test moves a record there without any node acting on it */
const MS3 = "ms3.example.com";
const NAMES = Array.from({ length: 30 }, (_, i) => `once${i}@example.com`);

let sys: TestSystem;
let ids = new Map<string, string>();

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2] });
  ids = await createAccounts(sys, NAMES, MS1, { messages: 1 });
  await addReplicas(sys, NAMES, MS2, 10);
});
test.after(async () => {
  await stopBounded(sys);
});

test("promotion applied once - the promoted replica applies each Promoted entry in the promotion, never again in its replica agent", async () => {
  const ms2 = sys.inProcess.get(MS2)!;
  // Every copy at its head first: afterwards nothing but the Promoted entries reaches ms2's agent.
  for (const id of ids.values()) {
    const head = await logHead(sys, id);
    await waitFor(`ms2 to apply ${id} to seq ${head}`, () => (ms2.store.replicaState(id)?.appliedSeq ?? 0) >= head, 30_000, 20);
  }
  const appliedBefore = ms2.agent.stats.applied;
  const end = await promote(sys, { source_mail_host: MS1 });
  assert.is(end.state, "successful", JSON.stringify(end.failed));
  for (const id of ids.values()) {
    const rs = ms2.store.replicaState(id)!;
    assert.is(rs.role, "primary", id);
    assert.is(rs.epoch, 2, id);
    assert.is(rs.appliedSeq, await logHead(sys, id), `${id}: the Promoted entry at the head is applied`);
  }
  // The agent's consumer received the 30 Promoted entries ms2 appended: it skipped them all.
  assert.is(ms2.agent.stats.applied - appliedBefore, 0, "entries the replica agent applied during the promotion");
});

test("promotion applied once - recordPromotion from a stale record moves the directory once, and a second call writes nothing", async () => {
  const directory = await directoryOfSystem(sys);
  const { id } = await sys.mailbox("createAccount", { name: "stale@example.com", mailHost: MS1 });
  const known = (await directory.byId(id))!;
  // Someone writes the record after the caller read it: the first compare-and-set conflicts.
  const bumped = await directory.compareAndSet(
    { ...known.value, replicas: [{ destination: MS3, priority: 5, state: "active", generation: 0, addedAt: 1 }] },
    known.revision,
  );
  assert.ok(bumped !== undefined);
  const first = await recordPromotion(directory, id, { host: MS3, epoch: 2 }, 2, undefined, known);
  assert.is(first.changed, true);
  assert.equal(first.before, { host: MS1, epoch: 1 });
  const after = (await directory.byId(id))!;
  assert.is(after.value.mailHost, MS3);
  assert.is(after.value.epoch, 2);
  // The replica written meanwhile was kept, and the old primary listed with its priority.
  assert.equal(
    after.value.replicas.map((r) => [r.destination, r.priority]),
    [[MS1, 5]],
  );
  const again = await recordPromotion(directory, id, { host: MS3, epoch: 2 }, 3, undefined, known);
  assert.is(again.changed, false);
  assert.is((await directory.byId(id))!.revision, after.revision, "no write when the record already holds the promotion");
});

test.run();
