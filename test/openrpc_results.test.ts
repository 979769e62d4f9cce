// The result schemas and error lists of rpc.discover's documents, held to what the servers do:
// every method has both; real answers of a running system (nats-server, two mailstores, a
// supervisor) conform to their method's result schema; refusals carry a code their method lists.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RpcError, type OpenRpcDocument } from "../src/jsonrpc/index.js";
import type { OpenRpcMethod, ResultSchema } from "../src/jsonrpc/openrpc.js";
import { resolveAppCode } from "../src/jsonrpc/codes.js";
import { adminDocument, mailboxDocument } from "../src/protocol/discovery.js";
import { ADMIN_METHODS } from "../src/protocol/admin_params.js";
import { MAILBOX_METHODS } from "../src/protocol/mailbox_params.js";
import { rawMessage, TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { schemaMismatch } from "./helpers/json_schema_check.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ALICE = "alice@example.com";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  for (const h of sys.hosts) await sys.startMailstore(h);
  await sys.startSupervisor();
});
test.after(async () => {
  await sys?.stop();
});

function methodOf(doc: OpenRpcDocument, name: string): OpenRpcMethod {
  const m = doc.methods.find((x) => x.name === name);
  if (!m) throw new Error(`${doc.info.title} has no method ${name}`);
  return m;
}

/** Methods whose real answers were validated below (the coverage is asserted at the end). */
const validated = new Set<string>();

/** Calls `method` and fails the test unless the answer conforms to the method's result schema. */
async function answer(doc: OpenRpcDocument, method: string, params: Record<string, unknown> = {}): Promise<any> {
  const call = doc === adminDocument() ? sys.admin(method, params) : sys.mailbox(method, params);
  const result: unknown = await call;
  const mismatch = schemaMismatch(methodOf(doc, method).result.schema as ResultSchema, result);
  assert.is(mismatch, undefined, `${method} answered ${JSON.stringify(result).slice(0, 400)}\nwhich does not conform: ${mismatch}`);
  validated.add(`${doc.info.title}:${method}`);
  return result;
}

const admin = (method: string, params: Record<string, unknown> = {}) => answer(adminDocument(), method, params);
const mailbox = (method: string, params: Record<string, unknown>) => answer(mailboxDocument(), method, params);

/** Monitors the operation until it ends, every snapshot checked against monitor's schema. */
async function ended(operationId: string): Promise<any> {
  return waitFor(
    `operation ${operationId} ends`,
    async () => {
      const m = await admin("monitor", { operation_uuid: operationId });
      return m.state !== "running" ? m : undefined;
    },
    60_000,
    100,
  );
}

const SCHEMA_TYPES = new Set(["string", "integer", "number", "boolean", "object", "array", "null"]);

/** Problems with a result schema: only the subset the validator and the contracts use, sound. */
function schemaProblems(s: ResultSchema, where: string): string[] {
  const out: string[] = [];
  const allowed = new Set(["type", "properties", "required", "items", "enum", "description"]);
  for (const k of Object.keys(s)) if (!allowed.has(k)) out.push(`${where}: keyword ${k} is outside the subset`);
  const types = s.type === undefined ? [] : typeof s.type === "string" ? [s.type] : s.type;
  if (types.length === 0) out.push(`${where}: no type`);
  for (const t of types) if (!SCHEMA_TYPES.has(t)) out.push(`${where}: unknown type ${t}`);
  for (const r of s.required ?? []) if (!s.properties || !(r in s.properties)) out.push(`${where}: required ${r} is not a property`);
  if (types.includes("array") && !s.items) out.push(`${where}: an array without items`);
  for (const [name, p] of Object.entries(s.properties ?? {})) out.push(...schemaProblems(p, `${where}.${name}`));
  if (s.items) out.push(...schemaProblems(s.items, `${where}[]`));
  return out;
}

