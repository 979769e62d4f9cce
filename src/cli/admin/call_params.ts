// Params of a generic call (`mailreplica call`, and mailbox methods in the REPL): one JSON
// object, or `name value` pairs typed by the method's spec when it is known.
import { didYouMean } from "../closest.js";
import { CliUsageError } from "../errors.js";
import type { ParamSpec as ServerParamSpec } from "../../jsonrpc/param_specs.js";
import type { ParamsSpec } from "../types.js";
import type { RpcParams } from "./types.js";

/** `intList` is a comma list of integers (item ids); a `list` given as '' is the empty list. */
export type CallParamType = "string" | "integer" | "list" | "intList" | "boolean";

export interface CallParamSpec {
  readonly name: string;
  readonly type: CallParamType;
  readonly mandatory?: boolean;
  readonly description?: string;
  /** the server's spec of this param (server_params.ts): a typed value it refuses is refused here, in its words */
  readonly server?: ServerParamSpec<unknown>;
  /** the CLI reads this param itself and sends something else (deliverMessage file, getItem out) */
  readonly cliOnly?: true;
}

/** A method whose params are known, so `name value` words can be checked and typed. */
export interface MethodSpec {
  readonly name: string;
  readonly summary: string;
  readonly params: readonly CallParamSpec[];
}

/** An admin command's params as the JSON-RPC method takes them (input_file is the CLI's, not the method's). */
export function methodSpecOfAdmin(name: string, summary: string, params: ParamsSpec): MethodSpec {
  return {
    name,
    summary,
    params: params
      .filter((p) => p.name !== "input_file")
      .map((p) => ({
        name: p.name,
        type: p.type === "uuid" ? "string" : p.type,
        ...(p.mandatory ? { mandatory: true } : {}),
        ...(p.description ? { description: p.description } : {}),
      })),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliUsageError(`${what} is not valid JSON (${(e as Error).message}); quote it whole, e.g. '{"account":"a@x.com"}'`);
  }
}

function typed(spec: CallParamSpec, raw: string): unknown {
  const refuse = (what: string): never => {
    throw new CliUsageError(`param '${spec.name}' must be ${what}, got ${JSON.stringify(raw)}`);
  };
  // A JSON array is accepted for lists too (`ids [1,2]`).
  if ((spec.type === "list" || spec.type === "intList") && raw.trim().startsWith("[")) return parseJson(raw, `param '${spec.name}'`);
  switch (spec.type) {
    case "string":
      return raw;
    case "integer":
      return /^[+-]?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : refuse("an integer");
    case "boolean":
      return raw === "true" ? true : raw === "false" ? false : refuse("true or false");
    case "list":
      return raw === "" ? [] : raw.split(",").map((s) => s.trim());
    case "intList": {
      const items = raw.split(",").map((s) => s.trim());
      return items.every((s) => /^[+-]?\d+$/.test(s)) ? items.map(Number) : refuse("integers, comma separated (1,2,3)");
    }
  }
}

/** An unknown method's value: a JSON number, boolean, null, array or object as such, anything else as a string. */
function inferred(raw: string): unknown {
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(raw) || /^\s*[[{]/.test(raw)) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * The params of `words`: empty; a single JSON object (or array) word; or `name value`
 * pairs. With a spec, names are checked (unknown, duplicate, missing mandatory) and values
 * typed; without one, values are read as JSON literals when they are, else as strings.
 */
export function parseCallParams(words: readonly string[], spec: MethodSpec | undefined): RpcParams | unknown[] {
  if (words.length === 1 && /^\s*[[{]/.test(words[0]!)) {
    const v = parseJson(words[0]!, "the params");
    if (typeof v !== "object" || v === null) throw new CliUsageError("the params must be a JSON object (or array)");
    return v as RpcParams | unknown[];
  }
  const out: RpcParams = {};
  const names = spec?.params.map((p) => p.name) ?? [];
  for (let i = 0; i < words.length; i += 2) {
    const name = words[i]!;
    const raw = words[i + 1];
    const p = spec?.params.find((s) => s.name === name);
    if (spec && !p) {
      throw new CliUsageError(`unknown param '${name}'${didYouMean(name, names)} for ${spec.name}; allowed: ${names.join(", ") || "none"}`);
    }
    if (raw === undefined) throw new CliUsageError(`param '${name}' needs a value; give params as name value pairs, or as one JSON object`);
    if (name in out) throw new CliUsageError(`param '${name}' is given twice; give it once`);
    const value = p ? typed(p, raw) : inferred(raw);
    // Bounds, lengths, patterns: the server's own rules, so the operator hears before the call.
    if (p?.server && !p.server.check(value).ok) throw new CliUsageError(`param '${name}' must be ${p.server.expects}, got ${JSON.stringify(raw)}`);
    out[name] = value;
  }
  const missing = spec?.params.filter((p) => p.mandatory && !(p.name in out)).map((p) => p.name) ?? [];
  if (missing.length) throw new CliUsageError(`${spec!.name} needs ${missing.map((m) => `'${m}'`).join(", ")}; usage: ${callUsage(spec!)}`);
  return out;
}

/** `deliverMessage account VALUE raw VALUE [folder VALUE] [flags VALUE[,VALUE]]` */
export function callUsage(spec: MethodSpec): string {
  const part = (p: CallParamSpec): string => {
    const v = p.type === "list" || p.type === "intList" ? "VALUE[,VALUE]" : "VALUE";
    return p.mandatory ? `${p.name} ${v}` : `[${p.name} ${v}]`;
  };
  return [spec.name, ...spec.params.map(part)].join(" ");
}

/** Help lines for a known method: usage and one line per param. */
export function callDetails(spec: MethodSpec): string[] {
  const w = Math.max(0, ...spec.params.map((p) => `${p.name} (M)`.length));
  return [
    `Usage: ${callUsage(spec)}   or   ${spec.name} {JSON params}`,
    "",
    spec.summary,
    ...(spec.params.length
      ? [
          "",
          "Params:",
          ...spec.params.map((p) => `  ${`${p.name} (${p.mandatory ? "M" : "O"})`.padEnd(w)}  ${p.type.padEnd(7)}  ${p.description ?? ""}`.trimEnd()),
        ]
      : []),
  ];
}
