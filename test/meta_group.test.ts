// Reading which nodes a JetStream meta group left out (src/natsserver/meta_group.ts): on a
// real cluster, nobody while it is whole, and no verdict while a node does not answer; and
// the grace logic that decides when such a node is restarted.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LeftOutWatch, nodesOutsideMetaGroup, type MonitoredNode } from "../src/natsserver/meta_group.js";
import { metaCluster, startNatsCluster, waitClusterReady, type NatsCluster } from "./helpers/nats.js";

let cluster: NatsCluster | undefined;

test.after(async () => {
  await cluster?.stop();
});

function monitored(c: NatsCluster): MonitoredNode[] {
  return c.nodes.map((n) => n.monitored);
}

test("meta group - a formed cluster leaves nobody out; a node that does not answer gives no verdict", async () => {
  cluster = await startNatsCluster(3);
  assert.equal(await nodesOutsideMetaGroup(monitored(cluster)), []);
  await cluster.nodes[2]!.kill9();
  assert.equal(await nodesOutsideMetaGroup(monitored(cluster)), [], "a dead node is not 'left out': its /jsz does not answer");
  // A follower listed under a name the leader's peer set lacks is reported: that is how a
  // left-out node looks to the leader.
  await cluster.nodes[2]!.start();
  await waitClusterReady(cluster.nodes);
  const leader = (await metaCluster(cluster.nodes[0]!))?.leader;
  const follower = cluster.nodes.findIndex((n) => n.spec.name !== leader);
  const renamed = monitored(cluster).map((m, i) => (i === follower ? { ...m, serverName: "not-a-peer" } : m));
  assert.equal(await nodesOutsideMetaGroup(renamed), ["not-a-peer"]);
});

test("meta group - a node is due for a restart only after being outside for the whole grace, once per grace", async () => {
  let now = 0;
  let outside: string[] = [];
  const watch = new LeftOutWatch(
    async () => outside,
    10_000,
    () => now,
  );
  outside = ["n2"];
  assert.equal(await watch.due(), [], "first seen outside");
  now = 9_999;
  assert.equal(await watch.due(), [], "not yet the whole grace");
  now = 10_000;
  assert.equal(await watch.due(), ["n2"]);
  now = 10_500;
  assert.equal(await watch.due(), [], "reported once: its grace starts again");
  now = 15_000;
  outside = [];
  assert.equal(await watch.due(), [], "joined: forgotten");
  outside = ["n2"];
  now = 16_000;
  assert.equal(await watch.due(), []);
  now = 25_999;
  assert.equal(await watch.due(), [], "a break restarts the grace");
  now = 26_000;
  assert.equal(await watch.due(), ["n2"]);
});

test.run();
