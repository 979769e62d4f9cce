// OpenRPC 1.x (https://spec.open-rpc.org) documents of method tables, built from the same
// param specs the server validates with, and the rpc.discover method that returns one.
// Imports nothing heavy: the CLI and scripts build documents without NATS.
import { appErrorRows, ProtocolErrors } from "./codes.js";
import type { JsonSchema, ParamSpecs } from "./param_specs.js";

export const OPENRPC_VERSION = "1.3.2";
export const DISCOVER_METHOD = "rpc.discover";
/** The meta-schema an OpenRPC document follows (named, never fetched). */
export const OPENRPC_META_SCHEMA = "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json";

export interface OpenRpcContentDescriptor {
  name: string;
  summary?: string;
  description?: string;
  required?: boolean;
  schema: JsonSchema | { $ref: string } | Record<string, never>;
}

export interface OpenRpcError {
  code: number;
  message: string;
  data?: unknown;
}

export interface OpenRpcMethod {
  name: string;
  summary: string;
  paramStructure: "by-name";
  params: OpenRpcContentDescriptor[];
  result: OpenRpcContentDescriptor;
  errors: (OpenRpcError | { $ref: string })[];
}

export interface OpenRpcDocument {
  openrpc: string;
  info: { title: string; version: string; description: string };
  methods: OpenRpcMethod[];
  components: { errors: Record<string, OpenRpcError> };
}

/** One method as the document describes it: its name, one line, its params. */
export interface DescribedMethod {
  readonly name: string;
  readonly summary: string;
  readonly params: ParamSpecs;
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

/**
 * The document. Every method may fail with the JSON-RPC protocol errors and any application
 * error (components.errors: number, hint, and data.code, the stable string code); each
 * method names -32602 (its params are checked before anything runs) and refers to the rest.
 */
export function openRpcDocument(opts: OpenRpcOptions): OpenRpcDocument {
  const errors: Record<string, OpenRpcError> = {};
  for (const [key, e] of Object.entries(ProtocolErrors)) errors[protocolErrorName(key)] = { code: e.code, message: e.message };
  for (const row of appErrorRows()) errors[row.code] = { code: row.rpcCode, message: row.hint, data: { code: row.code, ...(row.aliases.length ? { aliases: row.aliases } : {}) } };
  const invalidParams = { $ref: "#/components/errors/InvalidParams" };
  const methods: OpenRpcMethod[] = opts.methods.map((m) => ({
    name: m.name,
    summary: m.summary,
    paramStructure: "by-name",
    params: Object.entries(m.params).map(([name, spec]) => param(name, spec)),
    result: { name: `${m.name}Result`, schema: {} },
    errors: [invalidParams],
  }));
  methods.push({
    name: DISCOVER_METHOD,
    summary: "This document: every method with its params (names, required, JSON Schema) and the error codes.",
    paramStructure: "by-name",
    params: [],
    result: { name: "OpenRPC document", schema: { $ref: OPENRPC_META_SCHEMA } },
    errors: [invalidParams],
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
