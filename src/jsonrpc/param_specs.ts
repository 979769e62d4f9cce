// The rules of by-name params (docs/jsonrpc.md): one definition per param gives the validator its
// check and its words (params.ts), and the OpenRPC document (openrpc.ts) and the CLI their
// JSON Schema. Imports nothing, so light modules (src/protocol, the CLI) can hold specs.
/** `why`: which part of a composite value is wrong (an item of a list of objects), for the message. */
type Check<T> = { ok: true; value: T } | { ok: false; why?: string };

/** The JSON Schema (draft 7 keywords) of a param's accepted values, as OpenRPC carries it. */
export interface JsonSchema {
  type?: "string" | "integer" | "boolean" | "array" | "object";
  enum?: readonly string[];
  minLength?: number;
  maxLength?: number;
  /** ECMA-262 regular expression source, without flags */
  pattern?: string;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  oneOf?: readonly JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  default?: unknown;
  description?: string;
}

/**
 * One param's rules. `P` records at the type level whether the handler always gets a value
 * (required, or has a default) so ParamsOf can make the field non-optional.
 */
export interface ParamSpec<T, P extends boolean = boolean> {
  /** what is accepted, in words, for messages: "an integer from 1 to 1000" */
  readonly expects: string;
  readonly required: boolean;
  readonly default: T | undefined;
  /** accepts and converts a present, non-null value */
  readonly check: (value: unknown) => Check<T>;
  /** the same rules as JSON Schema (the default included), for rpc.discover and the CLI */
  readonly schema: JsonSchema;
  /** what the param means, in one line (the OpenRPC document's summary of it) */
  readonly description?: string;
  /** type-level only: whether the handler always gets a value */
  readonly present?: P;
}

// `any` here only widens the table's element type; each spec keeps its own T and P.
export type ParamSpecs = Record<string, ParamSpec<any, boolean>>;

type ValueOf<S> = S extends ParamSpec<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The handler's params: required and defaulted fields always set, the others optional. */
export type ParamsOf<S extends ParamSpecs> = Simplify<
  { [K in keyof S as S[K] extends ParamSpec<unknown, true> ? K : never]: ValueOf<S[K]> } & {
    [K in keyof S as S[K] extends ParamSpec<unknown, true> ? never : K]?: ValueOf<S[K]>;
  }
>;

/** An object's fields read against their specs: the values (defaults filled in), or the first fault. */
export type FieldsCheck<S extends ParamSpecs> =
  | { ok: true; value: ParamsOf<S> }
  | { ok: false; fault: "unknown"; field: string }
  | { ok: false; fault: "missing"; field: string; spec: ParamSpec<unknown> }
  | { ok: false; fault: "invalid"; field: string; spec: ParamSpec<unknown>; got: unknown; why?: string };

/**
 * The one reading of "an object whose fields follow these specs", for a method's params and for
 * each item of an objList: an unknown field is refused, a required one must be there (null counts
 * as not given), an absent one takes its default (a copy: a handler mutating it must not change
 * the default), a present one must pass its check. Callers word the fault.
 */
export function checkFields<S extends ParamSpecs>(specs: S, given: Record<string, unknown>): FieldsCheck<S> {
  for (const key of Object.keys(given)) if (!Object.prototype.hasOwnProperty.call(specs, key)) return { ok: false, fault: "unknown", field: key };
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(specs)) {
    const s = specs[name]!;
    const v = given[name];
    if (v === undefined || v === null) {
      if (s.required) return { ok: false, fault: "missing", field: name, spec: s };
      if (s.default !== undefined) out[name] = structuredClone(s.default);
      continue;
    }
    const r = s.check(v);
    if (!r.ok) return { ok: false, fault: "invalid", field: name, spec: s, got: v, ...(r.why !== undefined ? { why: r.why } : {}) };
    out[name] = r.value;
  }
  return { ok: true, value: out as ParamsOf<S> };
}

