// Declarative by-name params: each method states its params once, and the validator turns
// any mistake into a -32602 that names the param, says what was wrong and what is allowed.
// The handler only ever sees typed, defaulted params; nothing runs when validation fails.
// The rules themselves (str, int, ...) are in param_specs.ts, which imports nothing, so the
// CLI and the OpenRPC document read the same definitions without loading the server.
import { ProtocolErrors } from "./codes.js";
import { RpcError } from "./errors.js";
import { checkFields, describeValue, type ParamSpecs, type ParamsOf } from "./param_specs.js";
import type { JsonRpcParams, RpcMethod } from "./types.js";

export * from "./param_specs.js";

// ---- validation

function invalid(message: string, data: Record<string, unknown>): RpcError {
  return new RpcError(ProtocolErrors.INVALID_PARAMS.code, message, data);
}

/**
 * Checks raw JSON-RPC params against `specs` and returns the typed, defaulted params, or
 * throws a -32602 RpcError. Params absent means an empty object; `[]` (some clients send it
 * for "no params") is read the same way; any other array is refused, because these methods
 * take names, not positions. A null value counts as not given.
 */
export function validateParams<S extends ParamSpecs>(method: string, specs: S, raw: JsonRpcParams | undefined): ParamsOf<S> {
  const names = Object.keys(specs);
  const allowed = names.length === 0 ? `${method} takes no params` : `allowed names: ${names.join(", ")}`;
  if (Array.isArray(raw) && raw.length > 0) {
    throw invalid(`${method}: params must be an object with names, not an array of positions; ${allowed}`, { param: null, allowed: names });
  }
  const given: Record<string, unknown> = raw === undefined || Array.isArray(raw) ? {} : raw;
  const r = checkFields(specs, given);
  if (r.ok) return r.value;
  switch (r.fault) {
    case "unknown":
      throw invalid(`${method}: unknown param "${r.field}"; ${allowed}`, { param: r.field, allowed: names });
    case "missing":
      throw invalid(`${method}: param "${r.field}" is missing; it is required and must be ${r.spec.expects}`, { param: r.field });
    case "invalid":
      throw invalid(`${method}: param "${r.field}" must be ${r.spec.expects}, got ${describeValue(r.got)}${r.why ? `: ${r.why}` : ""}`, { param: r.field });
  }
}

/** A method with declared params; `params` stays readable for help texts and the CLI. */
export interface DefinedMethod<S extends ParamSpecs, C = unknown> extends RpcMethod<C> {
  readonly params: S;
}

/**
 * Defines a method whose params are validated against `params` before `handler` runs.
 * Example: defineMethod({ name: "listItems", params: { account: str({ required: true }),
 * limit: int({ min: 1, max: 1000, default: 50 }) }, handler: async ({ account, limit }) => ... })
 */
export function defineMethod<S extends ParamSpecs, C = unknown>(def: {
  name: string;
  params: S;
  handler: (params: ParamsOf<S>, ctx: C) => unknown;
}): DefinedMethod<S, C> {
  const { name, params, handler } = def;
  return {
    name,
    params,
    call(raw: JsonRpcParams | undefined, ctx: C): unknown {
      return handler(validateParams(name, params, raw), ctx);
    },
  };
}
