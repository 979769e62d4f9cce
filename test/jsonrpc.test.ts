// The JSON-RPC 2.0 rules of handleRpcPayload, without NATS: the spec's own examples
// (section 7), every protocol error, batches, notifications and the application error mapping.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errors, RequestError } from "@nats-io/transport-node";
import { CallerFacingError } from "../src/errors/index.js";
import {
  AppError,
  AppErrorCodes,
  MAX_BATCH_MEMBERS,
  RpcError,
  appErrorRows,
  handleRpcPayload,
  methodTable,
  resolveAppCode,
  toErrorObject,
  type RpcMethod,
} from "../src/jsonrpc/index.js";

const updates: unknown[] = [];
const hellos: unknown[] = [];

function raw(name: string, call: RpcMethod<unknown>["call"]): RpcMethod<unknown> {
  return { name, call };
}

// The methods the spec's examples assume.
const specMethods = methodTable([
  raw("subtract", (p) => {
    if (Array.isArray(p)) return (p[0] as number) - (p[1] as number);
    const o = p as { minuend: number; subtrahend: number };
    return o.minuend - o.subtrahend;
  }),
  raw("update", (p) => void updates.push(p)),
  raw("sum", (p) => (p as number[]).reduce((a, b) => a + b, 0)),
  raw("notify_hello", (p) => void hellos.push(p)),
  raw("get_data", () => ["hello", 5]),
]);

async function rpc(payload: string | Uint8Array, methods = specMethods): Promise<unknown> {
  const out = await handleRpcPayload(payload, methods);
  return out === undefined ? undefined : JSON.parse(out);
}

type Resp = { id: unknown };
function sortById(list: unknown): Resp[] {
  return [...(list as Resp[])].sort((a, b) => JSON.stringify(a.id).localeCompare(JSON.stringify(b.id)));
}

const PARSE = { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null };
const INVALID = { jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request" }, id: null };

// ---- the spec's examples, exactly

test("jsonrpc errors - a NATS no-responders or closed-connection error escaping a method is UNAVAILABLE, a connection lost mid-request is not", () => {
  // The errors the @nats-io client throws: a request nobody took, a call on a closed or draining connection.
  const cases: Array<[string, Error]> = [
    ["no responders", new RequestError("no responders", { cause: new errors.NoRespondersError("mr.test") })],
    ["closed", new errors.ClosedConnectionError()],
    ["draining", new errors.DrainingConnectionError()],
  ];
  for (const [what, err] of cases) {
    const out = toErrorObject(err);
    assert.is(out.error.code, -32021, what);
    assert.is((out.error.data as { code: string }).code, "UNAVAILABLE");
    assert.match(out.error.message, /^NATS: .*retry/);
    assert.is(out.internal, false);
  }
  // APP_ERROR's specific cause survives as data.cause (data.code is always the stable code).
  const app = toErrorObject(new AppError("APP_ERROR", "the log kept growing", { code: "OLD_PRIMARY_STILL_WRITING", account: "a@example.com" }));
  assert.equal(app.error.data, { code: "APP_ERROR", cause: "OLD_PRIMARY_STILL_WRITING", account: "a@example.com" });
  // No answer in time: it may still complete, so TIMEOUT, not UNAVAILABLE.
  const late = toErrorObject(new errors.TimeoutError());
  assert.is((late.error.data as { code: string }).code, "TIMEOUT");
  assert.is(late.internal, false);
  // A request cut mid-way may have been served: it must not say "nothing was done, retry".
  const cut = toErrorObject(new RequestError("connection disconnected"));
  assert.is.not(cut.error.code, -32021);
  assert.is(cut.error.code, -32603, "an internal error with its detail");
  assert.is(cut.internal, true);
});

test("jsonrpc spec - positional params", async () => {
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'), { jsonrpc: "2.0", result: 19, id: 1 });
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}'), { jsonrpc: "2.0", result: -19, id: 2 });
});

test("jsonrpc spec - named params", async () => {
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}'), {
    jsonrpc: "2.0",
    result: 19,
    id: 3,
  });
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}'), {
    jsonrpc: "2.0",
    result: 19,
    id: 4,
  });
});

