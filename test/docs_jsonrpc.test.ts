// docs/jsonrpc.md is generated from the OpenRPC documents rpc.discover returns: it must equal
// the generated text, so the page never drifts from what the servers validate.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { projectRoot } from "../src/paths.js";
import { adminDocument, mailboxDocument } from "../src/protocol/discovery.js";
import { JSONRPC_DOC_COMMAND, JSONRPC_DOC_PATH, renderJsonRpcDoc } from "../src/protocol/jsonrpc_doc.js";
import { ADMIN_METHODS } from "../src/protocol/admin_params.js";
import { MAILBOX_METHODS } from "../src/protocol/mailbox_params.js";

test("docs jsonrpc - docs/jsonrpc.md equals the text generated from rpc.discover's documents", () => {
  const want = renderJsonRpcDoc([adminDocument(), mailboxDocument()]);
  const have = readFileSync(join(projectRoot(), JSONRPC_DOC_PATH), "utf8");
  if (have === want) return;
  const a = have.split("\n");
  const b = want.split("\n");
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i === -1 ? Math.min(a.length, b.length) : i;
  assert.unreachable(
    `${JSONRPC_DOC_PATH} differs from the generated text at line ${at + 1}:\n  file:      ${JSON.stringify(a[at])}\n  generated: ${JSON.stringify(b[at])}\nRegenerate it with \`${JSONRPC_DOC_COMMAND}\` (or \`npx tsc -p . && node dist/scripts/gen_jsonrpc_doc.js\`) and commit the result.`,
  );
});

test("docs jsonrpc - the page has a section per method, and README points to it and to rpc.discover", () => {
  const page = readFileSync(join(projectRoot(), JSONRPC_DOC_PATH), "utf8");
  for (const name of [...Object.keys(ADMIN_METHODS), ...Object.keys(MAILBOX_METHODS), "rpc.discover"])
    assert.ok(page.includes(`### \`${name}\``), `${name} has a section`);
  const readme = readFileSync(join(projectRoot(), "README.md"), "utf8");
  assert.ok(readme.includes("docs/jsonrpc.md"), "README links docs/jsonrpc.md");
  assert.ok(readme.includes("rpc.discover"), "README mentions rpc.discover");
});

test.run();
