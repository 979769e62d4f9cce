// serveJsonRpc and the client helpers against a real nats-server.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, errors, headers, type NatsConnection } from "@nats-io/transport-node";
import {
  AppError,
  DEFAULT_MAX_PAYLOAD_BYTES,
  RpcClientError,
  RpcError,
  defineMethod,
  int,
  methodTable,
  rpcBatch,
  rpcCall,
  rpcNotify,
  serveJsonRpc,
  str,
  type JsonRpcService,
  type NatsRpcContext,
} from "../src/jsonrpc/index.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";

let server: NatsNode;
let srv: NatsConnection; // the serving side
let cli: NatsConnection; // the calling side
let service: JsonRpcService;
const SUBJECT = "mr.test.rpc";
const notified: string[] = [];
const internal: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const methods = methodTable<NatsRpcContext>([
  defineMethod({
    name: "add",
    params: { a: int({ required: true }), b: int({ default: 0 }) },
    handler: ({ a, b }) => a + b,
  }),
  defineMethod({
    name: "note",
    params: { text: str({ required: true }) },
    handler: ({ text }) => void notified.push(text),
  }),
  defineMethod({
    name: "sleep",
    params: { ms: int({ min: 0, max: 10_000, required: true }) },
    handler: async ({ ms }) => {
      await sleep(ms);
      return ms;
    },
  }),
  defineMethod({
    name: "whoami",
    params: {},
    handler: (_p, ctx: NatsRpcContext) => ({ subject: ctx.subject, caller: ctx.headers?.get("X-Caller") ?? null }),
  }),
  defineMethod({
    name: "lookup",
    params: { account: str({ required: true }) },
    handler: ({ account }) => {
      throw new AppError("ACCOUNT_UNKNOWN", `account ${account} is unknown; check the name with getAccountStatus`, { account });
    },
  }),
  defineMethod({
    name: "crash",
    params: {},
    handler: () => {
      throw new Error("disk /secret/path failed");
    },
  }),
  defineMethod({
    name: "huge",
    params: {},
    handler: () => "x".repeat(2 * 1024 * 1024),
  }),
  defineMethod({
    // calls a subject nobody serves: the failure must reach our caller as UNAVAILABLE
    name: "forward",
    params: {},
    handler: () => rpcCall(srv, "mr.test.nobody", "anything", undefined, { timeoutMs: 2000 }),
  }),
]);

test.before(async () => {
  server = await startNatsServer();
  srv = await connect({ servers: server.url });
  cli = await connect({ servers: server.url });
  service = serveJsonRpc(srv, SUBJECT, methods, { onInternalError: (_e, m) => internal.push(m) });
  await srv.flush();
});
test.after(async () => {
  await service?.stop();
  await cli?.close();
  await srv?.close();
  await server?.stop();
});

test("jsonrpc nats - rpcCall returns the result", async () => {
  assert.is(await rpcCall<number>(cli, SUBJECT, "add", { a: 40, b: 2 }), 42);
  assert.is(await rpcCall<number>(cli, SUBJECT, "add", { a: 1 }), 1);
});

test("jsonrpc nats - the method sees the subject and the request headers", async () => {
  assert.equal(await rpcCall(cli, SUBJECT, "whoami"), { subject: SUBJECT, caller: null });
  const h = headers();
  h.set("X-Caller", "repl");
  const msg = await cli.request(SUBJECT, JSON.stringify({ jsonrpc: "2.0", method: "whoami", id: 1 }), { timeout: 2000, headers: h });
  assert.equal(JSON.parse(msg.string()), { jsonrpc: "2.0", result: { subject: SUBJECT, caller: "repl" }, id: 1 });
});

test("jsonrpc nats - an error response is thrown as RpcError with code, message and data", async () => {
  const e = await rpcCall(cli, SUBJECT, "lookup", { account: "bob" }).catch((x: unknown) => x);
  assert.instance(e, RpcError);
  const r = e as RpcError;
  assert.is(r.code, -32001);
  assert.is(r.message, "account bob is unknown; check the name with getAccountStatus");
  assert.equal(r.data, { account: "bob", code: "ACCOUNT_UNKNOWN" });
  assert.is(r.appCode, "ACCOUNT_UNKNOWN");
});

test("jsonrpc nats - invalid params and unknown methods come back as RpcError", async () => {
  const p = (await rpcCall(cli, SUBJECT, "add", { a: "1" }).catch((x: unknown) => x)) as RpcError;
  assert.instance(p, RpcError);
  assert.is(p.code, -32602);
  assert.is(p.message, 'add: param "a" must be an integer, got the string "1"');
  assert.equal(p.data, { param: "a" });
  const m = (await rpcCall(cli, SUBJECT, "nope").catch((x: unknown) => x)) as RpcError;
  assert.is(m.code, -32601);
  assert.is(m.appCode, undefined);
});

