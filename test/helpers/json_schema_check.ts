// A validator of the JSON Schema subset the result schemas use (src/protocol/result_schema.ts):
// type (one or a list), enum, properties, required, items. It answers the path and reason of
// the first mismatch. Stricter than draft-07 in one point, on purpose: an object whose schema
// lists properties may hold no other key, so a field the server sends but the schema forgets is
// found too (an object schema without properties stays free-form).
import type { ResultSchema, ResultType } from "../../src/jsonrpc/openrpc.js";

function jsonType(v: unknown): ResultType | "undefined" | "other" {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : Number.isFinite(v) ? "number" : "other";
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "object") return typeof v as ResultType;
  return typeof v === "undefined" ? "undefined" : "other";
}

/** Whether `actual` is allowed by `types` (an integer is a number too). */
function typeAllowed(types: readonly ResultType[], actual: string): boolean {
  return types.includes(actual as ResultType) || (actual === "integer" && types.includes("number"));
}

/** The first mismatch of `value` against `schema` as "path: what", or undefined when it conforms. */
export function schemaMismatch(schema: ResultSchema, value: unknown, path = "$"): string | undefined {
  const actual = jsonType(value);
  if (schema.type !== undefined) {
    const types = typeof schema.type === "string" ? [schema.type] : schema.type;
    if (!typeAllowed(types, actual))
      return `${path}: expected ${types.join(" or ")}, got ${actual}${actual === "undefined" ? "" : ` ${JSON.stringify(value)?.slice(0, 60)}`}`;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value as string))
    return `${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  if (actual === "array" && schema.items !== undefined) {
    for (const [i, item] of (value as unknown[]).entries()) {
      const m = schemaMismatch(schema.items, item, `${path}[${i}]`);
      if (m !== undefined) return m;
    }
  }
  if (actual === "object" && schema.properties !== undefined) {
    const obj = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in obj)) return `${path}.${name}: required, missing`;
    for (const [name, v] of Object.entries(obj)) {
      const sub = schema.properties[name];
      if (sub === undefined) return `${path}.${name}: not in the schema's properties (${Object.keys(schema.properties).join(", ")})`;
      const m = schemaMismatch(sub, v, `${path}.${name}`);
      if (m !== undefined) return m;
    }
  }
  return undefined;
}