interface Common<T> {
  /** the request must name this param (null counts as not given) */
  required?: boolean;
  /** used when the param is absent or null; must itself satisfy the rules */
  default?: T;
  /** what the param means, in one line */
  description?: string;
}

/** true when the options guarantee a value: `required: true` or a `default` */
type Present<O> = O extends { required: true } ? true : O extends { default: infer D } ? (undefined extends D ? false : true) : false;

function spec<T, O extends Common<T>>(opts: O | undefined, expects: string, schema: JsonSchema, check: (v: unknown) => Check<T>): ParamSpec<T, Present<O>> {
  const required = opts?.required === true;
  const dflt = opts?.default;
  // Contradictory or impossible definitions are programming errors: fail at start-up.
  if (required && dflt !== undefined) throw new Error(`jsonrpc params: a param cannot be both required and defaulted (${expects})`);
  if (dflt !== undefined && !check(dflt).ok) throw new Error(`jsonrpc params: default ${JSON.stringify(dflt)} is not ${expects}`);
  const withDefault: JsonSchema = dflt === undefined ? schema : { ...schema, default: dflt };
  return { expects, required, default: dflt, check, schema: withDefault, ...(opts?.description !== undefined ? { description: opts.description } : {}) };
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return "";
}

function count(min: number | undefined, max: number | undefined, what: string): string {
  if (min !== undefined && max !== undefined) return min === max ? ` of exactly ${min} ${what}` : ` of ${min} to ${max} ${what}`;
  if (min !== undefined) return ` of at least ${min} ${what}`;
  if (max !== undefined) return ` of at most ${max} ${what}`;
  return "";
}

// ---- strings

export interface StrRules {
  /** default 1: an empty string is refused unless this is 0 */
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** words for the pattern in messages, e.g. "letters, digits and -" */
  patternHint?: string;
}
export type StrOptions = StrRules & Common<string>;

/** A RegExp as a JSON Schema pattern: flags have no place there, so a pattern with flags is refused at start-up. */
function patternSource(re: RegExp): string {
  if (re.flags !== "") throw new Error(`jsonrpc params: pattern ${re} has flags, which JSON Schema cannot say; write it without them`);
  return re.source;
}

function strRules(r: StrRules): { expects: string; ok: (s: string) => boolean; schema: JsonSchema } {
  const min = r.minLength ?? 1;
  const max = r.maxLength;
  let expects =
    min === 1 && max === undefined ? "a non-empty string" : min === 0 && max === undefined ? "a string" : `a string${count(min, max, "characters")}`;
  if (r.pattern) expects += ` of ${r.patternHint ?? `the form ${r.pattern}`}`;
  const schema: JsonSchema = {
    type: "string",
    minLength: min,
    ...(max !== undefined ? { maxLength: max } : {}),
    ...(r.pattern ? { pattern: patternSource(r.pattern) } : {}),
    ...(r.pattern && r.patternHint ? { description: r.patternHint } : {}),
  };
  return {
    expects,
    schema,
    ok: (s) => s.length >= min && (max === undefined || s.length <= max) && (!r.pattern || r.pattern.test(s)),
  };
}

export function str<O extends StrOptions>(opts?: O): ParamSpec<string, Present<O>> {
  const rules = strRules(opts ?? {});
  return spec<string, O>(opts, rules.expects, rules.schema, (v) => (typeof v === "string" && rules.ok(v) ? { ok: true, value: v } : { ok: false }));
}

