// OpenRPC 1.x (https://spec.open-rpc.org) documents of method tables, built from the same
// param specs the server validates with, and the rpc.discover method that returns one.
// Imports nothing heavy: the CLI and scripts build documents without NATS.
import { appErrorRows, ProtocolErrors, resolveAppCode, type AppErrorCode } from "./codes.js";
import type { JsonSchema, ParamSpecs } from "./param_specs.js";

export const OPENRPC_VERSION = "1.3.2";
export const DISCOVER_METHOD = "rpc.discover";
/** The meta-schema an OpenRPC document follows (named, never fetched). */
export const OPENRPC_META_SCHEMA = "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json";

/** The JSON types a result schema names (draft-07). */
export type ResultType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

/**
 * A method's answer as JSON Schema (draft-07), in the subset client generators read:
 * type (a list of types where a value may also be null), properties, required, items, enum,
 * description. An object schema without properties is free-form.
 */
export interface ResultSchema {
  type?: ResultType | readonly ResultType[];
  properties?: Readonly<Record<string, ResultSchema>>;
  required?: readonly string[];
  items?: ResultSchema;
  enum?: readonly (string | number | boolean | null)[];
  description?: string;
}

export interface OpenRpcContentDescriptor {
  name: string;
  summary?: string;
  description?: string;
  required?: boolean;
  schema: JsonSchema | ResultSchema | { $ref: string } | Record<string, never>;
}

/** An error object: the meta-schema allows these three fields and no other (no x- extensions). */
export interface OpenRpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** An error a method may answer: the stable string code clients see, and when. */
export interface MethodErrorSpec {
  /** the canonical application code (data.code on the wire), or INVALID_PARAMS (-32602, no data.code) */
  readonly code: AppErrorCode | "INVALID_PARAMS";
  /** one line: when this method answers it */
  readonly meaning: string;
}

export interface OpenRpcMethod {
  name: string;
  summary: string;
  paramStructure: "by-name";
  params: OpenRpcContentDescriptor[];
  result: OpenRpcContentDescriptor;
  errors: OpenRpcError[];
}

export interface OpenRpcDocument {
  openrpc: string;
  info: { title: string; version: string; description: string };
  methods: OpenRpcMethod[];
  components: { errors: Record<string, OpenRpcError> };
}

/** One method as the document describes it: its name, one line, its params, its answer and its errors. */
export interface DescribedMethod {
  readonly name: string;
  readonly summary: string;
  readonly params: ParamSpecs;
  readonly result: ResultSchema;
  readonly errors: readonly MethodErrorSpec[];
}

export interface OpenRpcOptions {
  title: string;
  version: string;
  description: string;
  methods: readonly DescribedMethod[];
}

function param(name: string, spec: ParamSpecs[string]): OpenRpcContentDescriptor {
  return {
    name,
    ...(spec.description !== undefined ? { summary: spec.description } : {}),
    description: `${spec.required ? "Required" : "Optional"}: ${spec.expects}${spec.default !== undefined ? `; default ${JSON.stringify(spec.default)}` : ""}.`,
    required: spec.required,
    schema: spec.schema,
  };
}

/** The component name of a protocol error: INVALID_PARAMS → InvalidParams. */
function protocolErrorName(key: string): string {
  return key
    .toLowerCase()
    .split("_")
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/** What a method's error object carries in data: the code the server sends there, and when. */
export interface MethodErrorData {
  /** data.code of the error on the wire (absent for INVALID_PARAMS, which has none) */
  code?: string;
  /** one line: when this method answers it (only in the document) */
  meaning: string;
}

/**
 * One entry of a method's errors: the number, the stable string code as the message (what
 * clients branch on: data.code of an application error), and in data that code and when.
 * Throws on a code the table lacks or an alias: the list must name what the wire carries.
 */
function methodError(method: string, e: MethodErrorSpec): OpenRpcError {
  if (e.code === "INVALID_PARAMS") return { code: ProtocolErrors.INVALID_PARAMS.code, message: e.code, data: { meaning: e.meaning } satisfies MethodErrorData };
  const known = resolveAppCode(e.code);
  if (!known) throw new Error(`jsonrpc: ${method} lists error ${e.code}, which is not in AppErrorCodes`);
  if (known.alias !== undefined) throw new Error(`jsonrpc: ${method} lists ${e.code}, an alias; list ${known.code}, the code clients receive in data.code`);
  return { code: known.rpcCode, message: known.code, data: { code: known.code, meaning: e.meaning } satisfies MethodErrorData };
}

/** A method's errors in the order given, each once; INVALID_PARAMS must be among them. */
function methodErrors(m: DescribedMethod): OpenRpcError[] {
  const seen = new Set<string>();
  const out: OpenRpcError[] = [];
  for (const e of m.errors) {
    if (seen.has(e.code)) throw new Error(`jsonrpc: ${m.name} lists error ${e.code} twice`);
    seen.add(e.code);
    out.push(methodError(m.name, e));
  }
  if (!seen.has("INVALID_PARAMS")) throw new Error(`jsonrpc: ${m.name} must list INVALID_PARAMS (every method checks its params first)`);
  return out;
}

/**
 * The document. Every method may fail with the JSON-RPC protocol errors; components.errors
 * lists every application error (number, hint, and data.code, the stable string code); each
 * method lists its result's schema and the errors it may answer (INVALID_PARAMS among them:
 * its params are checked before anything runs).
 */
export function openRpcDocument(opts: OpenRpcOptions): OpenRpcDocument {
  const errors: Record<string, OpenRpcError> = {};
  for (const [key, e] of Object.entries(ProtocolErrors)) errors[protocolErrorName(key)] = { code: e.code, message: e.message };
  for (const row of appErrorRows())
    errors[row.code] = { code: row.rpcCode, message: row.hint, data: { code: row.code, ...(row.aliases.length ? { aliases: row.aliases } : {}) } };
  const methods: OpenRpcMethod[] = opts.methods.map((m) => ({
    name: m.name,
    summary: m.summary,
    paramStructure: "by-name",
    params: Object.entries(m.params).map(([name, spec]) => param(name, spec)),
    result: { name: `${m.name}Result`, schema: m.result },
    errors: methodErrors(m),
  }));
  methods.push({
    name: DISCOVER_METHOD,
    summary: "This document: every method with its params (names, required, JSON Schema), its result's JSON Schema and its error codes.",
    paramStructure: "by-name",
    params: [],
    result: { name: "OpenRPC document", schema: { $ref: OPENRPC_META_SCHEMA } },
    errors: [methodError(DISCOVER_METHOD, { code: "INVALID_PARAMS", meaning: "params were given (it takes none)" })],
  });
  return { openrpc: OPENRPC_VERSION, info: { title: opts.title, version: opts.version, description: opts.description }, methods, components: { errors } };
}

/** Freezes the document so the one shared copy cannot be changed by a caller in-process. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}
