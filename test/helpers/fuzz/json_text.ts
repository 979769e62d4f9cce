// JSON text the fuzzer sends: ordinary values, plus raw tokens that JSON.stringify cannot
// produce (1e400, -0, 9007199254740993, duplicate keys, deep nesting written as text).
/** A piece of JSON text inserted as is. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of `v`, with RawJson pieces inserted verbatim. Iterative, so any depth is fine. */
export function jsonText(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`)
      .join(",")}}`;
  }
  return v === undefined ? "null" : JSON.stringify(v);
}

/** `[[[...]]]` or `{"a":{"a":...}}` nested `depth` times, as text. */
export function deepText(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}