test("jsonrpc spec - notifications get nothing back, and their handler runs", async () => {
  updates.length = 0;
  assert.is(await handleRpcPayload('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}', specMethods), undefined);
  assert.is(await handleRpcPayload('{"jsonrpc": "2.0", "method": "foobar"}', specMethods), undefined);
  assert.equal(updates, [[1, 2, 3, 4, 5]]);
});

test("jsonrpc spec - non-existent method", async () => {
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}'), {
    jsonrpc: "2.0",
    error: { code: -32601, message: "Method not found" },
    id: "1",
  });
});

test("jsonrpc spec - invalid JSON is a parse error with id null", async () => {
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'), PARSE);
});

test("jsonrpc spec - invalid Request object", async () => {
  assert.equal(await rpc('{"jsonrpc": "2.0", "method": 1, "params": "bar"}'), INVALID);
});

test("jsonrpc spec - batch with invalid JSON", async () => {
  assert.equal(await rpc('[\n  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},\n  {"jsonrpc": "2.0", "method"\n]'), PARSE);
});

test("jsonrpc spec - empty array is one invalid request", async () => {
  assert.equal(await rpc("[]"), INVALID);
});

test("jsonrpc spec - invalid batch, not empty", async () => {
  assert.equal(await rpc("[1]"), [INVALID]);
});

test("jsonrpc spec - invalid batch", async () => {
  assert.equal(await rpc("[1,2,3]"), [INVALID, INVALID, INVALID]);
});

test("jsonrpc spec - mixed batch", async () => {
  hellos.length = 0;
  const got = await rpc(`[
    {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
    {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
    {"foo": "boo"},
    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
    {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
  ]`);
  const want = [
    { jsonrpc: "2.0", result: 7, id: "1" },
    { jsonrpc: "2.0", result: 19, id: "2" },
    INVALID,
    { jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id: "5" },
    { jsonrpc: "2.0", result: ["hello", 5], id: "9" },
  ];
  assert.equal(sortById(got), sortById(want));
  assert.equal(got, want, "answers follow the order of the batch");
  assert.equal(hellos, [[7]]);
});

test("jsonrpc spec - batch of only notifications sends nothing", async () => {
  updates.length = 0;
  hellos.length = 0;
  const out = await handleRpcPayload(
    '[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]}, {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]',
    specMethods,
  );
  assert.is(out, undefined);
  assert.equal(hellos, [[7]]);
});

// ---- protocol errors beyond the examples

test("jsonrpc dispatch - parse errors: empty, invalid UTF-8, deep nesting", async () => {
  assert.equal(await rpc(""), PARSE);
  assert.equal(await rpc(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), PARSE);
  assert.equal(await rpc("[".repeat(1_000_000)), PARSE);
});

test("jsonrpc dispatch - bytes and strings are both accepted", async () => {
  const bytes = new TextEncoder().encode('{"jsonrpc":"2.0","method":"get_data","id":"é"}');
  assert.equal(await rpc(bytes), { jsonrpc: "2.0", result: ["hello", 5], id: "é" });
});

test("jsonrpc dispatch - invalid request variants", async () => {
  const cases: [string, unknown][] = [
    ['"just a string"', null],
    ["42", null],
    ["null", null],
    ['{"method":"get_data","id":1}', 1], // jsonrpc missing
    ['{"jsonrpc":"1.0","method":"get_data","id":1}', 1],
    ['{"jsonrpc":2.0,"method":"get_data","id":1}', 1],
    ['{"jsonrpc":"2.0","id":1}', 1], // method missing
    ['{"jsonrpc":"2.0","method":null,"id":1}', 1],
    ['{"jsonrpc":"2.0","method":"get_data","params":"x","id":1}', 1],
    ['{"jsonrpc":"2.0","method":"get_data","params":7,"id":1}', 1],
    ['{"jsonrpc":"2.0","method":"get_data","params":null,"id":1}', 1],
    ['{"jsonrpc":"2.0","method":"get_data","id":{}}', null],
    ['{"jsonrpc":"2.0","method":"get_data","id":[1]}', null],
    ['{"jsonrpc":"2.0","method":"get_data","id":true}', null],
  ];
  for (const [payload, id] of cases) {
    assert.equal(await rpc(payload), { ...INVALID, id }, payload);
  }
});

