// Writes docs/jsonrpc.md from the OpenRPC documents rpc.discover returns (npm run docs:jsonrpc).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import { adminDocument, mailboxDocument } from "../src/protocol/discovery.js";
import { JSONRPC_DOC_PATH, renderJsonRpcDoc } from "../src/protocol/jsonrpc_doc.js";

const file = join(projectRoot(), JSONRPC_DOC_PATH);
writeFileSync(file, renderJsonRpcDoc([adminDocument(), mailboxDocument()]));
process.stdout.write(`wrote ${file}\n`);
