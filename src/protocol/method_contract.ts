// What a JSON-RPC method promises its callers: one line of what it does, its params' rules,
// the JSON Schema of what it answers, and the application errors it may answer. The server
// validates with these params (defineMethod), rpc.discover and docs/jsonrpc.md describe all
// of it, and the CLI takes its types and bounds from the params.
import type { ParamSpecs } from "../jsonrpc/param_specs.js";
import type { MethodErrorSpec, ResultSchema } from "../jsonrpc/openrpc.js";

export interface MethodContract<S extends ParamSpecs = ParamSpecs> {
  /** one line: what the method does */
  readonly summary: string;
  readonly params: S;
  /** what a successful call answers */
  readonly result: ResultSchema;
  /** the errors it may answer (INVALID_PARAMS always among them) */
  readonly errors: readonly MethodErrorSpec[];
}

/** Contracts by method name. */
export type MethodContracts = Readonly<Record<string, MethodContract>>;

export function contract<S extends ParamSpecs>(
  summary: string,
  params: S,
  answers: { result: ResultSchema; errors: readonly MethodErrorSpec[] },
): MethodContract<S> {
  return { summary, params, result: answers.result, errors: answers.errors };
}
