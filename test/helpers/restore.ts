// Helpers of the point-in-time restore tests (restoreAccount into a new account, and over the
// live account).
import * as assert from "uvu/assert";
import { RpcError } from "../../src/jsonrpc/index.js";
import type { TestSystem } from "./system.js";

/** Waits until the clock has moved past `t`, so entries written next are stored after it. */
export async function pastMs(t: number): Promise<void> {
  while (Date.now() <= t + 1) await new Promise((r) => setTimeout(r, 2));
}

/** restoreAccount with `params`, which must be refused: the error it answered. */
export async function restoreRefusal(sys: TestSystem, params: Record<string, unknown>): Promise<RpcError> {
  const e = await sys.admin("restoreAccount", params).then(
    (r) => assert.unreachable(`restoreAccount answered ${JSON.stringify(r)}`),
    (err: unknown) => err,
  );
  assert.instance(e, RpcError);
  return e as RpcError;
}