test("jsonrpc dispatch - an invalid request without id still gets an answer", async () => {
  assert.equal(await rpc('{"jsonrpc":"2.0","method":5}'), INVALID);
  assert.equal(await rpc('[{"jsonrpc":"2.0","method":5}]'), [INVALID]);
});

test("jsonrpc dispatch - id null is a request and gets a response", async () => {
  assert.equal(await rpc('{"jsonrpc":"2.0","method":"get_data","id":null}'), { jsonrpc: "2.0", result: ["hello", 5], id: null });
  assert.equal(await rpc('{"jsonrpc":"2.0","method":"nope","id":null}'), { jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id: null });
});

test("jsonrpc dispatch - method names cannot reach Object.prototype", async () => {
  for (const m of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    assert.equal(await rpc(JSON.stringify({ jsonrpc: "2.0", method: m, id: 1 })), {
      jsonrpc: "2.0",
      error: { code: -32601, message: "Method not found" },
      id: 1,
    });
  }
});

test("jsonrpc dispatch - a method returning nothing answers result null", async () => {
  assert.equal(await rpc('{"jsonrpc":"2.0","method":"update","id":7}'), { jsonrpc: "2.0", result: null, id: 7 });
});

test("jsonrpc bounds - a batch over the member cap is refused whole with one -32600 naming the limit; none of its calls runs; the cap itself passes", async () => {
  updates.length = 0;
  const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: "2.0", method: "update", params: [i], id: i })));
  const refused = (await rpc(batch(MAX_BATCH_MEMBERS + 1))) as { error: { code: number; message: string; data: unknown }; id: unknown };
  assert.is(refused.error.code, -32600);
  assert.is(refused.id, null);
  assert.match(refused.error.message, `at most ${MAX_BATCH_MEMBERS} calls`);
  assert.equal(refused.error.data, { limit: MAX_BATCH_MEMBERS, members: MAX_BATCH_MEMBERS + 1 });
  assert.is(updates.length, 0, "no member of the refused batch ran");
  const ok = (await rpc(batch(MAX_BATCH_MEMBERS))) as unknown[];
  assert.is(ok.length, MAX_BATCH_MEMBERS);
  assert.is(updates.length, MAX_BATCH_MEMBERS);
  // A smaller cap from the server's options.
  const small = JSON.parse((await handleRpcPayload(batch(3), specMethods, undefined, { maxBatchMembers: 2 }))!) as { error: { code: number } };
  assert.is(small.error.code, -32600);
});

test("jsonrpc dispatch - batch members run concurrently and answer in batch order", async () => {
  const started: string[] = [];
  const methods = methodTable([
    raw("slow", async () => {
      started.push("slow");
      await new Promise((r) => setTimeout(r, 50));
      return "slow";
    }),
    raw("fast", () => {
      started.push("fast");
      return "fast";
    }),
  ]);
  const t0 = Date.now();
  const got = await rpc(
    JSON.stringify([
      { jsonrpc: "2.0", method: "slow", id: 1 },
      { jsonrpc: "2.0", method: "slow", id: 2 },
      { jsonrpc: "2.0", method: "fast", id: 3 },
    ]),
    methods,
  );
  assert.ok(Date.now() - t0 < 95, "two 50 ms members overlap");
  assert.equal(got, [
    { jsonrpc: "2.0", result: "slow", id: 1 },
    { jsonrpc: "2.0", result: "slow", id: 2 },
    { jsonrpc: "2.0", result: "fast", id: 3 },
  ]);
  assert.equal(started, ["slow", "slow", "fast"]);
});