test("jsonrpc nats - an internal error hides the stack and is reported on the server", async () => {
  internal.length = 0;
  const e = (await rpcCall(cli, SUBJECT, "crash").catch((x: unknown) => x)) as RpcError;
  assert.is(e.code, -32603);
  assert.is(e.message, "Internal error");
  assert.is(e.data, "Error: disk /secret/path failed");
  assert.equal(internal, ["crash"]);
});

test("jsonrpc nats - nobody serving the subject is NO_RESPONDER", async () => {
  const e = await rpcCall(cli, "mr.test.nobody", "add", { a: 1 }, { timeoutMs: 2000 }).catch((x: unknown) => x);
  assert.instance(e, RpcClientError);
  assert.is((e as RpcClientError).code, "NO_RESPONDER");
  assert.is((e as RpcClientError).message, "nothing serves mr.test.nobody; is the supervisor/mailstore running?");
});

test("jsonrpc nats - a NO_RESPONDER escaping a method reaches its caller as UNAVAILABLE", async () => {
  const e = (await rpcCall(cli, SUBJECT, "forward").catch((x: unknown) => x)) as RpcError;
  assert.instance(e, RpcError);
  assert.is(e.code, -32021);
  assert.equal(e.data, { code: "UNAVAILABLE", alias: "NO_RESPONDER" });
});

test("jsonrpc nats - a slow answer is TIMEOUT", async () => {
  const e = await rpcCall(cli, SUBJECT, "sleep", { ms: 500 }, { timeoutMs: 100 }).catch((x: unknown) => x);
  assert.instance(e, RpcClientError);
  assert.is((e as RpcClientError).code, "TIMEOUT");
  assert.match((e as RpcClientError).message, /within 100 ms/);
});

test("jsonrpc nats - requests are handled concurrently", async () => {
  const slow = rpcCall(cli, SUBJECT, "sleep", { ms: 400 });
  const t0 = Date.now();
  assert.is(await rpcCall(cli, SUBJECT, "add", { a: 1 }), 1);
  assert.ok(Date.now() - t0 < 300, "a fast call is not queued behind a slow one");
  assert.is(await slow, 400);
});

test("jsonrpc nats - rpcNotify runs the method and nothing answers", async () => {
  notified.length = 0;
  rpcNotify(cli, SUBJECT, "note", { text: "hello" });
  await until("the notification", () => notified.length === 1);
  assert.equal(notified, ["hello"]);
});

test("jsonrpc nats - a notification sent as a request gets no reply at all", async () => {
  notified.length = 0;
  const e = await cli.request(SUBJECT, JSON.stringify({ jsonrpc: "2.0", method: "note", params: { text: "n" } }), { timeout: 300 }).catch((x: unknown) => x);
  assert.instance(e, errors.TimeoutError, "served (not 503) but never answered");
  assert.equal(notified, ["n"]);
});

test("jsonrpc nats - a batch of only notifications gets no reply, and every handler runs", async () => {
  notified.length = 0;
  const batch = [
    { jsonrpc: "2.0", method: "note", params: { text: "a" } },
    { jsonrpc: "2.0", method: "note", params: { text: "b" } },
    { jsonrpc: "2.0", method: "nope" },
  ];
  const e = await cli.request(SUBJECT, JSON.stringify(batch), { timeout: 300 }).catch((x: unknown) => x);
  assert.instance(e, errors.TimeoutError);
  assert.equal([...notified].sort(), ["a", "b"]);
});

test("jsonrpc nats - rpcBatch returns one outcome per call, in call order", async () => {
  notified.length = 0;
  const out = await rpcBatch(cli, SUBJECT, [
    { method: "add", params: { a: 2, b: 3 } },
    { method: "note", params: { text: "batched" }, notification: true },
    { method: "lookup", params: { account: "eve" } },
    { method: "nope" },
    { method: "add", params: [1, 2] },
    { method: "sleep", params: { ms: 30 } },
  ]);
  assert.is(out.length, 6);
  assert.equal(out[0], { ok: true, value: 5 });
  assert.is(out[1], undefined);
  const errCode = (i: number) => {
    const o = out[i];
    assert.ok(o && !o.ok, `call ${i} failed`);
    return o && !o.ok ? (o.error as RpcError).code : undefined;
  };
  assert.is(errCode(2), -32001);
  assert.is(errCode(3), -32601);
  assert.is(errCode(4), -32602);
  assert.equal(out[5], { ok: true, value: 30 });
  assert.equal(notified, ["batched"]);
});

test("jsonrpc nats - rpcBatch of only notifications sends them and resolves at once", async () => {
  notified.length = 0;
  const out = await rpcBatch(cli, SUBJECT, [
    { method: "note", params: { text: "x" }, notification: true },
    { method: "note", params: { text: "y" }, notification: true },
  ]);
  assert.equal(out, [undefined, undefined]);
  await until("both notifications", () => notified.length === 2);
  assert.equal(await rpcBatch(cli, SUBJECT, []), []);
});

