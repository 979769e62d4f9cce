// docs/jsonrpc.md as a pure function of the OpenRPC documents rpc.discover returns, so the
// page can never say other than the servers do (a test compares it with the file).
import type { JsonSchema } from "../jsonrpc/param_specs.js";
import type { OpenRpcContentDescriptor, OpenRpcDocument, OpenRpcError } from "../jsonrpc/openrpc.js";

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
  return `| \`${p.name}\` | ${p.required ? "yes" : "no"} | ${cell(typeOf(p.schema))} | ${cell(accepts)} | ${cell(p.summary ?? "")} |`;
}

function methodSection(m: OpenRpcDocument["methods"][number]): string[] {
  const lines = [`### \`${m.name}\``, "", m.summary, ""];
  if (m.params.length === 0) lines.push("No params.", "");
  else lines.push("| param | required | type | accepts | meaning |", "|---|---|---|---|---|", ...m.params.map(paramRow), "");
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
    "Every method below, with its params as the servers validate them. A running system says the",
    "same, machine-readable: call `rpc.discover` (no params) on the subject, and it answers with an",
    "[OpenRPC](https://spec.open-rpc.org) document (each param's JSON Schema, the error codes).",
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
    "Any method may answer a JSON-RPC protocol error or an application error (`data.code` holds the",
    "stable string code; the message says what was wrong and what to do).",
    "",
    "| number | code | meaning |",
    "|---|---|---|",
    ...errorRows(errors),
    "",
  );
  return lines.join("\n");
}