test("jsonrpc dispatch - batch mixing requests, notifications and invalid members", async () => {
  updates.length = 0;
  const got = await rpc(
    JSON.stringify([
      { jsonrpc: "2.0", method: "subtract", params: [5, 3], id: "a" },
      { jsonrpc: "2.0", method: "update", params: ["n1"] },
      { jsonrpc: "2.0", method: "missing" }, // a notification to an unknown method: no answer
      "junk",
      { jsonrpc: "2.0", method: "sum", params: [1, 1], id: 0 },
      { jsonrpc: "2.0", method: "get_data", params: "bad", id: "b" },
      [],
    ]),
  );
  assert.equal(got, [{ jsonrpc: "2.0", result: 2, id: "a" }, INVALID, { jsonrpc: "2.0", result: 2, id: 0 }, { ...INVALID, id: "b" }, INVALID]);
  assert.equal(updates, [["n1"]]);
});

// ---- errors thrown by methods

// A caller-facing coded error of some module (MailError, NodeError... look like this).
class Coded extends CallerFacingError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details !== undefined ? { details } : {});
  }
}

const throwing = methodTable([
  raw("boom", () => {
    throw new Error("secret path /var/lib/x exploded\n    at somewhere (file.js:1:1)");
  }),
  raw("typeErr", () => {
    // a bug: reading a property of undefined
    return (undefined as unknown as { x: { y: number } }).x.y;
  }),
  raw("nodeCoded", () => {
    throw Object.assign(new TypeError("bad arg"), { code: "ERR_INVALID_ARG_TYPE" });
  }),
  raw("throwString", () => {
    throw "plain string";
  }),
  raw("rejects", async () => {
    await Promise.resolve();
    throw new Error("async failure");
  }),
  raw("unknownAccount", () => {
    throw new AppError("ACCOUNT_UNKNOWN", "account bob@example.com is unknown; check the name with getAccountStatus", { account: "bob@example.com" });
  }),
  raw("notPrimary", () => {
    throw new Coded("NOT_PRIMARY", "mailstore ms2 is not the primary of bob", { primary: "ms1" });
  }),
  raw("mailboxFull", () => {
    throw new Coded("MAILBOX_FULL", "actor acct/bob is overloaded");
  }),
  raw("weird", () => {
    throw new Coded("SOMETHING_ODD", "an odd thing happened", { extra: 1 });
  }),
  raw("lookAlike", () => {
    // not caller-facing, though its code is a documented one
    throw Object.assign(new Error("mailstore ms2 is not the primary of bob (from /var/lib/x)"), { code: "NOT_PRIMARY", data: { primary: "ms1" } });
  }),
  raw("plainObject", () => {
    throw { code: "ACCOUNT_UNKNOWN", message: "account bob is unknown" };
  }),
  raw("enoent", async () => {
    const { readFile } = await import("node:fs/promises");
    await readFile("/nonexistent/secret/path/mailreplica-fuzz");
  }),
  raw("dataCodeClash", () => {
    throw new Coded("FENCED", "fenced", { code: "SPOOFED", seq: 9 });
  }),
  raw("rpcError", () => {
    throw new RpcError(-32050, "custom failure", { why: "because" });
  }),
  raw("rpcInvalidParams", () => {
    throw new RpcError(-32602, "Invalid params: x must be positive", { param: "x" });
  }),
  raw("bigint", () => 10n),
  raw("cycle", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  }),
]);

async function errorOf(method: string, methods = throwing): Promise<{ code: number; message: string; data?: unknown }> {
  const seen: string[] = [];
  const out = await handleRpcPayload(JSON.stringify({ jsonrpc: "2.0", method, id: 1 }), methods, undefined, { onInternalError: (_e, m) => seen.push(m) });
  const res = JSON.parse(out!) as { error: { code: number; message: string; data?: unknown }; id: unknown };
  assert.is(res.id, 1);
  return res.error;
}

test("jsonrpc errors - an unexpected throw is -32603 with a short description and no stack", async () => {
  const e = await errorOf("boom");
  assert.is(e.code, -32603);
  assert.is(e.message, "Internal error");
  assert.type(e.data, "string");
  assert.is(e.data, "Error: secret path /var/lib/x exploded");
  assert.not.match(JSON.stringify(e), /at somewhere|file\.js/);
  const t = await errorOf("typeErr");
  assert.is(t.code, -32603);
  assert.match(t.data as string, /^TypeError: /);
  assert.not.match(JSON.stringify(t), /\n|\.js:\d+/);
  assert.equal(await errorOf("throwString"), { code: -32603, message: "Internal error", data: "thrown value: plain string" });
  assert.equal(await errorOf("rejects"), { code: -32603, message: "Internal error", data: "Error: async failure" });
});