test("jsonrpc nats - rpcBatch to nobody is NO_RESPONDER", async () => {
  const e = await rpcBatch(cli, "mr.test.nobody", [{ method: "add", params: { a: 1 } }], { timeoutMs: 2000 }).catch((x: unknown) => x);
  assert.instance(e, RpcClientError);
  assert.is((e as RpcClientError).code, "NO_RESPONDER");
});

test("jsonrpc nats - garbage of every kind is answered and the server keeps serving", async () => {
  const ask = async (payload: string | Uint8Array) => JSON.parse((await cli.request(SUBJECT, payload, { timeout: 2000 })).string());
  assert.equal(await ask(""), { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
  assert.equal(await ask(new Uint8Array([0xc3, 0x28])), { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
  assert.equal(await ask("{not json"), { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
  assert.equal(await ask("[]"), { jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request" }, id: null });
  assert.equal(await ask('{"jsonrpc":"2.0","method":"add","params":"x","id":3}'), {
    jsonrpc: "2.0",
    error: { code: -32600, message: "Invalid Request" },
    id: 3,
  });
  assert.equal(await ask("[1,null]"), [
    { jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request" }, id: null },
    { jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request" }, id: null },
  ]);
  cli.publish(SUBJECT, "{broken without a reply subject");
  assert.is(await rpcCall(cli, SUBJECT, "add", { a: 7 }), 7);
});

test("jsonrpc nats - the spec's mixed batch over the wire", async () => {
  const batch = `[
    {"jsonrpc": "2.0", "method": "add", "params": {"a": 1, "b": 6}, "id": "1"},
    {"jsonrpc": "2.0", "method": "note", "params": {"text": "hello"}},
    {"foo": "boo"},
    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"}
  ]`;
  const got = JSON.parse((await cli.request(SUBJECT, batch, { timeout: 2000 })).string()) as unknown[];
  assert.equal(got, [
    { jsonrpc: "2.0", result: 7, id: "1" },
    { jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request" }, id: null },
    { jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id: "5" },
  ]);
});

test("jsonrpc nats - a payload over maxPayloadBytes is refused saying the limit", async () => {
  const small = serveJsonRpc(srv, "mr.test.small", methods, { maxPayloadBytes: 1024 });
  await srv.flush();
  try {
    const e = (await rpcCall(cli, "mr.test.small", "note", { text: "z".repeat(2000) }).catch((x: unknown) => x)) as RpcError;
    assert.instance(e, RpcError);
    assert.is(e.code, -32600);
    assert.match(e.message, /the payload is \d+ bytes, over the limit of 1024 bytes/);
    const res = JSON.parse((await cli.request("mr.test.small", "x".repeat(2000), { timeout: 2000 })).string());
    assert.equal(res.id, null);
    assert.is(await rpcCall(cli, "mr.test.small", "add", { a: 1 }), 1, "small requests still pass");
  } finally {
    await small.stop();
  }
});

test("jsonrpc nats - the default payload limit is 8 MiB", () => {
  assert.is(DEFAULT_MAX_PAYLOAD_BYTES, 8 * 1024 * 1024);
});

test("jsonrpc nats - a result over the NATS max_payload becomes an error, not a silent timeout", async () => {
  const e = (await rpcCall(cli, SUBJECT, "huge").catch((x: unknown) => x)) as RpcError;
  assert.instance(e, RpcError);
  assert.is(e.code, -32603);
  assert.match(String(e.data), /the response to huge is \d+ bytes, over the \d+-byte limit/);
});

test("jsonrpc nats - a queue group handles each request once", async () => {
  let count = 0;
  const counting = methodTable([defineMethod({ name: "hit", params: {}, handler: () => ++count })]);
  const one = serveJsonRpc(srv, "mr.test.q", counting, { queue: "workers" });
  const two = serveJsonRpc(srv, "mr.test.q", counting, { queue: "workers" });
  await srv.flush();
  try {
    for (let i = 0; i < 20; i++) await rpcCall(cli, "mr.test.q", "hit");
    assert.is(count, 20);
  } finally {
    await one.stop();
    await two.stop();
  }
});

test("jsonrpc nats - stop() answers what is in flight, then the subject is not served", async () => {
  const s = serveJsonRpc(srv, "mr.test.stop", methods);
  await srv.flush();
  const pending = rpcCall(cli, "mr.test.stop", "sleep", { ms: 200 });
  await sleep(50);
  await s.stop();
  assert.is(await pending, 200);
  const e = await rpcCall(cli, "mr.test.stop", "add", { a: 1 }, { timeoutMs: 1000 }).catch((x: unknown) => x);
  assert.is((e as RpcClientError).code, "NO_RESPONDER");
});

test("jsonrpc nats - a non-JSON answer is BAD_RESPONSE", async () => {
  const sub = srv.subscribe("mr.test.liar", { callback: (_e, m) => void m.respond("hello") });
  await srv.flush();
  try {
    const e = await rpcCall(cli, "mr.test.liar", "add").catch((x: unknown) => x);
    assert.instance(e, RpcClientError);
    assert.is((e as RpcClientError).code, "BAD_RESPONSE");
  } finally {
    sub.unsubscribe();
  }
});

test.run();
