// A log read whose consumer's server dies in the middle (kill -9). The read's ordered consumer
// lives on one node; once that node is gone nats.js only reports missed heartbeats and asks
// for the consumer's info, which no server answers while the assignment names the dead node,
// so the read waited until the node came back (seen under load: a promotion's drain, which
// waits for the account's catch-up, held 75 s and the promotion timed out). The read now gives
// up after a few missed heartbeats with a LogReadError, and a new read (a new consumer) works.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { SubjectLog } from "../src/runtime/subject_log.js";
import { LogReadError } from "../src/runtime/errors.js";
import { startNatsCluster, type NatsCluster } from "./helpers/nats.js";
import { waitFor } from "./helpers/processes.js";

const STREAM = "STALL";
const SUBJECT = "stall.a";
// More than one pull's worth (512), so the read must pull again after the kill.
const ENTRIES = 600;

let cluster: NatsCluster | undefined;
const conns: NatsConnection[] = [];

test.after(async () => {
  for (const nc of conns) await nc.close().catch(() => {});
  await cluster?.stop();
});

test("subject log - a read whose consumer's server is killed mid-read fails instead of waiting for that server; a new read gets every entry", async () => {
  cluster = await startNatsCluster(3);
  const setup = await connect({ servers: cluster.urls });
  conns.push(setup);
  await (await jetstreamManager(setup)).streams.add({ name: STREAM, subjects: ["stall.>"], num_replicas: 3 });
  const js0 = jetstream(setup);
  for (let i = 0; i < ENTRIES; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => js0.publish(SUBJECT, `entry ${i + k}`)));

  // The reader talks to the first node only, so it is never the one killed: the read's consumer
  // is placed on any of the three, and a read is started again until it is on another.
  const reader = cluster.nodes[0]!;
  const nc = await connect({ servers: [reader.url] });
  conns.push(nc);
  const jsm = await jetstreamManager(nc);
  const log = new SubjectLog(jetstream(nc), jsm, STREAM, SUBJECT);
  let read: AsyncIterator<{ seq: number }> | undefined;
  let host: string | undefined;
  for (let attempt = 1; attempt <= 20 && !host; attempt++) {
    read = log.read(1)[Symbol.asyncIterator]();
    assert.is((await read.next()).value?.seq, 1);
    const placed: string[] = [];
    for await (const ci of jsm.consumers.list(STREAM)) if (ci.cluster?.leader) placed.push(ci.cluster.leader);
    assert.is(placed.length, 1, "one consumer: the read's");
    if (placed[0] !== reader.spec.name) host = placed[0];
    else await read.return?.(undefined);
  }
  assert.ok(host, "a read's consumer placed on another node than the reader's within 20 reads");
  await cluster.nodes.find((n) => n.spec.name === host)!.kill9();

  // Before: still waiting after the bound below (until the node came back). The bound only
  // keeps a regression from hanging the suite; the read gives up after a few seconds.
  const outcome = await Promise.race([
    (async () => {
      try {
        for (let r = await read!.next(); !r.done; r = await read!.next());
        return "ended";
      } catch (e) {
        return e;
      }
    })(),
    new Promise((r) => setTimeout(() => r("still waiting after 60 s"), 60_000).unref()),
  ]);
  assert.instance(outcome, LogReadError, String(outcome));
  assert.match((outcome as Error).message, /stalled/);

  // A new read has a new consumer (placed on a live node; one placed on the dead node fails
  // the same way and is tried again) and gets every entry.
  const seqs = await waitFor(
    "a new read of the whole subject",
    async () => {
      const got: number[] = [];
      for await (const e of log.read(1)) got.push(e.seq);
      return got;
    },
    120_000,
    200,
  );
  assert.is(seqs.length, ENTRIES);
  assert.is(seqs[ENTRIES - 1], ENTRIES);
});

test.run();
