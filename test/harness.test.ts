import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster, startNatsServer } from "./helpers/nats.js";

test("harness - single server accepts JetStream publishes", async () => {
  const n = await startNatsServer();
  const nc = await connect({ servers: n.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "H1", subjects: ["h1.>"] });
    const ack = await jetstream(nc).publish("h1.a", new Uint8Array([1]));
    assert.is(ack.seq, 1);
  } finally {
    await nc.close();
    await n.stop();
  }
  assert.not.ok(n.running);
});

test("harness - three-node cluster keeps accepting R3 publishes with one node killed, and the node rejoins", async () => {
  const c = await startNatsCluster(3);
  const victim = c.nodes[2]!;
  // The client talks to the two survivors: this test is about the cluster, not reconnects.
  const nc = await connect({ servers: [c.nodes[0]!.url, c.nodes[1]!.url] });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "H3", subjects: ["h3.>"], num_replicas: 3 });
    const js = jetstream(nc);
    // As a real writer does: retry with the same Nats-Msg-Id until acknowledged (stored once),
    // since a publish can time out while the killed node's stream leadership moves.
    const publish = async (i: number): Promise<void> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await js.publish("h3.x", new Uint8Array([i]), { msgID: `h3-${i}`, timeout: 5_000 });
          return;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    };
    for (let i = 0; i < 10; i++) await publish(i);
    await victim.kill9();
    assert.not.ok(victim.running);
    // Two of three nodes are a quorum: R3 publishes go on.
    for (let i = 10; i < 20; i++) await publish(i);
    const info = await jsm.streams.info("H3");
    assert.is(info.state.messages, 20);
    await victim.start();
    // The node rejoins and catches up: its peer entry is current again.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const si = await jsm.streams.info("H3");
      const peers = [si.cluster?.leader, ...(si.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name)];
      if (peers.includes(victim.spec.name)) break;
      if (Date.now() > deadline) assert.unreachable(`node ${victim.spec.name} did not rejoin: ${JSON.stringify(si.cluster)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
    await c.stop();
  }
});

test.run();