test("openrpc results - every method of both documents has a result schema and its errors, INVALID_PARAMS among them", () => {
  for (const [doc, contracts] of [
    [adminDocument(), ADMIN_METHODS],
    [mailboxDocument(), MAILBOX_METHODS],
  ] as const) {
    assert.equal(
      doc.methods
        .map((m) => m.name)
        .filter((n) => n !== "rpc.discover")
        .sort(),
      Object.keys(contracts).sort(),
    );
    for (const m of doc.methods) {
      assert.ok(m.errors.length > 0, `${m.name} lists errors`);
      assert.ok(
        m.errors.some((e) => e.code === -32602 && e.message === "INVALID_PARAMS"),
        `${m.name} lists INVALID_PARAMS`,
      );
      const codes = m.errors.map((e) => e.message);
      assert.is(new Set(codes).size, codes.length, `${m.name} lists each code once`);
      for (const e of m.errors) {
        // The meta-schema's errorObject allows code, message and data, nothing else.
        assert.equal(Object.keys(e).sort(), ["code", "data", "message"], `${m.name} ${e.message}: only code, message, data`);
        const data = e.data as { code?: string; meaning?: string };
        assert.ok(typeof data.meaning === "string" && data.meaning.length > 0, `${m.name} ${e.message} says when`);
        if (e.message === "INVALID_PARAMS") {
          assert.is(data.code, undefined, "-32602 carries no data.code");
          continue;
        }
        // The number and data.code are the ones the server sends for this code.
        const known = resolveAppCode(e.message);
        assert.ok(known && known.alias === undefined, `${m.name}: ${e.message} is a canonical application code`);
        assert.is(e.code, known!.rpcCode, `${m.name}: ${e.message}'s number`);
        assert.is(data.code, e.message, `${m.name}: data.code is the code`);
      }
      if (m.name === "rpc.discover") {
        assert.ok("$ref" in m.result.schema, "rpc.discover answers an OpenRPC document");
        continue;
      }
      const schema = m.result.schema as ResultSchema;
      assert.is(schema.type, "object", `${m.name} answers an object`);
      assert.equal(schemaProblems(schema, m.name), []);
      assert.equal(schema, (contracts as Record<string, { result: ResultSchema }>)[m.name]!.result, `${m.name}: the document's schema is the contract's`);
    }
  }
});

