// The declarative params validator: each mistake is a -32602 naming the param, what was
// wrong and what is allowed; the handler gets typed, defaulted params and is never called
// when validation fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bool, defineMethod, handleRpcPayload, int, intList, methodTable, oneOf, str, strList, strOrList } from "../src/jsonrpc/index.js";

const calls: unknown[] = [];

const listItems = defineMethod({
  name: "listItems",
  params: {
    account: str({ required: true }),
    folder: str({ default: "Inbox" }),
    limit: int({ min: 1, max: 1000, default: 50 }),
    offset: int({ min: 0 }),
    flags: strList({ maxItems: 4 }),
    ids: intList({ min: 1 }),
    accounts: strOrList(),
    status: oneOf(["active", "paused"]),
    sync: bool({ default: false }),
  },
  handler: (p) => {
    calls.push(p);
    // Compile-time checks: required and defaulted params are always set, the rest optional.
    const account: string = p.account;
    const folder: string = p.folder;
    const limit: number = p.limit;
    const sync: boolean = p.sync;
    const offset: number | undefined = p.offset;
    const status: "active" | "paused" | undefined = p.status;
    // @ts-expect-error offset is optional, so it may be undefined
    const mustBeSet: number = p.offset;
    void [account, folder, limit, sync, offset, status, mustBeSet];
    return { ok: true };
  },
});

const noParams = defineMethod({ name: "getLicenseInfo", params: {}, handler: () => ({ quantity: 10 }) });

const methods = methodTable([listItems, noParams]);

type Err = { code: number; message: string; data?: { param?: unknown; allowed?: unknown } };

async function call(method: string, params?: unknown): Promise<{ result?: unknown; error?: Err }> {
  const req = { jsonrpc: "2.0", method, id: 1, ...(params !== undefined ? { params } : {}) };
  return JSON.parse((await handleRpcPayload(JSON.stringify(req), methods))!);
}

async function refused(params: unknown, method = "listItems"): Promise<Err> {
  calls.length = 0;
  const res = await call(method, params);
  assert.ok(res.error, `expected an error for ${JSON.stringify(params)}`);
  assert.is(res.error!.code, -32602);
  assert.is(calls.length, 0, "the handler is not called when validation fails");
  return res.error!;
}

test("jsonrpc params - the handler gets typed params with defaults applied", async () => {
  calls.length = 0;
  const res = await call("listItems", { account: "bob", ids: [1, 2], accounts: "a@x, b@x,,", flags: ["seen"], status: "paused", offset: null });
  assert.equal(res.result, { ok: true });
  assert.equal(calls, [{ account: "bob", folder: "Inbox", limit: 50, ids: [1, 2], accounts: ["a@x", "b@x"], flags: ["seen"], status: "paused", sync: false }]);
});

test("jsonrpc params - a list param also takes an array", async () => {
  calls.length = 0;
  await call("listItems", { account: "bob", accounts: ["a@x", " b@x "] });
  assert.equal((calls[0] as { accounts: string[] }).accounts, ["a@x", "b@x"]);
});

test("jsonrpc params - a method without params accepts none, {} or []", async () => {
  for (const p of [undefined, {}, []]) assert.equal((await call("getLicenseInfo", p)).result, { quantity: 10 });
});

test("jsonrpc params - positional params are refused, listing the names", async () => {
  const e = await refused(["bob", 10]);
  assert.match(
    e.message,
    /^listItems: params must be an object with names, not an array of positions; allowed names: account, folder, limit, offset, flags, ids, accounts, status, sync$/,
  );
  assert.equal(e.data, { param: null, allowed: ["account", "folder", "limit", "offset", "flags", "ids", "accounts", "status", "sync"] });
});

test("jsonrpc params - an unknown name is refused, naming it and the allowed ones", async () => {
  const e = await refused({ account: "bob", limt: 5 });
  assert.is(e.message, 'listItems: unknown param "limt"; allowed names: account, folder, limit, offset, flags, ids, accounts, status, sync');
  assert.is(e.data?.param, "limt");
  const none = await refused({ verbose: true }, "getLicenseInfo");
  assert.is(none.message, 'getLicenseInfo: unknown param "verbose"; getLicenseInfo takes no params');
  const proto = await refused(JSON.parse('{"account":"bob","__proto__":{"x":1}}'));
  assert.is(proto.data?.param, "__proto__");
});

test("jsonrpc params - a missing required param is refused", async () => {
  const e = await refused({ limit: 5 });
  assert.is(e.message, 'listItems: param "account" is missing; it is required and must be a non-empty string');
  assert.equal(e.data, { param: "account" });
  assert.is((await refused({ account: null })).data?.param, "account", "null counts as missing");
  assert.is((await refused(undefined)).data?.param, "account", "absent params count as {}");
});