test("jsonrpc errors - a built-in bug class stays internal even with a string code", async () => {
  const e = await errorOf("nodeCoded");
  assert.is(e.code, -32603);
});

test("jsonrpc errors - internal errors reach the onInternalError hook with the method", async () => {
  const seen: [string, string][] = [];
  await handleRpcPayload(
    '[{"jsonrpc":"2.0","method":"boom","id":1},{"jsonrpc":"2.0","method":"unknownAccount","id":2},{"jsonrpc":"2.0","method":"boom"}]',
    throwing,
    undefined,
    {
      onInternalError: (err, m) => seen.push([m, (err as Error).message.split("\n")[0]!]),
    },
  );
  assert.equal(seen, [
    ["boom", "secret path /var/lib/x exploded"],
    ["boom", "secret path /var/lib/x exploded"],
  ]);
});

test("jsonrpc errors - a known string code becomes its number with data.code", async () => {
  assert.equal(await errorOf("unknownAccount"), {
    code: -32001,
    message: "account bob@example.com is unknown; check the name with getAccountStatus",
    data: { account: "bob@example.com", code: "ACCOUNT_UNKNOWN" },
  });
  assert.equal(await errorOf("notPrimary"), {
    code: -32002,
    message: "mailstore ms2 is not the primary of bob",
    data: { primary: "ms1", code: "NOT_PRIMARY" },
  });
});

test("jsonrpc errors - an alias maps to its code and is kept in data.alias", async () => {
  assert.equal(await errorOf("mailboxFull"), { code: -32019, message: "actor acct/bob is overloaded", data: { code: "OVERLOADED", alias: "MAILBOX_FULL" } });
});

test("jsonrpc errors - the stable code wins over a code inside error.data", async () => {
  assert.equal(await errorOf("dataCodeClash"), { code: -32003, message: "fenced", data: { code: "FENCED", seq: 9 } });
});

test("jsonrpc errors - a string code README does not list is an internal error, not an application error", async () => {
  // Clients branch on data.code: only documented codes may reach them.
  assert.equal(await errorOf("weird"), { code: -32603, message: "Internal error", data: "Coded: an odd thing happened" });
});

test("jsonrpc errors - a value that merely has a documented string code is an internal error naming only the code", async () => {
  // Only a CallerFacingError (or AppError) is an application error: the shape of a value is not enough.
  assert.equal(await errorOf("lookAlike"), { code: -32603, message: "Internal error", data: "Error NOT_PRIMARY; see the server's log" });
  assert.equal(await errorOf("plainObject"), {
    code: -32603,
    message: "Internal error",
    data: "a thrown value with code ACCOUNT_UNKNOWN; see the server's log",
  });
});

test("jsonrpc errors - Node's ENOENT is an internal error whose data names no path", async () => {
  const e = await errorOf("enoent");
  assert.is(e.code, -32603);
  assert.is(e.data, "system error ENOENT; see the server's log");
  assert.not.match(JSON.stringify(e), /nonexistent|secret/);
});

test("jsonrpc errors - a thrown RpcError passes through unchanged", async () => {
  assert.equal(await errorOf("rpcError"), { code: -32050, message: "custom failure", data: { why: "because" } });
  assert.equal(await errorOf("rpcInvalidParams"), { code: -32602, message: "Invalid params: x must be positive", data: { param: "x" } });
});

test("jsonrpc errors - a result that cannot be serialized is an internal error for that id only", async () => {
  const e = await errorOf("bigint");
  assert.is(e.code, -32603);
  assert.is((await errorOf("cycle")).code, -32603);
  const out = JSON.parse(
    (await handleRpcPayload('[{"jsonrpc":"2.0","method":"bigint","id":1},{"jsonrpc":"2.0","method":"rpcError","id":2}]', throwing, undefined, {
      onInternalError: () => {},
    }))!,
  );
  assert.is(out.length, 2);
  assert.is(out[0].error.code, -32603);
  assert.is(out[1].error.code, -32050);
});