test("openrpc results - the validator reports the path of the first mismatch", () => {
  const s = adminDocument().methods.find((m) => m.name === "getAllAccounts")!.result.schema as ResultSchema;
  const good = { accounts: [{ name: "a@example.com", id: "0f8fad5b-d9cb-469f-a165-70867728950e", type: "account", mailHost: MS1, replicas: 0 }], more: false };
  assert.is(schemaMismatch(s, good), undefined);
  const entry = good.accounts[0]!;
  assert.is(schemaMismatch(s, { ...good, accounts: [{ ...entry, replicas: "0" }] }), '$.accounts[0].replicas: expected integer, got string "0"');
  assert.is(schemaMismatch(s, { accounts: good.accounts }), "$.more: required, missing");
  assert.is(
    schemaMismatch(s, { ...good, accounts: [{ ...entry, type: "group" }] }),
    '$.accounts[0].type: "group" is not one of ["account","distributionList"]',
  );
  assert.match(schemaMismatch(s, { ...good, accounts: [{ ...entry, alias: "x" }] }) ?? "", /^\$\.accounts\[0\]\.alias: not in the schema's properties/);
  assert.is(schemaMismatch(s, null), "$: expected object, got null null");
  // A list of types admits null; an integer is not a string.
  assert.is(schemaMismatch({ type: ["integer", "null"] }, null), undefined);
  assert.is(schemaMismatch({ type: ["integer", "null"] }, 1.5), "$: expected integer or null, got number 1.5");
});

test("openrpc results - real answers of the mailbox methods conform to their result schemas", async () => {
  const created = await mailbox("createAccount", { name: ALICE, mailHost: MS1 });
  assert.is(created.type, "account");
  await mailbox("createAccount", { name: "team@example.com", mailHost: MS1, type: "distributionList" });
  await mailbox("createFolder", { account: ALICE, path: "Archive", requestId: "folder-1" });
  // The same requestId again: the first outcome, from the log's record.
  await mailbox("createFolder", { account: ALICE, path: "Archive", requestId: "folder-1" });
  const first = await mailbox("deliverMessage", { account: ALICE, raw: rawMessage(1, ALICE), flags: ["seen", "work"] });
  const second = await mailbox("deliverMessage", { account: ALICE, raw: rawMessage(2, ALICE), folder: "Archive" });
  const page = await mailbox("listItems", { account: ALICE, limit: 1 });
  assert.is(page.more, true, "a page with more after it carries nextOffset");
  await mailbox("listItems", { account: ALICE, folder: "Archive" });
  const folders = await mailbox("listFolders", { account: ALICE });
  assert.ok(folders.folders.some((f: { parentId: unknown }) => f.parentId === null));
  const item = await mailbox("getItem", { account: ALICE, id: first.itemId });
  assert.equal(item.flags, ["seen", "work"]);
  const part = await mailbox("getItemBody", { account: ALICE, id: first.itemId, length: 10 });
  assert.is(part.more, true);
  await mailbox("getItemBody", { account: ALICE, id: first.itemId, offset: part.nextOffset });
  await mailbox("setFlags", { account: ALICE, ids: [first.itemId], flags: ["flagged"] });
  await mailbox("createFolder", { account: ALICE, path: "Old" });
  await mailbox("moveItems", { account: ALICE, ids: [second.itemId], folder: "Old" });
  await mailbox("renameFolder", { account: ALICE, path: "Old", newPath: "Archive/Old" });
  const gone = await mailbox("deleteFolder", { account: ALICE, path: "Archive/Old" });
  assert.is(gone.deletedItems, 1);
  await mailbox("deliverMessage", { account: ALICE, raw: rawMessage(3, ALICE) });
  await mailbox("deleteItems", { account: ALICE, ids: [first.itemId] });
});

test("openrpc results - real answers of the admin methods conform to their result schemas", async () => {
  const all = await admin("getAllAccounts", { limit: 1 });
  assert.is(all.more, true);
  await admin("getAllAccounts");
  const services = await admin("getServices");
  assert.ok(services.services.length >= 3, "two mailstores and the supervisor");
  await admin("getLicenseInfo");
  const set = await admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ALICE });
  const setDone = await ended(set.operationId);
  assert.is(setDone.state, "successful", JSON.stringify(setDone));
  const status = await admin("getAccountStatus", { accounts: ALICE });
  assert.is(status.accounts[0].replicas[0].destination, MS2);
  await admin("getAccountStatus");
  const verified = await admin("verifyReplicas", { accounts: ALICE });
  assert.is(verified.equal, 1, JSON.stringify(verified));
  const snapped = await admin("snapshotAccounts", { accounts: ALICE, compact: true });
  assert.is(snapped.taken, 1, JSON.stringify(snapped));
  await admin("snapshotAccounts"); // every account: one that has nothing written reports why, in its entry
  const restored = await admin("restoreAccount", { account: ALICE, into: "alice.restored@example.com", at: new Date().toISOString() });
  assert.ok(restored.items >= 1, JSON.stringify(restored));
  const over = await admin("restoreAccount", { account: ALICE, seq: restored.sequence, overwrite: true }); // over the account itself
  assert.is(over.overwrite, true, JSON.stringify(over));
  const paused = await admin("pauseReplicas", { accounts: ALICE });
  assert.is(paused.replicas[0].status, "paused");
  await admin("getAccountStatus", { accounts: ALICE, accountStatus: "paused" });
  await admin("verifyReplicas", { accounts: ALICE }); // a paused replica: unverified, with its reason
  await admin("restartReplicas", { accounts: ALICE, destination: MS2 });
  await waitFor(
    "the restarted replica is available",
    async () => (await admin("getAccountStatus", { accounts: ALICE })).accounts[0].replicas[0].available || undefined,
    30_000,
    100,
  );
  const promote = await admin("promoteAccounts", { accounts: ALICE });
  const promoted = await ended(promote.operationId);
  assert.is(promoted.state, "successful", JSON.stringify(promoted));
  assert.is(promoted.promoted[0].to, MS2);
  // The old primary stays listed as a replica: removing it is a removeAccountDestination.
  const removed = await admin("removeAccountDestination", { destination: MS1, accounts: ALICE });
  assert.is(removed.total, 1);
  const removal = await admin("monitor", { operation_uuid: removed.operationId });
  assert.is(removal.kind, "removeAccountDestination");
  const report = await admin("test");
  assert.ok(report.checks.length > 0);
  const started = await admin("doStartService", { service_name: "module", host: MS2 });
  assert.is(started.hosts[0].changed, false, "already running");
  await admin("doRestartService", { service_name: "module", host: MS1 });
  // A mailstore that does not answer: running null, with a code (a host registered, then stopped).
  await sys.inProcess.get(MS1)!.stop();
  sys.inProcess.delete(MS1);
  const stopped = await admin("doStopService", { service_name: "module", host: MS1 });
  assert.is(stopped.hosts[0].running, null);
  assert.is(stopped.hosts[0].code, "UNAVAILABLE");
  await admin("getServices");
});

