// `mailreplica dev --nats-nodes 3`: three clustered nats-server nodes on loopback (free
// ports from MR_SERVERS here, never 4222), every JetStream asset at 3 replicas, the
// mailstores and the supervisor on all three URLs; a stop leaves no process behind; a
// single-node store in the same var folder is left intact; a re-run finds the data. The nodes
// load dev's authorization include: tests connect as dev's admin (calls) or operator (JetStream).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { rpcCall } from "../src/jsonrpc/index.js";
import { natsConnectionOptions } from "../src/natsauth/connect_options.js";
import { clusterNodeAddresses, DevError, probeNats } from "../src/dev/index.js";
import { NatsNode, startNatsCluster, startNatsServer, tendFormation } from "./helpers/nats.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { exited, freePort, tempDir, waitFor } from "./helpers/processes.js";
import { alive, pidOf, startDev, stopDev, untilUp } from "./helpers/dev_process.js";

const HOSTS = ["mailstore1.example.com", "mailstore2.example.com", "mailstore3.example.com"];
const NODES = ["nats-n1", "nats-n2", "nats-n3"];
const ACCOUNT = "cluster.user@example.com";
/** Three nodes form a cluster and take 3-replica assets before dev is up. */
const CLUSTER_UP_MS = 90_000;

/** Route connect and close lines a forming node repeats every second (left out of failure output). */
const ROUTE_NOISE = /Route connection created|Router connection closed|Error trying to connect to route|Waiting for routing/;

async function threeUrls(): Promise<string[]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  return [...ports].map((p) => `nats://127.0.0.1:${p}`);
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function servicesAlive(nc: NatsConnection): Promise<void> {
  await waitFor(
    "getServices to list the three mailstores and the supervisor alive",
    async () => {
      const r = await rpcCall<{ services: Array<{ role: string; host: string; alive: boolean }> }>(nc, "mr.rpc.admin", "getServices", {});
      return r.services.filter((s) => s.alive).length === 4 && HOSTS.every((h) => r.services.some((s) => s.host === h && s.alive));
    },
    30_000,
    200,
  );
}

test("dev cluster - --nats-nodes 2 is refused naming 1 and 3, exit 2, nothing started", async () => {
  const varDir = tempDir("mr-devc-refused-");
  const url = `nats://127.0.0.1:${await freePort()}`;
  const dev = startDev(["--no-repl", "--nats-nodes", "2", "--var", varDir], { MR_SERVERS: url });
  await exited(dev.child);
  assert.is(dev.child.exitCode, 2, dev.out() + dev.err());
  assert.ok(dev.err().includes("--nats-nodes") && dev.err().includes("1") && dev.err().includes("3") && dev.err().includes(`got "2"`), dev.err());
  assert.not.ok(existsSync(join(varDir, "nats")) || existsSync(join(varDir, "log")), "dev created folders");
  assert.equal(await probeNats("127.0.0.1", portOf(url)), { kind: "free" });

  // Three nodes need one address (its port and the next two) or three: two is refused too.
  const two = (await threeUrls()).slice(0, 2);
  const dev2 = startDev(["--no-repl", "--nats-nodes", "3", "--var", varDir], { MR_SERVERS: two.join(",") });
  await exited(dev2.child);
  assert.is(dev2.child.exitCode, 2, dev2.out() + dev2.err());
  assert.ok(dev2.err().includes("one NATS address") && dev2.err().includes("three"), dev2.err());
  assert.not.ok(existsSync(join(varDir, "nats")), "dev created a nats store");
  for (const u of two) assert.equal(await probeNats("127.0.0.1", portOf(u)), { kind: "free" });
});