test("jsonrpc params - wrong types are refused, saying what was given", async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ account: 5 }, "account", /param "account" must be a non-empty string, got the number 5$/],
    [{ account: "" }, "account", /param "account" must be a non-empty string, got the string ""$/],
    [{ account: "bob", limit: "10" }, "limit", /param "limit" must be an integer from 1 to 1000, got the string "10"$/],
    [{ account: "bob", limit: 2.5 }, "limit", /param "limit" must be an integer from 1 to 1000, got the number 2.5$/],
    [{ account: "bob", sync: "yes" }, "sync", /param "sync" must be true or false, got the string "yes"$/],
    [{ account: "bob", flags: "seen" }, "flags", /param "flags" must be an array of at most 4 items of non-empty strings, got the string "seen"$/],
    [{ account: "bob", flags: ["seen", 3] }, "flags", /got an array of 2 items$/],
    [{ account: "bob", ids: [1, "2"] }, "ids", /param "ids" must be an array of integers of at least 1, got an array of 2 items$/],
    [
      { account: "bob", accounts: { a: 1 } },
      "accounts",
      /param "accounts" must be an array of non-empty strings, or one comma-separated string of them, got an object$/,
    ],
    [{ account: "bob", status: "gone" }, "status", /param "status" must be one of "active", "paused", got the string "gone"$/],
    [{ account: ["bob"] }, "account", /got an array of 1 item$/],
  ];
  for (const [params, param, re] of cases) {
    const e = await refused(params);
    assert.match(e.message, re, JSON.stringify(params));
    assert.match(e.message, /^listItems: /);
    assert.equal(e.data, { param });
  }
});

test("jsonrpc params - out-of-range values are refused, saying the range", async () => {
  assert.match((await refused({ account: "bob", limit: 0 })).message, /"limit" must be an integer from 1 to 1000, got the number 0/);
  assert.match((await refused({ account: "bob", limit: 5000 })).message, /"limit" must be an integer from 1 to 1000, got the number 5000/);
  assert.match((await refused({ account: "bob", offset: -1 })).message, /"offset" must be an integer of at least 0, got the number -1/);
  assert.match((await refused({ account: "bob", ids: [1, 0] })).message, /"ids" must be an array of integers of at least 1/);
  assert.match((await refused({ account: "bob", flags: ["a", "b", "c", "d", "e"] })).message, /"flags" must be an array of at most 4 items/);
  assert.match((await refused({ account: "bob", accounts: " , " })).message, /"accounts" must be/, "no param is better than an empty list by accident");
});

test("jsonrpc params - a long string value is shortened in the message", async () => {
  const e = await refused({ account: "bob", limit: "y".repeat(500) });
  assert.ok(e.message.length < 200, e.message);
});

test("jsonrpc params - a handler mutating a defaulted list does not change the default", async () => {
  const m = defineMethod({
    name: "tags",
    params: { tags: strList({ default: ["a"] }) },
    handler: ({ tags }) => {
      tags.push("b");
      return tags;
    },
  });
  const t = methodTable([m]);
  for (let i = 0; i < 2; i++) {
    const out = JSON.parse((await handleRpcPayload('{"jsonrpc":"2.0","method":"tags","id":1}', t))!);
    assert.equal(out.result, ["a", "b"]);
  }
});

test("jsonrpc params - impossible definitions fail at start-up", () => {
  assert.throws(() => int({ required: true, default: 1 } as { required: true }), /both required and defaulted/);
  assert.throws(() => int({ min: 1, default: 0 }), /default 0 is not an integer of at least 1/);
  assert.throws(() => methodTable([noParams, noParams]), /defined twice/);
  assert.throws(() => methodTable([{ name: "rpc.discover", call: () => 1 }]), /reserved/);
});

test("jsonrpc params - strings can be bounded and patterned", async () => {
  const m = defineMethod({
    name: "rename",
    params: { path: str({ required: true, maxLength: 8, pattern: /^[A-Za-z/]+$/, patternHint: "letters and /" }), note: str({ minLength: 0 }) },
    handler: (p: { path: string; note?: string }) => p,
  });
  const t = methodTable([m]);
  const ask = async (params: unknown) => JSON.parse((await handleRpcPayload(JSON.stringify({ jsonrpc: "2.0", method: "rename", params, id: 1 }), t))!);
  assert.equal((await ask({ path: "A/b", note: "" })).result, { path: "A/b", note: "" });
  assert.match((await ask({ path: "A b" })).error.message, /"path" must be a string of 1 to 8 characters of letters and \/, got the string "A b"/);
  assert.match((await ask({ path: "abcdefghi" })).error.message, /1 to 8 characters/);
});

test.run();