test("jsonrpc errors - a response over maxResponseBytes is replaced by an error for its id", async () => {
  const big = methodTable([raw("big", () => "x".repeat(5000)), raw("small", () => "ok")]);
  const out = JSON.parse(
    (await handleRpcPayload('[{"jsonrpc":"2.0","method":"big","id":1},{"jsonrpc":"2.0","method":"small","id":2}]', big, undefined, {
      maxResponseBytes: 1000,
    }))!,
  );
  assert.is(out[0].error.code, -32603);
  assert.match(out[0].error.data, /big is \d+ bytes, over the 1000-byte limit/);
  assert.equal(out[1], { jsonrpc: "2.0", result: "ok", id: 2 });
});

test("jsonrpc errors - errors of notifications are not answered", async () => {
  assert.is(await handleRpcPayload('{"jsonrpc":"2.0","method":"boom"}', throwing, undefined, { onInternalError: () => {} }), undefined);
  assert.is(await handleRpcPayload('{"jsonrpc":"2.0","method":"unknownAccount"}', throwing), undefined);
});

test("jsonrpc errors - the context reaches the method", async () => {
  const methods = methodTable<{ who: string }>([{ name: "whoami", call: (_p, ctx) => ctx.who }]);
  assert.equal(JSON.parse((await handleRpcPayload('{"jsonrpc":"2.0","method":"whoami","id":1}', methods, { who: "tester" }))!), {
    jsonrpc: "2.0",
    result: "tester",
    id: 1,
  });
});

// ---- the code table

test("jsonrpc codes - the table starts with the agreed codes, all in -32000..-32099, unique", () => {
  const want: Record<string, number> = {
    APP_ERROR: -32000,
    ACCOUNT_UNKNOWN: -32001,
    NOT_PRIMARY: -32002,
    FENCED: -32003,
    REPLICA_UNAVAILABLE: -32004,
    LICENCE_EXCEEDED: -32005,
    UNSUPPORTED_ACCOUNT_PATTERN: -32006,
    DISTRIBUTION_LIST_UNSUPPORTED: -32007,
    MAILSTORE_UNKNOWN: -32008,
    DESTINATION_IS_PRIMARY: -32009,
    ACCOUNT_EXISTS: -32010,
    FOLDER_NOT_FOUND: -32011,
    FOLDER_EXISTS: -32012,
    FOLDER_SYSTEM: -32013,
    FOLDER_INVALID_MOVE: -32014,
    ITEM_NOT_FOUND: -32015,
    INVALID_FLAG: -32016,
    INVALID_FOLDER_PATH: -32017,
    OPERATION_UNKNOWN: -32018,
    OVERLOADED: -32019,
    MAILBOX_FULL: -32019,
    TIMEOUT: -32020,
    ASK_TIMEOUT: -32020,
    UNAVAILABLE: -32021,
    NO_RESPONDER: -32021,
    LOG_APPEND_FAILED: -32021,
    NOT_SUPERVISOR: -32022,
    BLOB_MISSING: -32023,
  };
  for (const [code, n] of Object.entries(want)) assert.is(resolveAppCode(code)?.rpcCode, n, code);
  const rows = appErrorRows();
  const numbers = rows.map((r) => r.rpcCode);
  assert.is(new Set(numbers).size, numbers.length);
  for (const r of rows) {
    assert.ok(r.rpcCode <= -32000 && r.rpcCode >= -32099, r.code);
    assert.ok(r.hint.length > 10 && !r.hint.includes("\n"), `${r.code} has a one-line hint`);
  }
  assert.equal(rows.find((r) => r.code === "UNAVAILABLE")?.aliases, ["NO_RESPONDER", "LOG_APPEND_FAILED", "SIGNER_NOT_TRUSTED"]);
  // Later codes are appended after the agreed ones; none replaces them.
  assert.ok(Object.keys(AppErrorCodes).length >= Object.keys(want).length);
});

test.run();
