// rpc.discover over NATS: the active supervisor (mr.rpc.admin) and any mailstore
// (mr.rpc.mailbox) answer with an OpenRPC document listing every method they serve, each
// param as the server validates it (name, required, type, bounds, default).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rpcCall, RpcError, type OpenRpcDocument } from "../src/jsonrpc/index.js";
import { withDiscover } from "../src/jsonrpc/discover.js";
import { adminMethods } from "../actors/supervisor/admin_methods.js";
import { mailboxMethods } from "../actors/mailstore/mailbox_methods.js";
import { ADMIN_SUBJECT, type SupervisorNode } from "../actors/supervisor/node.js";
import { MAILBOX_SUBJECT, type MailstoreNode } from "../actors/mailstore/node.js";
import { ADMIN_METHODS } from "../src/protocol/admin_params.js";
import { MAILBOX_METHODS } from "../src/protocol/mailbox_params.js";
import { ADMIN_RPC_SUBJECT, adminDocument, MAILBOX_RPC_SUBJECT, mailboxDocument } from "../src/protocol/discovery.js";
import type { MethodContracts } from "../src/protocol/method_contract.js";
import { TestSystem } from "./helpers/system.js";
import { runCliWithEnv } from "./helpers/cli_capture.js";
import { openRpcProblems, paramProblems } from "./helpers/openrpc_check.js";

let sys: TestSystem;
let sup: SupervisorNode;
let ms: MailstoreNode;
test.before(async () => {
  sys = await TestSystem.start({ hosts: ["ms1.example.com"] });
  ms = await sys.startMailstore("ms1.example.com");
  // Only supervisors write account records: one runs before any createAccount.
  sup = await sys.startSupervisor();
});
test.after(async () => {
  await sys?.stop();
});

function checkDocument(doc: OpenRpcDocument, served: Iterable<string>, contracts: MethodContracts): void {
  assert.equal(openRpcProblems(doc), []);
  const names = doc.methods.map((m) => m.name).sort();
  assert.equal(names, [...served].sort(), "every served method is listed, and only those");
  assert.ok(names.includes("rpc.discover"));
  for (const m of doc.methods) {
    if (m.name === "rpc.discover") {
      assert.equal(m.params, []);
      continue;
    }
    const c = contracts[m.name]!;
    assert.ok(c, `${m.name} has a contract`);
    assert.is(m.summary, c.summary);
    assert.equal(paramProblems(m.name, m.params, c.params), []);
  }
}

test("discover - mr.rpc.admin answers rpc.discover with every admin method and its params", async () => {
  assert.is(ADMIN_RPC_SUBJECT, ADMIN_SUBJECT);
  const doc = await rpcCall<OpenRpcDocument>(sys.nc, "mr.rpc.admin", "rpc.discover");
  checkDocument(doc, adminMethods(sup).keys(), ADMIN_METHODS);
  assert.equal(doc, adminDocument(), "the wire copy is the built document");
  assert.is(doc.info.title, "mailreplica admin");
  // Spot checks of what the CLI used to get wrong or drop: bounds, types, required, allowed values.
  const set = doc.methods.find((m) => m.name === "setAccountDestination")!;
  const priority = set.params.find((p) => p.name === "priority")!;
  assert.equal(priority.schema, { type: "integer", minimum: 0, maximum: 1_000_000 });
  assert.is(priority.required, true);
  const accounts = set.params.find((p) => p.name === "accounts")!;
  assert.is(accounts.required, true);
  assert.equal(
    (accounts.schema as { oneOf: { type: string }[] }).oneOf.map((s) => s.type),
    ["array", "string"],
  );
  const status = doc.methods.find((m) => m.name === "getAccountStatus")!;
  assert.equal(status.params.find((p) => p.name === "replicaStatus")!.schema, { type: "string", enum: ["available", "unavailable"] });
  assert.equal(doc.methods.find((m) => m.name === "getServices")!.params, []);
  const monitor = doc.methods.find((m) => m.name === "monitor")!.params.find((p) => p.name === "operation_uuid")!;
  assert.ok(new RegExp((monitor.schema as { pattern: string }).pattern).test("0f8fad5b-d9cb-469f-a165-70867728950e"));
  // The application errors ride along, with their stable codes.
  assert.equal(doc.components.errors.ACCOUNT_UNKNOWN, {
    code: -32001,
    message: doc.components.errors.ACCOUNT_UNKNOWN!.message,
    data: { code: "ACCOUNT_UNKNOWN", aliases: ["ACCOUNT_NOT_FOUND"] },
  });
  assert.equal(doc.components.errors.InvalidParams, { code: -32602, message: "Invalid params" });
});