test("openrpc results - the representative set was validated", () => {
  // Every admin method of the contract: a new one must be driven above.
  for (const name of Object.keys(ADMIN_METHODS)) {
    assert.ok(validated.has(`mailreplica admin:${name}`), `admin ${name} validated`);
  }
  for (const name of Object.keys(MAILBOX_METHODS)) assert.ok(validated.has(`mailreplica mailbox:${name}`), `mailbox ${name} validated`);
});

/** The refusal `p` fails with, asserted to be an error `method` lists (data.code, else the number). */
async function listedRefusal(doc: OpenRpcDocument, method: string, params: Record<string, unknown>, expected: string): Promise<void> {
  const call = doc === adminDocument() ? sys.admin(method, params) : sys.mailbox(method, params);
  const e = await call.then(
    (r) => assert.unreachable(`${method} answered ${JSON.stringify(r).slice(0, 200)} instead of refusing with ${expected}`),
    (err: unknown) => err,
  );
  assert.instance(e, RpcError);
  const err = e as RpcError;
  const code = err.appCode ?? (err.code === -32602 ? "INVALID_PARAMS" : `number ${err.code}`);
  assert.is(code, expected, err.message);
  const listed = methodOf(doc, method).errors.find((x) => x.message === code);
  assert.ok(
    listed,
    `${method} refused with ${code}, which its errors do not list (${methodOf(doc, method)
      .errors.map((x) => x.message)
      .join(", ")})`,
  );
  assert.is(listed!.code, err.code, `${method} ${code}: the listed number is the one sent`);
}

test("openrpc results - a refused call's code is among its method's errors", async () => {
  const a = adminDocument();
  const m = mailboxDocument();
  await listedRefusal(a, "setAccountDestination", { destination: "nowhere.example.com", priority: 1, accounts: ALICE }, "MAILSTORE_UNKNOWN");
  await listedRefusal(a, "setAccountDestination", { destination: MS2, priority: 1, accounts: ALICE }, "DESTINATION_IS_PRIMARY");
  await listedRefusal(a, "setAccountDestination", { destination: MS2, priority: 1, accounts: "team@example.com" }, "DISTRIBUTION_LIST_UNSUPPORTED");
  await listedRefusal(a, "getAccountStatus", { accounts: "a*@example.com" }, "UNSUPPORTED_ACCOUNT_PATTERN");
  await listedRefusal(a, "verifyReplicas", { accounts: "nobody@example.com" }, "ACCOUNT_UNKNOWN");
  await listedRefusal(a, "pauseReplicas", { accounts: ALICE, destination: MS2 }, "REPLICA_NOT_FOUND");
  await listedRefusal(a, "monitor", { operation_uuid: "0f8fad5b-d9cb-469f-a165-70867728950e" }, "OPERATION_UNKNOWN");
  await listedRefusal(a, "promoteAccounts", { accounts: ALICE, source_mail_host: MS2 }, "INVALID_PARAMS");
  await listedRefusal(a, "test", { servers: "nats://10.9.9.9:4222" }, "PROBE_NOT_CONFIGURED");
  await listedRefusal(a, "getServices", { verbose: true }, "INVALID_PARAMS");
  await listedRefusal(m, "createAccount", { name: ALICE, mailHost: MS2, type: "distributionList" }, "ACCOUNT_EXISTS");
  await listedRefusal(m, "listItems", { account: "nobody@example.com" }, "ACCOUNT_UNKNOWN");
  await listedRefusal(m, "listFolders", { account: "team@example.com" }, "DISTRIBUTION_LIST_UNSUPPORTED");
  await listedRefusal(m, "getItem", { account: ALICE, id: 999_999 }, "ITEM_NOT_FOUND");
  await listedRefusal(m, "createFolder", { account: ALICE, path: "Archive" }, "FOLDER_EXISTS");
  await listedRefusal(m, "deleteFolder", { account: ALICE, path: "Inbox" }, "FOLDER_SYSTEM");
  await listedRefusal(m, "deliverMessage", { account: ALICE, raw: rawMessage(9, ALICE), folder: "Nowhere" }, "FOLDER_NOT_FOUND");
  await listedRefusal(m, "deliverMessage", { account: ALICE }, "INVALID_PARAMS");
  await listedRefusal(m, "setFlags", { account: ALICE, ids: [999_999], flags: [] }, "ITEM_NOT_FOUND");
  await listedRefusal(m, "createFolder", { account: ALICE, path: "X", requestId: "folder-1" }, "REQUEST_ID_REUSED");
});

test.run();
