// A real JSON-RPC peer for CLI and REPL tests: methods that record what they were called with.
import type { JsonRpcParams, NatsRpcContext, RpcMethod } from "../../src/jsonrpc/index.js";

export interface ReceivedCall {
  method: string;
  params: unknown;
}

/** A method named `name` that appends each call to `received`, then answers with `call`. */
export function recordingMethod(received: ReceivedCall[], name: string, call: (p: Record<string, unknown>) => unknown): RpcMethod<NatsRpcContext> {
  return {
    name,
    call: (params: JsonRpcParams | undefined) => {
      const p = (params ?? {}) as Record<string, unknown>;
      received.push({ method: name, params: p });
      return call(p);
    },
  };
}
