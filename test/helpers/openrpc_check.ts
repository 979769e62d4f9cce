// The essentials of the OpenRPC 1.x meta-schema (https://spec.open-rpc.org), checked by hand
// (the schema is never fetched): the required fields and their types, unique names, errors
// that resolve, and param schemas that are sound JSON Schema for what the specs accept.
import type { ParamSpecs } from "../../src/jsonrpc/param_specs.js";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const SCHEMA_TYPES = new Set(["string", "integer", "number", "boolean", "array", "object", "null"]);

function checkSchema(s: unknown, where: string, problems: string[]): void {
  if (!isObj(s)) return void problems.push(`${where}: schema is not an object`);
  if (s.$ref !== undefined) {
    if (typeof s.$ref !== "string") problems.push(`${where}: $ref is not a string`);
    return;
  }
  if (s.type !== undefined && !SCHEMA_TYPES.has(s.type as string)) problems.push(`${where}: unknown type ${String(s.type)}`);
  for (const [lo, hi] of [
    ["minimum", "maximum"],
    ["minLength", "maxLength"],
    ["minItems", "maxItems"],
  ] as const) {
    for (const k of [lo, hi]) if (s[k] !== undefined && !Number.isSafeInteger(s[k])) problems.push(`${where}: ${k} is not an integer`);
    if (typeof s[lo] === "number" && typeof s[hi] === "number" && s[lo] > s[hi]) problems.push(`${where}: ${lo} > ${hi}`);
  }
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern as string, "u");
    } catch (e) {
      problems.push(`${where}: pattern does not compile: ${(e as Error).message}`);
    }
  }
  if (s.enum !== undefined && (!Array.isArray(s.enum) || s.enum.length === 0)) problems.push(`${where}: enum is not a non-empty array`);
  if (s.items !== undefined) checkSchema(s.items, `${where}.items`, problems);
  if (s.oneOf !== undefined) {
    if (!Array.isArray(s.oneOf) || s.oneOf.length < 2) problems.push(`${where}: oneOf needs at least two schemas`);
    else s.oneOf.forEach((x, i) => checkSchema(x, `${where}.oneOf[${i}]`, problems));
  }
}

function checkError(e: unknown, where: string, components: Obj, problems: string[]): void {
  if (isObj(e) && typeof e.$ref === "string") {
    const m = /^#\/components\/errors\/(.+)$/.exec(e.$ref);
    if (!m || !isObj(components[m[1]!])) problems.push(`${where}: $ref ${e.$ref} does not resolve`);
    return;
  }
  if (!isObj(e) || !Number.isInteger(e.code) || typeof e.message !== "string") problems.push(`${where}: an error needs an integer code and a string message`);
}

/** Problems with `doc` against the OpenRPC essentials; empty when it is sound. */
export function openRpcProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return ["the document is not an object"];
  if (typeof doc.openrpc !== "string" || !/^1\.\d+\.\d+$/.test(doc.openrpc))
    problems.push(`openrpc must be a 1.x.y version string, got ${JSON.stringify(doc.openrpc)}`);
  const info = doc.info;
  if (!isObj(info) || typeof info.title !== "string" || info.title === "" || typeof info.version !== "string" || info.version === "")
    problems.push("info needs a title and a version (strings)");
  const components = isObj(doc.components) ? doc.components : {};
  const errors = isObj(components.errors) ? components.errors : {};
  for (const [name, e] of Object.entries(errors)) checkError(e, `components.errors.${name}`, errors, problems);
  if (!Array.isArray(doc.methods)) return [...problems, "methods must be an array"];
  const names = new Set<string>();
  for (const [i, m] of doc.methods.entries()) {
    const where = `methods[${i}]`;
    if (!isObj(m) || typeof m.name !== "string" || m.name === "") {
      problems.push(`${where}: a method needs a name`);
      continue;
    }
    if (names.has(m.name)) problems.push(`${where}: method ${m.name} is listed twice`);
    names.add(m.name);
    if (m.summary !== undefined && typeof m.summary !== "string") problems.push(`${m.name}: summary is not a string`);
    if (m.paramStructure !== undefined && !["by-name", "by-position", "either"].includes(m.paramStructure as string))
      problems.push(`${m.name}: bad paramStructure`);
    if (!Array.isArray(m.params)) {
      problems.push(`${m.name}: params must be an array`);
      continue;
    }
    const pnames = new Set<string>();
    for (const p of m.params) {
      if (!isObj(p) || typeof p.name !== "string" || p.name === "") {
        problems.push(`${m.name}: a param needs a name`);
        continue;
      }
      if (pnames.has(p.name)) problems.push(`${m.name}.${p.name}: listed twice`);
      pnames.add(p.name);
      if (p.required !== undefined && typeof p.required !== "boolean") problems.push(`${m.name}.${p.name}: required is not a boolean`);
      checkSchema(p.schema, `${m.name}.${p.name}`, problems);
    }
    if (!isObj(m.result) || typeof m.result.name !== "string" || !isObj(m.result.schema)) problems.push(`${m.name}: result needs a name and a schema`);
    if (m.errors !== undefined) {
      if (!Array.isArray(m.errors)) problems.push(`${m.name}: errors must be an array`);
      else m.errors.forEach((e, j) => checkError(e, `${m.name}.errors[${j}]`, errors, problems));
    }
  }
  return problems;
}

/** Problems with one method's params in the document against the specs the server validates with. */
export function paramProblems(method: string, listed: unknown, specs: ParamSpecs): string[] {
  const problems: string[] = [];
  const params = Array.isArray(listed) ? (listed as Obj[]) : [];
  const names = params.map((p) => p.name);
  if (names.join(",") !== Object.keys(specs).join(",")) problems.push(`${method}: params ${names.join(",")} instead of ${Object.keys(specs).join(",")}`);
  for (const p of params) {
    const spec = specs[p.name as string];
    if (!spec) continue;
    if (p.required !== spec.required) problems.push(`${method}.${String(p.name)}: required ${String(p.required)}, the server's ${spec.required}`);
    if (JSON.stringify(p.schema) !== JSON.stringify(spec.schema))
      problems.push(`${method}.${String(p.name)}: schema ${JSON.stringify(p.schema)}, the server's ${JSON.stringify(spec.schema)}`);
    const schema = p.schema as Obj;
    if (schema.default !== undefined && !spec.check(schema.default).ok)
      problems.push(`${method}.${String(p.name)}: default ${JSON.stringify(schema.default)} is refused by the server`);
  }
  return problems;
}
