// What a JSON-RPC method promises its callers: one line of what it does, and its params'
// rules. The server validates with these params (defineMethod), rpc.discover and
// docs/jsonrpc.md describe them, and the CLI takes its types and bounds from them.
import type { ParamSpecs } from "../jsonrpc/param_specs.js";

export interface MethodContract<S extends ParamSpecs = ParamSpecs> {
  /** one line: what the method does */
  readonly summary: string;
  readonly params: S;
}

/** Contracts by method name. */
export type MethodContracts = Readonly<Record<string, MethodContract>>;

export function contract<S extends ParamSpecs>(summary: string, params: S): MethodContract<S> {
  return { summary, params };
}
