// The one way tests assert that a JSON-RPC call was refused with a given application code.
import * as assert from "uvu/assert";
import { RpcError } from "../../src/jsonrpc/index.js";

/** Awaits `p` and asserts it failed with RpcError `code`; returns that error. */
export async function refused(p: Promise<unknown>, code: string): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, RpcError);
    assert.is((e as RpcError).appCode, code, (e as RpcError).message);
    return e as RpcError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error("unreachable");
}

/** Awaits `p` and asserts it failed with JSON-RPC protocol error `rpcCode` (e.g. -32602); returns it. */
export async function refusedProtocol(p: Promise<unknown>, rpcCode: number): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, RpcError);
    assert.is((e as RpcError).code, rpcCode, (e as RpcError).message);
    return e as RpcError;
  }
  assert.unreachable(`expected JSON-RPC error ${rpcCode}`);
  throw new Error("unreachable");
}
