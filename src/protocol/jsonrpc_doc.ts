// docs/jsonrpc.md as a pure function of the OpenRPC documents rpc.discover returns, so the
// page can never say other than the servers do (a test compares it with the file).
import type { JsonSchema } from "../jsonrpc/param_specs.js";
import type { MethodErrorData, OpenRpcContentDescriptor, OpenRpcDocument, OpenRpcError, ResultSchema } from "../jsonrpc/openrpc.js";

export const JSONRPC_DOC_PATH = "docs/jsonrpc.md";
export const JSONRPC_DOC_COMMAND = "npm run docs:jsonrpc";

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function typeOf(s: JsonSchema | { $ref: string } | Record<string, never>): string {
  if ("$ref" in s) return "see $ref";
  const js = s as JsonSchema;
  if (js.oneOf) return js.oneOf.map(typeOf).join(" or ");
  if (js.type === "array") return `${js.items ? typeOf(js.items) : "any"}[]`;
  if (js.enum) return js.enum.map((v) => `\`${v}\``).join(" | ");
  return js.type ?? "any";
}

function paramRow(p: OpenRpcContentDescriptor): string {
  const accepts = (p.description ?? "").replace(/^(Required|Optional): /, "").replace(/\.$/, "");
  return `| \`${p.name}\` | ${p.required ? "yes" : "no"} | ${cell(typeOf(p.schema as JsonSchema))} | ${cell(accepts)} | ${cell(p.summary ?? "")} |`;
}

/** A result schema's type in words: `a` | `b`, string or null, object[]... */
function resultType(s: ResultSchema): string {
  const types = s.type === undefined ? [] : typeof s.type === "string" ? [s.type] : [...s.type];
  if (s.enum) return s.enum.map((v) => (v === null ? "null" : `\`${String(v)}\``)).join(" | ");
  const named = types.map((t) => (t === "array" ? `${s.items ? resultType(s.items) : "any"}[]` : t));
  return named.length ? named.join(" or ") : "any";
}

/** One row per field of the answer, nested fields by path (`accounts[].name`). */
function resultRows(s: ResultSchema, prefix: string, rows: string[]): string[] {
  const required = new Set(s.required ?? []);
  for (const [name, f] of Object.entries(s.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push(`| \`${path}\` | ${cell(resultType(f))} | ${required.has(name) ? "always" : "optional"} | ${cell(f.description ?? "")} |`);
    if (f.properties) resultRows(f, `${path}.`, rows);
    if (f.items?.properties) resultRows(f.items, `${path}[].`, rows);
  }
  return rows;
}

function resultSection(r: OpenRpcContentDescriptor): string[] {
  if ("$ref" in r.schema) return [`Result: see \`${r.schema.$ref}\`.`, ""];
  const s = r.schema as ResultSchema;
  const rows = resultRows(s, "", []);
  if (rows.length === 0) return [`Result: ${resultType(s)}.`, ""];
  return ["Result:", "", "| field | type | present | meaning |", "|---|---|---|---|", ...rows, ""];
}

function methodErrorRow(e: OpenRpcError): string {
  return `| ${e.code} | \`${e.message}\` | ${cell((e.data as MethodErrorData | undefined)?.meaning ?? "")} |`;
}

function methodSection(m: OpenRpcDocument["methods"][number]): string[] {
  const lines = [`### \`${m.name}\``, "", m.summary, ""];
  if (m.params.length === 0) lines.push("No params.", "");
  else lines.push("| param | required | type | accepts | meaning |", "|---|---|---|---|---|", ...m.params.map(paramRow), "");
  lines.push(...resultSection(m.result));
  lines.push("Errors:", "", "| number | code | when |", "|---|---|---|", ...m.errors.map(methodErrorRow), "");
  return lines;
}

function errorRows(errors: Record<string, OpenRpcError>): string[] {
  return Object.entries(errors).map(([name, e]) => {
    const data = e.data as { code?: string; aliases?: string[] } | undefined;
    const code = data?.code ? `\`${data.code}\`${data.aliases?.length ? ` (also ${data.aliases.map((a) => `\`${a}\``).join(", ")})` : ""}` : name;
    return `| ${e.code} | ${code} | ${cell(e.message)} |`;
  });
}

/** The page for `docs` (admin first, then mailbox), ending with the error codes they share. */
export function renderJsonRpcDoc(docs: readonly OpenRpcDocument[]): string {
  const lines = [
    "# JSON-RPC methods",
    "",
    `<!-- Generated from the OpenRPC documents that rpc.discover returns (src/protocol). Do not edit: run \`${JSONRPC_DOC_COMMAND}\`; a test compares this file with the generated text. -->`,
    "",
    "Every method below, with its params as the servers validate them, what it answers and the",
    "errors it may answer. A running system says the same, machine-readable: call `rpc.discover`",
    "(no params) on the subject, and it answers with an [OpenRPC](https://spec.open-rpc.org)",
    "document (each param's and each result's JSON Schema; each method's errors with their",
    "number, the stable code as message, and in data that code and when: `data.meaning`).",
    "Params are by name (an object); a param given as `null` counts as not given.",
    "",
  ];
  for (const doc of docs) {
    lines.push(`## ${doc.info.title}`, "", doc.info.description, "");
    for (const m of doc.methods) lines.push(...methodSection(m));
  }
  const errors = docs[0]?.components.errors ?? {};
  lines.push(
    "## Errors",
    "",
    "Every code, with what to do. An application error's `data.code` holds the stable string code",
    "(each method above lists those it may answer); its message says what was wrong and what to do.",
    "Any method may also answer a JSON-RPC protocol error (parse error, invalid request, method not",
    "found, internal error).",
    "",
    "| number | code | meaning |",
    "|---|---|---|",
    ...errorRows(errors),
    "",
  );
  return lines.join("\n");
}