test("dev cluster - node addresses: three URLs as given, one URL's port and the next two; others refused", () => {
  assert.equal(
    clusterNodeAddresses(["nats://127.0.0.1:4222"]).map((n) => [n.name, n.url]),
    [
      ["n1", "nats://127.0.0.1:4222"],
      ["n2", "nats://127.0.0.1:4223"],
      ["n3", "nats://127.0.0.1:4224"],
    ],
  );
  assert.equal(
    clusterNodeAddresses(["nats://127.0.0.1:5001", "nats://localhost:6001", "nats://127.0.0.1:7001"]).map((n) => `${n.host}:${n.port}`),
    ["127.0.0.1:5001", "localhost:6001", "127.0.0.1:7001"],
  );
  for (const bad of [
    [],
    ["nats://127.0.0.1:1", "nats://127.0.0.1:2"],
    ["nats://127.0.0.1:1", "nats://127.0.0.1:2", "nats://127.0.0.1:1"],
    ["nats://127.0.0.1:65534"],
  ]) {
    try {
      clusterNodeAddresses(bad);
      assert.unreachable(`accepted ${bad.join(",")}`);
    } catch (e) {
      assert.instance(e, DevError, String(e));
      assert.is((e as DevError).code, "DEV_NATS_ADDRESSES");
    }
  }
});

test("dev cluster - three JetStream nodes already running are used and left running; one running and two free is refused", async () => {
  const cluster = await startNatsCluster();
  try {
    const dev = startDev(["--only-nats", "--no-repl", "--nats-nodes", "3"], { MR_SERVERS: cluster.urls.join(","), MR_VAR_DIR: tempDir("mr-devc-reuse-") });
    await untilUp(dev, CLUSTER_UP_MS);
    for (const n of NODES) assert.match(dev.out(), new RegExp(`^  ${n} .*already listening there; dev did not start it and leaves it running`, "m"));
    assert.is(await stopDev(dev), 0, dev.err());
    assert.ok(
      cluster.nodes.every((n) => n.running),
      "dev stopped a nats-server it did not start",
    );
  } finally {
    await cluster.stop();
  }

  const lone = await startNatsServer("lone");
  try {
    const varDir = tempDir("mr-devc-mixed-");
    const [free1, free2] = await threeUrls();
    const dev = startDev(["--only-nats", "--no-repl", "--nats-nodes", "3"], { MR_SERVERS: [lone.url, free1, free2].join(","), MR_VAR_DIR: varDir });
    await exited(dev.child);
    assert.is(dev.child.exitCode, 1, dev.out() + dev.err());
    assert.ok(dev.err().includes(`a nats-server listens at 127.0.0.1:${lone.spec.port} but nothing at`) && dev.err().includes("[DEV_PORT_TAKEN]"), dev.err());
    assert.not.ok(existsSync(join(varDir, "nats")), "a nats store was created");
    assert.ok(lone.running);
  } finally {
    await lone.stop();
  }
});

test("dev cluster - three running nodes that cannot form a cluster yet: dev waits, saying why, and comes up once they can", async () => {
  // Every route goes through a blocked proxy: the nodes answer clients, with JetStream on,
  // but elect no meta leader until the proxies let the routes through.
  const base = tempDir("mr-devc-forming-");
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const proxies = await Promise.all(routePorts.map((p) => TcpProxy.start(p)));
  for (const p of proxies) p.block();
  const urls3 = await threeUrls();
  const nodes: NatsNode[] = [];
  for (const [i, u] of urls3.entries()) {
    nodes.push(
      new NatsNode({
        name: `forming-n${i + 1}`,
        port: portOf(u),
        httpPort: await freePort(),
        clusterPort: routePorts[i]!,
        routes: proxies.filter((_, j) => j !== i).map((p) => portOf(p.url)),
        storeDir: join(base, `n${i + 1}`),
      }),
    );
  }
  for (const n of nodes) n.spawn();
  const tended = { value: false };
  let tending: Promise<void> | undefined;
  try {
    for (const u of urls3)
      await waitFor(
        `a JetStream nats-server on ${u}`,
        async () => {
          const r = await probeNats("127.0.0.1", portOf(u));
          return r.kind === "nats" && r.jetstream;
        },
        15_000,
        100,
      );
    const dev = startDev(["--only-nats", "--no-repl", "--nats-nodes", "3"], { MR_SERVERS: urls3.join(","), MR_VAR_DIR: tempDir("mr-devc-forming-var-") });
    await waitFor(
      "dev to say it waits for a meta leader",
      () => {
        if (dev.child.exitCode !== null) throw new Error(`dev exited ${dev.child.exitCode}:\n${dev.out()}\n${dev.err()}`);
        return dev.out().includes("waiting for JetStream: no meta leader yet");
      },
      30_000,
      100,
    );
    assert.not.ok(dev.out().includes("\nStop: "), `dev was up before the cluster could take assets:\n${dev.out()}`);
    for (const p of proxies) p.unblock();
    // These nodes are not dev's: a node nats-server 2.10 leaves out of the meta group is
    // restarted here, as their operator would (dev restarts only nodes it started).
    tending = tendFormation(nodes, tended);
    await untilUp(dev, CLUSTER_UP_MS).catch((e: Error) => {
      throw new Error(
        `${e.message}\n${nodes
          .map(
            (n) =>
              `--- node ${n.spec.name}:\n${n.log
                .split("\n")
                .filter((l) => !ROUTE_NOISE.test(l))
                .slice(-40)
                .join("\n")}`,
          )
          .join("\n")}`,
      );
    });
    assert.is(await stopDev(dev), 0, dev.err());
    assert.ok(
      nodes.every((n) => n.running),
      "dev stopped nodes it did not start",
    );
  } finally {
    tended.value = true;
    await tending;
    await Promise.all(nodes.map((n) => n.kill9()));
    await Promise.all(proxies.map((p) => p.stop()));
  }
});

