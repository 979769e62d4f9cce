// Builders of the result schemas in the method contracts: JSON Schema (draft-07) in the
// subset OpenRPC client generators read (type, properties, required, items, enum,
// description; a value that may be null has a list of types). Plain data, no imports of
// substance, so the contracts stay light enough for the CLI's --help.
import type { ResultSchema, ResultType } from "../jsonrpc/openrpc.js";

export type { ResultSchema };

/** A property the answer may leave out. */
interface Optional {
  readonly optional: ResultSchema;
}
type Field = ResultSchema | Optional;

const withDescription = (s: ResultSchema, description?: string): ResultSchema => (description === undefined ? s : { ...s, description });

export const str = (description?: string): ResultSchema => withDescription({ type: "string" }, description);
export const int = (description?: string): ResultSchema => withDescription({ type: "integer" }, description);
export const bool = (description?: string): ResultSchema => withDescription({ type: "boolean" }, description);
export const list = (items: ResultSchema, description?: string): ResultSchema => withDescription({ type: "array", items }, description);
export const oneOf = (values: readonly string[], description?: string): ResultSchema => withDescription({ type: "string", enum: values }, description);
/** An object whose properties are not fixed (free-form, as the server received or recorded it). */
export const anyObject = (description?: string): ResultSchema => withDescription({ type: "object" }, description);

/** `s` or null: its single type becomes [type, "null"] (an enum gains null too). */
export function nullable(s: ResultSchema): ResultSchema {
  if (typeof s.type !== "string") throw new Error(`result schema: nullable() needs one type, got ${JSON.stringify(s.type)}`);
  const type: ResultType[] = [s.type, "null"];
  return { ...s, type, ...(s.enum ? { enum: [...s.enum, null] } : {}) };
}

/** One of several types (e.g. an id that is a number or a string). */
export const anyOf = (types: readonly ResultType[], description?: string): ResultSchema => withDescription({ type: types }, description);

/** A property that may be absent from the answer. */
export const optional = (s: ResultSchema): Optional => ({ optional: s });

/** An object with these properties; every one not wrapped in optional() is required. */
export function object(fields: Readonly<Record<string, Field>>, description?: string): ResultSchema {
  const properties: Record<string, ResultSchema> = {};
  const required: string[] = [];
  for (const [name, f] of Object.entries(fields)) {
    if ("optional" in f) properties[name] = f.optional;
    else {
      properties[name] = f;
      required.push(name);
    }
  }
  return withDescription({ type: "object", properties, required }, description);
}

/** `base`'s properties with `more` added (an answer that extends another). */
export function extend(base: ResultSchema, more: Readonly<Record<string, Field>>, description?: string): ResultSchema {
  const added = object(more);
  return withDescription(
    { type: "object", properties: { ...base.properties, ...added.properties }, required: [...(base.required ?? []), ...(added.required ?? [])] },
    description ?? base.description,
  );
}