test("discover - mr.rpc.mailbox answers rpc.discover with every mailbox method and its params", async () => {
  assert.is(MAILBOX_RPC_SUBJECT, MAILBOX_SUBJECT);
  const doc = await rpcCall<OpenRpcDocument>(sys.nc, "mr.rpc.mailbox", "rpc.discover", {});
  checkDocument(doc, mailboxMethods(ms).routing.keys(), MAILBOX_METHODS);
  assert.equal(doc, mailboxDocument());
  const list = doc.methods.find((m) => m.name === "listItems")!;
  assert.equal(list.params.find((p) => p.name === "limit")!.schema, { type: "integer", minimum: 1, maximum: 1000, default: 50 });
  assert.is(list.params.find((p) => p.name === "account")!.required, true);
  const ids = doc.methods.find((m) => m.name === "deleteItems")!.params.find((p) => p.name === "ids")!;
  assert.equal(ids.schema, { type: "array", items: { type: "integer", minimum: 1 }, minItems: 1, maxItems: 1000 });
  // The node's own endpoint is internal: it does not describe itself.
  assert.not.ok(mailboxMethods(ms).local.has("rpc.discover"));
});

test("discover - rpc.discover takes no params, and the methods it lists work as listed", async () => {
  const err = await rpcCall(sys.nc, "mr.rpc.admin", "rpc.discover", { verbose: true }).catch((e: unknown) => e);
  assert.instance(err, RpcError);
  assert.is((err as RpcError).code, -32602);
  assert.ok((err as RpcError).message.includes("rpc.discover takes no params"), (err as RpcError).message);
  // [] is "no params" too, as for every method.
  assert.is((await rpcCall<OpenRpcDocument>(sys.nc, "mr.rpc.mailbox", "rpc.discover", [])).info.title, "mailreplica mailbox");
  // A method as the document describes it: createAccount with its required params is accepted.
  const created = await sys.mailbox("createAccount", { name: "bob@example.com", mailHost: "ms1.example.com" });
  assert.is(created.name, "bob@example.com");
});

test("discover - the CLI's generic call prints the document (mailreplica call admin rpc.discover --json)", async () => {
  const r = await runCliWithEnv(["call", "admin", "rpc.discover", "--json"], { MR_SERVERS: sys.config.nats.servers.join(",") }, process.cwd());
  assert.is(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out), adminDocument());
});

test("discover - a table and its document must name the same methods, or the server refuses to start", () => {
  const doc = mailboxDocument();
  const short = new Map([...mailboxMethods(ms).local].filter(([name]) => name !== "deleteFolder"));
  assert.throws(() => withDiscover(short, doc), /not served: deleteFolder/);
  const extra = new Map([...mailboxMethods(ms).local, ["frob", { name: "frob", call: () => 1 }]]);
  assert.throws(() => withDiscover(extra, doc), /not described: frob/);
});

test("discover - the documents hold the OpenRPC essentials without a running server", () => {
  for (const doc of [adminDocument(), mailboxDocument()]) {
    assert.equal(openRpcProblems(doc), []);
    assert.ok(Object.isFrozen(doc) && Object.isFrozen(doc.methods[0]!.params), "one shared, frozen copy");
    assert.is(doc, doc.info.title.endsWith("admin") ? adminDocument() : mailboxDocument(), "built once");
  }
  // The hand check finds what it is for.
  assert.ok(openRpcProblems({ openrpc: "2.0", info: {}, methods: [{ name: "a", params: [{ name: "x", schema: { minimum: 3, maximum: 1 } }] }] }).length >= 3);
});

test.run();