/** One of a fixed set of strings, typed as their union. */
export function oneOf<const V extends readonly [string, ...string[]], O extends Common<V[number]>>(values: V, opts?: O): ParamSpec<V[number], Present<O>> {
  const expects = `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  return spec<V[number], O>(opts, expects, { type: "string", enum: [...values] }, (v) =>
    typeof v === "string" && (values as readonly string[]).includes(v) ? { ok: true, value: v as V[number] } : { ok: false },
  );
}

// ---- numbers and booleans

export interface IntRules {
  min?: number;
  max?: number;
}
export type IntOptions = IntRules & Common<number>;

function intSchema(r: IntRules): JsonSchema {
  return { type: "integer", ...(r.min !== undefined ? { minimum: r.min } : {}), ...(r.max !== undefined ? { maximum: r.max } : {}) };
}

function intOk(r: IntRules): (v: unknown) => v is number {
  return (v): v is number => Number.isSafeInteger(v) && (r.min === undefined || (v as number) >= r.min) && (r.max === undefined || (v as number) <= r.max);
}

/** A JSON integer (no strings: "5" is refused, so a client bug is not silently accepted). */
export function int<O extends IntOptions>(opts?: O): ParamSpec<number, Present<O>> {
  const ok = intOk(opts ?? {});
  return spec<number, O>(opts, `an integer${range(opts?.min, opts?.max)}`, intSchema(opts ?? {}), (v) => (ok(v) ? { ok: true, value: v } : { ok: false }));
}

export function bool<O extends Common<boolean>>(opts?: O): ParamSpec<boolean, Present<O>> {
  return spec<boolean, O>(opts, "true or false", { type: "boolean" }, (v) => (typeof v === "boolean" ? { ok: true, value: v } : { ok: false }));
}

// ---- lists

export interface ListRules {
  minItems?: number;
  maxItems?: number;
}

function arraySchema(items: JsonSchema, minItems: number | undefined, maxItems: number | undefined): JsonSchema {
  return { type: "array", items, ...(minItems !== undefined ? { minItems } : {}), ...(maxItems !== undefined ? { maxItems } : {}) };
}

function listCheck<T>(minItems: number | undefined, maxItems: number | undefined, item: (v: unknown) => v is T): (v: unknown) => Check<T[]> {
  return (v) => {
    if (!Array.isArray(v)) return { ok: false };
    if ((minItems !== undefined && v.length < minItems) || (maxItems !== undefined && v.length > maxItems)) return { ok: false };
    return v.every(item) ? { ok: true, value: [...v] } : { ok: false };
  };
}

/** "a string of 1 to 9 characters" → "strings of 1 to 9 characters" (the plural goes on "string", not on the end). */
function strings(expects: string): string {
  return expects.replace(/^a (non-empty )?string/, "$1strings");
}

export type StrListOptions = ListRules & { item?: StrRules } & Common<string[]>;

/** An array of strings; each item follows `item` (default: non-empty). */
export function strList<O extends StrListOptions>(opts?: O): ParamSpec<string[], Present<O>> {
  const rules = strRules(opts?.item ?? {});
  const expects = `an array${count(opts?.minItems, opts?.maxItems, "items")} of ${strings(rules.expects)}`;
  return spec(
    opts,
    expects,
    arraySchema(rules.schema, opts?.minItems, opts?.maxItems),
    listCheck(opts?.minItems, opts?.maxItems, (s): s is string => typeof s === "string" && rules.ok(s)),
  );
}

export type IntListOptions = ListRules & IntRules & Common<number[]>;

/** An array of integers; `min`/`max` bound each item, `minItems`/`maxItems` the length. */
export function intList<O extends IntListOptions>(opts?: O): ParamSpec<number[], Present<O>> {
  const ok = intOk(opts ?? {});
  const expects = `an array${count(opts?.minItems, opts?.maxItems, "items")} of integers${range(opts?.min, opts?.max)}`;
  return spec(opts, expects, arraySchema(intSchema(opts ?? {}), opts?.minItems, opts?.maxItems), listCheck(opts?.minItems, opts?.maxItems, ok));
}

export type StrOrListOptions = ListRules & { item?: StrRules } & Common<string[]>;

/**
 * A list given either as an array of strings or as one comma-separated string ("a,b"), as
 * the CLI and Carbonio write lists. Items are trimmed; empty pieces between commas are dropped,
 * and a string with no items at all is refused.
 */
export function strOrList<O extends StrOrListOptions>(opts?: O): ParamSpec<string[], Present<O>> {
  const rules = strRules(opts?.item ?? {});
  const items = strings(rules.expects);
  const expects = `an array${count(opts?.minItems, opts?.maxItems, "items")} of ${items}, or one comma-separated string of them`;
  const asList = listCheck(opts?.minItems, opts?.maxItems, (s): s is string => typeof s === "string" && rules.ok(s));
  const schema: JsonSchema = {
    oneOf: [
      arraySchema(rules.schema, opts?.minItems, opts?.maxItems),
      { type: "string", minLength: 1, description: "the same items, comma separated in one string" },
    ],
  };
  return spec(opts, expects, schema, (v) => {
    if (typeof v === "string") {
      const parts = v
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== "");
      // "" or " , " names nothing: almost surely a mistake, and a handler could read an
      // empty list very differently from an absent param (e.g. "none" versus "all").
      return parts.length === 0 ? { ok: false } : asList(parts);
    }
    return Array.isArray(v) ? asList(v.map((p) => (typeof p === "string" ? p.trim() : p))) : { ok: false };
  });
}

// ---- lists of objects

/** What a value is, in words, for messages ("the string \"x\"", "an array of 2 items"). */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? "" : "s"}`;
  switch (typeof v) {
    case "string": {
      const shown = v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}...` : JSON.stringify(v);
      return `the string ${shown}`;
    }
    case "number":
      return `the number ${v}`;
    case "boolean":
      return String(v);
    default:
      return "an object";
  }
}

export type ObjListOptions = ListRules & Pick<Common<never>, "required" | "description">;

/**
 * An array of objects whose fields follow `fields` (the rules of by-name params, one level
 * down: required fields, defaults, no unknown field, null counts as not given). A refusal
 * names the first wrong item and field (`why`), so a batch of many says which one is wrong.
 */
export function objList<F extends ParamSpecs, O extends ObjListOptions>(fields: F, opts?: O): ParamSpec<ParamsOf<F>[], Present<O>> {
  const names = Object.keys(fields);
  const described = names.map((n) => `${n}${fields[n]!.required ? " (required)" : ""}`).join(", ");
  const expects = `an array${count(opts?.minItems, opts?.maxItems, "items")} of objects with ${described}`;
  const item: JsonSchema = {
    type: "object",
    properties: Object.fromEntries(names.map((n) => [n, fields[n]!.schema])),
    required: names.filter((n) => fields[n]!.required),
    additionalProperties: false,
  };
  const checkItem = (v: unknown, i: number): Check<ParamsOf<F>> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return { ok: false, why: `item ${i} is ${describeValue(v)}, not an object` };
    const r = checkFields(fields, v as Record<string, unknown>);
    if (r.ok) return r;
    switch (r.fault) {
      case "unknown":
        return { ok: false, why: `item ${i} has the unknown field ${JSON.stringify(r.field.slice(0, 40))} (allowed: ${names.join(", ")})` };
      case "missing":
        return { ok: false, why: `item ${i} has no "${r.field}", which must be ${r.spec.expects}` };
      case "invalid":
        return { ok: false, why: `item ${i}: "${r.field}" must be ${r.spec.expects}, got ${describeValue(r.got)}` };
    }
  };
  return spec<ParamsOf<F>[], O>(opts, expects, arraySchema(item, opts?.minItems, opts?.maxItems), (v) => {
    if (!Array.isArray(v)) return { ok: false };
    if ((opts?.minItems !== undefined && v.length < opts.minItems) || (opts?.maxItems !== undefined && v.length > opts.maxItems)) return { ok: false };
    const out: ParamsOf<F>[] = [];
    for (let i = 0; i < v.length; i++) {
      const r = checkItem(v[i], i);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  });
}