const varDir = tempDir("mr-devc-var-");
let urls: string[] = [];

/** A connection as one of dev's identities (seeds under <var>/auth). */
function connectAs(role: "admin" | "operator", servers: string | string[]): Promise<NatsConnection> {
  return connect(natsConnectionOptions(servers, { nkeyFile: join(varDir, "auth", `${role}.nk`), inboxPrefix: `_INBOX_${role}` }));
}

test("dev cluster - three nodes, R3 assets, a replicated write, SIGTERM stops every process; a single-node store beside it is kept", async () => {
  // A single-node dev store in the same var folder, with a stream of its own.
  const single = `nats://127.0.0.1:${await freePort()}`;
  const one = startDev(["--only-nats", "--no-repl"], { MR_SERVERS: single, MR_VAR_DIR: varDir });
  await untilUp(one, CLUSTER_UP_MS);
  let nc = await connectAs("operator", single);
  const jsm1 = await jetstreamManager(nc);
  // The operator administers JetStream but publishes nothing: the stream itself is the mark.
  await jsm1.streams.add({ name: "SINGLE_KEPT", subjects: ["single.kept"] });
  await nc.close();
  assert.is(await stopDev(one), 0, one.err());

  urls = await threeUrls();
  const dev = startDev(["--no-repl", "--nats-nodes", "3", "--var", varDir], { MR_SERVERS: urls.join(","), MR_HEARTBEAT_MS: "200" });
  await untilUp(dev, CLUSTER_UP_MS);
  const pids = [...NODES, ...HOSTS, "supervisor"].map((n) => pidOf(dev, n));
  assert.ok(pids.every(alive), dev.out());
  for (let i = 0; i < 3; i++) {
    assert.ok(existsSync(join(varDir, "nats", `n${i + 1}`, "jetstream")), `store of n${i + 1}`);
    assert.ok(readFileSync(join(varDir, "log", `nats-n${i + 1}.log`), "utf8").includes("Server is ready"), `log of n${i + 1}`);
    assert.equal((await probeNats("127.0.0.1", portOf(urls[i]!))).kind, "nats", `node ${i + 1} listens on ${urls[i]}`);
  }
  // The mailstores and the supervisor were given all three URLs and 3 replicas.
  for (const name of [...HOSTS, "supervisor"]) {
    const log = readFileSync(join(varDir, "log", `${name}.log`), "utf8");
    assert.ok(log.includes(`--servers ${urls.join(",")}`), `${name} was not given the three URLs:\n${log.slice(-2000)}`);
  }

  nc = await connectAs("admin", urls);
  const ops = await connectAs("operator", urls);
  try {
    await servicesAlive(nc);
    await rpcCall(nc, "mr.rpc.mailbox", "createAccount", { name: ACCOUNT, mailHost: HOSTS[0] });
    await rpcCall(nc, "mr.rpc.mailbox", "deliverMessage", { account: ACCOUNT, raw: "Subject: kept\n\nacross runs" });
    await rpcCall(nc, "mr.rpc.admin", "setAccountDestination", { destination: HOSTS[1], priority: 10, accounts: [ACCOUNT] });
    await rpcCall(nc, "mr.rpc.mailbox", "deliverMessage", { account: ACCOUNT, raw: "Subject: second\n\nafter the replica was added" });
    const status = await waitFor(
      "the replica on mailstore2 available and caught up with both messages",
      async () => {
        const s = await rpcCall<{ accounts: Array<{ sequence: number; replicas: Array<{ destination: string; available: boolean; sequence: number }> }> }>(
          nc,
          "mr.rpc.admin",
          "getAccountStatus",
          { accounts: ACCOUNT },
        );
        const a = s.accounts[0];
        const r = a?.replicas.find((x) => x.destination === HOSTS[1]);
        return a && r && r.available && r.sequence === a.sequence ? a : undefined;
      },
      30_000,
      200,
    );
    assert.ok(status.sequence >= 3, `account sequence ${status.sequence}`);

    // Every JetStream asset (MR_TX, the KV buckets, the object store, MR_NOTIFY) has 3 replicas.
    const jsm = await jetstreamManager(ops);
    const tx = await jsm.streams.info("MR_TX");
    assert.is(tx.config.num_replicas, 3);
    assert.is((tx.cluster?.replicas ?? []).length, 2, JSON.stringify(tx.cluster));
    const streams = await jsm.streams.list().next();
    assert.ok(streams.length >= 4, streams.map((s) => s.config.name).join(", "));
    for (const s of streams) assert.is(s.config.num_replicas, 3, `stream ${s.config.name}`);
  } finally {
    await nc.close();
    await ops.close();
  }

  assert.is(await stopDev(dev), 0, dev.err());
  for (const pid of pids) assert.not.ok(alive(pid), `process ${pid} outlived dev`);
  const stopLines = dev.out().slice(dev.out().indexOf("stopping what it started"));
  for (const n of NODES) {
    assert.ok(stopLines.includes(`${n} stopped`), stopLines);
    assert.ok(stopLines.indexOf(`${HOSTS[0]} stopped`) < stopLines.indexOf(`${n} stopped`), stopLines);
    assert.ok(stopLines.indexOf("supervisor stopped") < stopLines.indexOf(`${n} stopped`), stopLines);
  }
  for (const u of urls) assert.equal(await probeNats("127.0.0.1", portOf(u)), { kind: "free" });

  // The single-node store is intact: a single-node dev on the same var folder finds its stream.
  const again = startDev(["--only-nats", "--no-repl"], { MR_SERVERS: single, MR_VAR_DIR: varDir });
  await untilUp(again, CLUSTER_UP_MS);
  nc = await connectAs("operator", single);
  try {
    const info = await (await jetstreamManager(nc)).streams.info("SINGLE_KEPT");
    assert.equal(info.config.subjects, ["single.kept"]);
    assert.is(info.config.num_replicas, 1);
  } finally {
    await nc.close();
  }
  assert.is(await stopDev(again), 0, again.err());
});

