// Phantom consumers (src/natsserver/phantom_consumers.ts): what readiness checks set aside and
// what they do not. On a real cluster: a healthy node has nothing to set aside and a dead one
// gives no reading. The phantom itself cannot be made on demand (it needs nats-server 2.10's
// catch-up snapshot to land inside a restarted node's log replay), so its classification is
// checked against what three real 2.10.27 nodes answered in one (test/fixtures), served as
// their monitoring ports would: the phantom is set aside only while every other peer of its
// group answers without hosting that group.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { readHealth } from "../src/natsserver/phantom_consumers.js";
import type { MonitoredNode } from "../src/natsserver/meta_group.js";
import { startNatsCluster, type NatsCluster } from "./helpers/nats.js";

interface Answers {
  jsz: unknown;
  healthz: { status: string; errors?: unknown[] };
}
type Recorded = Record<"n1" | "n2" | "n3", Answers>;

const recorded = JSON.parse(readFileSync(join(process.cwd(), "test", "fixtures", "phantom_consumer_2.10.27.json"), "utf8")) as Recorded;
const PHANTOM = "$G > MR_TX > mr_replica_ms2_example_com";

let cluster: NatsCluster | undefined;
const servers: Server[] = [];

test.after(async () => {
  await cluster?.stop();
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A monitoring port answering /jsz and /healthz as `answers` says (503 when not ok). */
async function monitorAnswering(name: string, answers: Answers): Promise<MonitoredNode> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const body = path === "/jsz" ? answers.jsz : path === "/healthz" ? answers.healthz : undefined;
    const status = body === undefined ? 404 : path === "/healthz" && answers.healthz.status !== "ok" ? 503 : 200;
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { serverName: name, monitorUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test("phantom consumers - a consumer only the restarted node hosts is set aside; nothing else is", async () => {
  const n1 = await monitorAnswering("n1", recorded.n1);
  const n2 = await monitorAnswering("n2", recorded.n2);
  const n3 = await monitorAnswering("n3", recorded.n3);
  assert.equal(await readHealth(n2, [n1, n3]), { problems: [], phantoms: [PHANTOM] });
  assert.equal(await readHealth(n1, [n2, n3]), { problems: [], phantoms: [] });

  // A peer that does not answer leaves the question open: the consumer stays a problem.
  const silent: MonitoredNode = { serverName: "n3", monitorUrl: "http://127.0.0.1:1" };
  const unanswered = await readHealth(n2, [n1, silent]);
  assert.equal(unanswered?.phantoms, []);
  assert.equal(
    unanswered?.problems.map((p) => p.consumer),
    ["mr_replica_ms2_example_com"],
  );
  // A peer not among the nodes given cannot be asked: not a phantom either.
  assert.equal((await readHealth(n2, [n1]))?.phantoms, []);

  // A peer that hosts the same group: the consumer is real and only behind on this node.
  const hostedN3 = structuredClone(recorded.n3) as Answers & { jsz: { account_details: Array<{ stream_detail: Array<{ consumer_detail: unknown[] }> }> } };
  const n2Consumers = (recorded.n2.jsz as typeof hostedN3.jsz).account_details[0]!.stream_detail[0]!.consumer_detail;
  hostedN3.jsz.account_details[0]!.stream_detail[0]!.consumer_detail.push(n2Consumers[1]);
  const n3Hosting = await monitorAnswering("n3", hostedN3);
  const real = await readHealth(n2, [n1, n3Hosting]);
  assert.equal(real?.phantoms, []);
  assert.is(real?.problems.length, 1);

  // Anything else the node's /healthz names stays a problem, beside the phantom.
  const metaBehind = structuredClone(recorded.n2);
  metaBehind.healthz.errors = [...(metaBehind.healthz.errors ?? []), { type: "JETSTREAM", error: "JetStream is not current with the meta leader" }];
  const n2Behind = await monitorAnswering("n2", metaBehind);
  const both = await readHealth(n2Behind, [n1, n3]);
  assert.equal(both?.phantoms, [PHANTOM]);
  assert.equal(
    both?.problems.map((p) => p.error),
    ["JetStream is not current with the meta leader"],
  );
});

test("phantom consumers - on a real cluster: a healthy node with a replicated consumer has nothing to set aside; a dead node gives no reading", async () => {
  cluster = await startNatsCluster(3);
  const nc = await connect({ servers: cluster.urls });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "PHANTOM_CHECK", subjects: ["phantom.check"], num_replicas: 3 });
    await jsm.consumers.add("PHANTOM_CHECK", { durable_name: "d", ack_policy: AckPolicy.Explicit });
  } finally {
    await nc.close();
  }
  const nodes = cluster.nodes.map((n) => n.monitored);
  for (const n of cluster.nodes) await n.waitHealthy();
  assert.equal(await readHealth(nodes[0]!, nodes.slice(1)), { problems: [], phantoms: [] });
  await cluster.nodes[2]!.kill9();
  assert.is(await readHealth(nodes[2]!, nodes.slice(0, 2)), undefined);
});

test.run();
