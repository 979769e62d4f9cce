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
