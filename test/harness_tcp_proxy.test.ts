// The TCP proxy of the fault tests (test/helpers/tcp_proxy.ts), tested on its own against a
// real nats-server: a stalled direction holds bytes and delivers them in order on resume, a
// dropped one loses them, cut() closes open connections, block() refuses new ones. Proof that
// bytes reached the proxy comes from the server's /connz (messages it sent to the client), or
// from a marker published after them on a direct connection; no test waits on the clock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { waitFor } from "./helpers/processes.js";

let server: NatsNode;
let direct: NatsConnection;

test.before(async () => {
  server = await startNatsServer();
  direct = await connect({ servers: server.url, name: "direct" });
});
test.after(async () => {
  await direct?.close();
  await server?.stop();
});

/** Messages nats-server has written to the connection named `name` (from /connz). */
async function serverSentTo(name: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${server.spec.httpPort}/connz`);
  const body = (await r.json()) as { connections: Array<{ name?: string; out_msgs: number }> };
  return body.connections.find((c) => c.name === name)?.out_msgs ?? 0;
}

/** Collects the string payloads a subscription receives, in order. */
function collect(sub: Subscription): string[] {
  const got: string[] = [];
  void (async () => {
    for await (const m of sub) got.push(m.string());
  })();
  return got;
}

async function proxied(proxy: TcpProxy, name: string, extra: Record<string, unknown> = {}): Promise<NatsConnection> {
  return connect({ servers: proxy.url, name, ignoreClusterUpdates: true, ...extra });
}

test("tcp proxy - stall toClient holds the server's bytes; resume delivers them, in order", async () => {
  const proxy = await TcpProxy.start(server.spec.port);
  const nc = await proxied(proxy, "stall-client");
  try {
    const sub = nc.subscribe("p.stall");
    const got = collect(sub);
    await nc.flush();
    proxy.stall("toClient");
    for (let i = 1; i <= 5; i++) direct.publish("p.stall", `m${i}`);
    await direct.flush();
    // The server has written all five to the proxied connection: they are in the proxy now.
    await waitFor("nats-server to send 5 messages to the stalled client", async () => (await serverSentTo("stall-client")) >= 5);
    assert.equal(got, [], "nothing may reach the client while toClient is stalled");
    proxy.resume("toClient");
    await waitFor("the held messages to arrive", () => got.length >= 5);
    assert.equal(got, ["m1", "m2", "m3", "m4", "m5"]);
  } finally {
    await nc.close();
    await proxy.stop();
  }
});

test("tcp proxy - stall toServer holds the client's publishes behind a later direct one; resume delivers them in order", async () => {
  const proxy = await TcpProxy.start(server.spec.port);
  const nc = await proxied(proxy, "stall-publisher");
  const sub = direct.subscribe("p.up");
  const got = collect(sub);
  try {
    await direct.flush();
    proxy.stall("toServer");
    for (let i = 1; i <= 3; i++) nc.publish("p.up", `held${i}`);
    // A marker sent after them on a direct connection arrives first: the proxied ones are held.
    direct.publish("p.up", "marker");
    await waitFor("the direct marker", () => got.includes("marker"));
    assert.equal(got, ["marker"]);
    const before = proxy.forwarded.toServer;
    proxy.resume("toServer");
    await waitFor("the held publishes", () => got.length >= 4);
    assert.equal(got, ["marker", "held1", "held2", "held3"]);
    assert.ok(proxy.forwarded.toServer > before, "resume forwards the held bytes");
  } finally {
    sub.unsubscribe();
    await nc.close();
    await proxy.stop();
  }
});

test("tcp proxy - drop toClient loses the server's bytes; after resume new ones arrive", async () => {
  const proxy = await TcpProxy.start(server.spec.port);
  const nc = await proxied(proxy, "drop-client");
  try {
    const sub = nc.subscribe("p.drop");
    const got = collect(sub);
    await nc.flush();
    proxy.drop("toClient");
    for (let i = 1; i <= 3; i++) direct.publish("p.drop", `lost${i}`);
    await direct.flush();
    await waitFor("nats-server to send 3 messages to the dropping client", async () => (await serverSentTo("drop-client")) >= 3);
    // Sent by the server is not yet read by the proxy: resuming before the proxy has thrown the
    // bytes away would forward them (seen in CI). Each frame is `MSG p.drop <sid> 5` and the
    // payload, over 20 bytes: 60 dropped bytes are the three frames.
    await waitFor("the proxy to drop the 3 frames", () => proxy.dropped.toClient >= 60);
    proxy.resume("toClient");
    direct.publish("p.drop", "after");
    await waitFor("the message sent after resume", () => got.includes("after"));
    assert.equal(got, ["after"], "the dropped messages never arrive");
  } finally {
    await nc.close();
    await proxy.stop();
  }
});

test("tcp proxy - cut closes open connections (the client reconnects through it); block refuses new ones until unblock", async () => {
  const proxy = await TcpProxy.start(server.spec.port);
  const nc = await proxied(proxy, "cut-client", { maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  const events: string[] = [];
  void (async () => {
    for await (const s of nc.status()) events.push(s.type);
  })();
  try {
    await nc.flush();
    assert.is(proxy.connections, 1);
    proxy.cut();
    await waitFor("the client to see the disconnect", () => events.includes("disconnect"));
    await waitFor("the client to reconnect through the proxy", () => events.includes("reconnect") && proxy.connections === 1);
    await nc.flush();

    proxy.block();
    await assert_rejects(connect({ servers: proxy.url, reconnect: false, timeout: 2_000 }), "a new connection while blocked");
    assert.is(proxy.connections, 1, "block leaves open connections alone");
    proxy.unblock();
    const again = await connect({ servers: proxy.url, reconnect: false, timeout: 5_000 });
    assert.is(proxy.connections, 2);
    await again.close();
  } finally {
    await nc.close();
    await proxy.stop();
  }
});

test("tcp proxy - orphan closes the client side and keeps the held publishes; the client reconnects; releaseOrphans delivers them late", async () => {
  const proxy = await TcpProxy.start(server.spec.port);
  const nc = await proxied(proxy, "orphan-publisher", { maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  const events: string[] = [];
  void (async () => {
    for await (const s of nc.status()) events.push(s.type);
  })();
  const sub = direct.subscribe("p.late");
  const got = collect(sub);
  try {
    await direct.flush();
    proxy.stall("toServer");
    nc.publish("p.late", "held");
    direct.publish("p.late", "marker");
    await waitFor("the direct marker", () => got.includes("marker"));
    proxy.orphan();
    await waitFor("the client to reconnect through the proxy", () => events.includes("reconnect") && proxy.connections === 1);
    nc.publish("p.late", "after");
    await waitFor("the publish sent after the reconnect", () => got.includes("after"));
    assert.equal(got, ["marker", "after"], "the orphaned publish is still held");
    proxy.releaseOrphans();
    await waitFor("the orphaned publish", () => got.includes("held"));
    assert.equal(got, ["marker", "after", "held"]);
  } finally {
    sub.unsubscribe();
    await nc.close();
    await proxy.stop();
  }
});

async function assert_rejects(p: Promise<unknown>, what: string): Promise<void> {
  try {
    const v = await p;
    await (v as NatsConnection).close?.();
  } catch {
    return;
  }
  assert.unreachable(`${what} should have been refused`);
}

test.run();