test("dev cluster - the REPL of a re-run finds the data on all three nodes; exit stops everything, the nodes last", async () => {
  assert.ok(urls.length === 3, "the previous test ran");
  const dev = startDev(["--nats-nodes", "3"], { MR_SERVERS: urls.join(","), MR_VAR_DIR: varDir, MR_HEARTBEAT_MS: "200" }, "pipe");
  await untilUp(dev, CLUSTER_UP_MS);
  const pids = [...NODES, ...HOSTS, "supervisor"].map((n) => pidOf(dev, n));
  assert.ok(dev.out().includes(`--servers ${urls.join(",")}`), dev.out());
  const nc = await connectAs("admin", urls);
  try {
    await servicesAlive(nc);
  } finally {
    await nc.close();
  }
  dev.child.stdin!.write(`listItems account ${ACCOUNT}\nexit\n`);
  await exited(dev.child);
  assert.is(dev.child.exitCode, 0, dev.err());
  const out = dev.out();
  assert.ok(out.includes('"subject": "kept"') && out.includes('"subject": "second"'), out);
  assert.ok(out.indexOf('"subject": "kept"') < out.indexOf("stopping what it started"), out);
  for (const pid of pids) assert.not.ok(alive(pid), `process ${pid} outlived dev`);
  const stopLines = out.slice(out.indexOf("stopping what it started"));
  assert.ok(stopLines.lastIndexOf(`${HOSTS[2]} stopped`) < stopLines.indexOf("nats-n1 stopped"), stopLines);
});

test.run();
