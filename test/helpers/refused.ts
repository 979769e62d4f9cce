// The one way tests assert that a JSON-RPC call was refused, by application code or by
// protocol error number.
import * as assert from "uvu/assert";
import { RpcError } from "../../src/jsonrpc/index.js";

/** Awaits `p` and returns the RpcError it failed with; fails the test, naming what it got, if it did not fail so. */
export async function rpcFailure(p: Promise<unknown>, expected = "a refusal"): Promise<RpcError> {
  let value: unknown;
  try {
    value = await p;
  } catch (e) {
    assert.instance(e, RpcError);
    return e as RpcError;
  }
  assert.unreachable(`expected ${expected}, got ${JSON.stringify(value)}`);
  throw new Error("unreachable");
}

/** Awaits `p` and asserts it failed with RpcError `code`; returns that error. */
export async function refused(p: Promise<unknown>, code: string): Promise<RpcError> {
  const e = await rpcFailure(p, code);
  assert.is(e.appCode, code, e.message);
  return e;
}

/** Awaits `p` and asserts it failed with JSON-RPC protocol error `rpcCode` (e.g. -32602); returns it. */
export async function refusedProtocol(p: Promise<unknown>, rpcCode: number): Promise<RpcError> {
  const e = await rpcFailure(p, `JSON-RPC error ${rpcCode}`);
  assert.is(e.code, rpcCode, e.message);
  return e;
}
