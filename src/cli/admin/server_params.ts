// The CLI's params taken from the server's own specs (src/protocol): type, required, bounds
// and allowed values have one definition, the one the server validates with. What stays here
// is only the CLI's: positional order (spec order), Carbonio's TYPE word, help text, and the
// few params the CLI reads itself (input_file, file, out) and sends as something else.
import type { JsonSchema, ParamSpec as ServerParamSpec, ParamSpecs } from "../../jsonrpc/param_specs.js";
import type { MethodContract } from "../../protocol/method_contract.js";
import type { ParamSpec, ParamType } from "../types.js";
import type { CallParamSpec, CallParamType } from "./call_params.js";

/** What only the CLI says about a param. */
export interface CliParamText {
  /** Carbonio's TYPE column (`Server Hostname/ID`); default from the type */
  readonly expected?: string;
  readonly description?: string;
  /** `uuid`: the CLI checks (and lower-cases) a UUID; only for a server string with a pattern */
  readonly type?: "uuid";
  /**
   * Required by the server but not mandatory (positional) here, because the CLI has another
   * way to give it: `input_file` for `accounts`. Named, so the exception is visible.
   */
  readonly givenBy?: string;
}

/** The CLI's view of a server param: list, integer, ... from its JSON Schema. */
export interface DerivedParam {
  readonly type: "string" | "integer" | "boolean" | "list" | "intList";
  readonly required: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
}

function isList(s: JsonSchema): JsonSchema | undefined {
  if (s.type === "array") return s;
  return s.oneOf?.find((x) => x.type === "array");
}

/** The CLI-relevant rules of a server param. Throws on a schema the CLI cannot type (a new kind of param). */
export function deriveParam(name: string, spec: ServerParamSpec<unknown>): DerivedParam {
  const s = spec.schema;
  const list = isList(s);
  const base = { required: spec.required };
  if (list) {
    const items = list.items ?? {};
    if (items.type === "integer")
      return {
        ...base,
        type: "intList",
        ...(items.minimum !== undefined ? { min: items.minimum } : {}),
        ...(items.maximum !== undefined ? { max: items.maximum } : {}),
      };
    return { ...base, type: "list", ...(items.enum ? { values: items.enum } : {}) };
  }
  switch (s.type) {
    case "integer":
      return { ...base, type: "integer", ...(s.minimum !== undefined ? { min: s.minimum } : {}), ...(s.maximum !== undefined ? { max: s.maximum } : {}) };
    case "boolean":
      return { ...base, type: "boolean" };
    case "string":
      return { ...base, type: "string", ...(s.enum ? { values: s.enum } : {}) };
    default:
      throw new Error(`cli: param ${name} has a schema the CLI cannot type: ${JSON.stringify(s)}`);
  }
}

function serverParam(method: string, params: ParamSpecs, name: string): ServerParamSpec<unknown> {
  const spec = params[name];
  if (!spec)
    throw new Error(
      `cli: ${method} has no server param '${name}' (its params: ${Object.keys(params).join(", ") || "none"}); name one of them, or mark a CLI-only param`,
    );
  return spec;
}

/** An admin command's param: the rules from `contract`'s param `name`, the words from `text`. */
export function adminParam(method: string, contract: MethodContract, name: string, text: CliParamText = {}): ParamSpec {
  const spec = serverParam(method, contract.params, name);
  const d = deriveParam(name, spec);
  if (d.type === "intList") throw new Error(`cli: ${method}.${name} is a list of integers, which Carbonio's syntax has no type for`);
  if (text.type === "uuid" && (d.type !== "string" || spec.schema.pattern === undefined))
    throw new Error(`cli: ${method}.${name} is not a patterned string on the server, so it cannot be a uuid here`);
  const type: ParamType = text.type ?? d.type;
  return {
    name,
    type,
    ...(d.required && text.givenBy === undefined ? { mandatory: true } : {}),
    ...(d.values ? { values: d.values } : {}),
    ...(d.min !== undefined ? { min: d.min } : {}),
    ...(d.max !== undefined ? { max: d.max } : {}),
    ...(text.expected !== undefined ? { expected: text.expected } : {}),
    ...(text.description !== undefined ? { description: text.description } : {}),
  };
}

/** A mailbox method's param for `call` and the REPL: typed from the server's spec, which also checks each value. */
export function callParam(method: string, contract: MethodContract, name: string, description?: string): CallParamSpec {
  const spec = serverParam(method, contract.params, name);
  const d = deriveParam(name, spec);
  const type: CallParamType = d.type;
  return { name, type, ...(d.required ? { mandatory: true } : {}), ...(description !== undefined ? { description } : {}), server: spec };
}
