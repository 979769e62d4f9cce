// Every refusal the methods document (docs/jsonrpc.md) and each JSON-RPC error case: the right code, nothing changed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RpcError } from "../src/jsonrpc/index.js";
import { TestSystem, rawMessage } from "./helpers/system.js";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: ["ms1.example.com", "ms2.example.com"], config: (c) => (c.licence.defaultQuota = 2) });
  await sys.mailbox("createAccount", { name: "bob@example.com", mailHost: "ms1.example.com" });
  await sys.mailbox("createAccount", { name: "carol@example.com", mailHost: "ms1.example.com" });
  await sys.mailbox("createAccount", { name: "dave@example.com", mailHost: "ms1.example.com" });
  await sys.mailbox("createAccount", { name: "team@example.com", mailHost: "ms1.example.com", type: "distributionList" });
  await sys.mailbox("deliverMessage", { account: "bob@example.com", raw: rawMessage(1) });
});
test.after(async () => {
  await sys?.stop();
});

/** The whole directory and ms1's rows of bob, to prove a refusal changed nothing. */
async function snapshot(): Promise<string> {
  const d = sys.inProcess.get("ms1.example.com")!.directory;
  const accounts = await d.listAccounts();
  const bob = accounts.find((a) => a.name === "bob@example.com")!;
  return JSON.stringify({ accounts, bob: sys.inProcess.get("ms1.example.com")!.store.dumpAccount(bob.id) });
}

async function refused(call: () => Promise<unknown>, rpcCode: number, appCode?: string): Promise<RpcError> {
  const before = await snapshot();
  const err = await call().then(
    (v) => assert.unreachable(`expected error ${appCode ?? rpcCode}, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  assert.instance(err, RpcError);
  const e = err as RpcError;
  assert.is(e.code, rpcCode, `${e.code} ${e.message}`);
  if (appCode) assert.is(e.appCode, appCode);
  assert.ok(e.message.length > 20, "the message says what to do");
  assert.is(await snapshot(), before, "nothing changed");
  return e;
}

test("refusals - setAccountDestination refuses wildcards, lists, unknowns, the primary, bad priorities and the quota", async () => {
  const set = (p: Record<string, unknown>) => sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, ...p });
  await refused(() => set({ accounts: ["bob*@example.com"] }), -32006, "UNSUPPORTED_ACCOUNT_PATTERN");
  await refused(() => set({ accounts: "?ob@example.com" }), -32006, "UNSUPPORTED_ACCOUNT_PATTERN");
  await refused(() => set({ accounts: ["team@example.com"] }), -32007, "DISTRIBUTION_LIST_UNSUPPORTED");
  const unknown = await refused(() => set({ accounts: ["bob@example.com", "nobody@example.com"] }), -32001, "ACCOUNT_UNKNOWN");
  assert.ok(unknown.message.includes("nobody@example.com"));
  await refused(() => set({ destination: "ms9.example.com", accounts: ["bob@example.com"] }), -32008, "MAILSTORE_UNKNOWN");
  await refused(() => set({ destination: "ms1.example.com", accounts: ["bob@example.com"] }), -32009, "DESTINATION_IS_PRIMARY");
  await refused(() => set({ priority: "10", accounts: ["bob@example.com"] }), -32602);
  await refused(() => set({ priority: 1.5, accounts: ["bob@example.com"] }), -32602);
  await refused(() => set({ accounts: [] }), -32602);
  await refused(() => set({ accounts: ["bob@example.com", "carol@example.com", "dave@example.com"] }), -32005, "LICENCE_EXCEEDED");
  // Within the quota it is accepted.
  const ok = await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: ["bob@example.com"] });
  assert.type(ok.operationId, "string");
});

test("refusals - getAccountStatus and monitor refuse bad filters and unknown operations", async () => {
  await refused(() => sys.admin("getAccountStatus", { replicaStatus: "sleeping" }), -32602);
  await refused(() => sys.admin("getAccountStatus", { accounts: "x*@example.com" }), -32006, "UNSUPPORTED_ACCOUNT_PATTERN");
  await refused(() => sys.admin("getAccountStatus", { colour: "red" }), -32602);
  await refused(() => sys.admin("monitor", { operation_uuid: "00000000-0000-4000-8000-000000000000" }), -32018, "OPERATION_UNKNOWN");
});

test("refusals - mailbox methods refuse unknown accounts, folders, items and bad params", async () => {
  const mb = (m: string, p: Record<string, unknown>) => sys.mailbox(m, p);
  await refused(() => mb("deliverMessage", { account: "nobody@example.com", raw: rawMessage(2) }), -32001, "ACCOUNT_UNKNOWN");
  await refused(() => mb("deliverMessage", { account: "bob@example.com", raw: "no headers here" }), -32024, "INVALID_MESSAGE");
  await refused(() => mb("deliverMessage", { account: "bob@example.com", raw: rawMessage(3), folder: "Nope" }), -32011, "FOLDER_NOT_FOUND");
  await refused(() => mb("deliverMessage", { account: "bob@example.com", raw: rawMessage(3), flags: ["not a flag!"] }), -32016, "INVALID_FLAG");
  await refused(() => mb("setFlags", { account: "bob@example.com", ids: [99999], flags: ["seen"] }), -32015, "ITEM_NOT_FOUND");
  await refused(() => mb("moveItems", { account: "bob@example.com", ids: [257], folder: "Nope/Deeper" }), -32011, "FOLDER_NOT_FOUND");
  await refused(() => mb("renameFolder", { account: "bob@example.com", path: "Inbox", newPath: "Outbox" }), -32013, "FOLDER_SYSTEM");
  await refused(() => mb("createFolder", { account: "bob@example.com", path: "a//b" }), -32017, "INVALID_FOLDER_PATH");
  await refused(() => mb("createFolder", { account: "bob@example.com", path: "Inbox" }), -32012, "FOLDER_EXISTS");
  await refused(() => mb("getItem", { account: "bob@example.com", id: 424242 }), -32015, "ITEM_NOT_FOUND");
  await refused(() => mb("listItems", { account: "bob@example.com", limit: 0 }), -32602);
  await refused(() => mb("deleteItems", { account: "bob@example.com", ids: "257" }), -32602);
  await refused(() => mb("deliverMessage", { account: "team@example.com", raw: rawMessage(4) }), -32007, "DISTRIBUTION_LIST_UNSUPPORTED");
  // The same name with the same mailHost and type is a retry (the same account); another type is not.
  await refused(() => mb("createAccount", { name: "bob@example.com", mailHost: "ms1.example.com", type: "distributionList" }), -32010, "ACCOUNT_EXISTS");
  await refused(() => mb("createAccount", { name: "eve@example.com", mailHost: "ms7.example.com" }), -32008, "MAILSTORE_UNKNOWN");
  await refused(() => mb("createAccount", { name: "not-an-address", mailHost: "ms1.example.com" }), -32602);
  await refused(() => mb("createAccount", { name: "e*e@example.com", mailHost: "ms1.example.com" }), -32006, "UNSUPPORTED_ACCOUNT_PATTERN");
});

test("refusals - the JSON-RPC protocol errors on both subjects", async () => {
  for (const subject of ["mr.rpc.admin", "mr.rpc.mailbox"]) {
    const raw = async (payload: string) => JSON.parse(new TextDecoder().decode((await sys.nc.request(subject, payload, { timeout: 5_000 })).data));
    assert.equal((await raw("{not json")).error.code, -32700);
    assert.is((await raw("{not json")).id, null);
    assert.equal((await raw(JSON.stringify({ jsonrpc: "1.0", method: "x", id: 1 }))).error.code, -32600);
    assert.equal((await raw(JSON.stringify({ jsonrpc: "2.0", method: "frobnicate", id: 2 }))).error.code, -32601);
    assert.equal(
      (await raw(JSON.stringify({ jsonrpc: "2.0", method: "getItem", params: [1, 2], id: 3 }))).error.code,
      subject === "mr.rpc.admin" ? -32601 : -32602,
    );
    assert.equal((await raw("[]")).error.code, -32600);
    const batch = await raw(JSON.stringify([{ jsonrpc: "2.0", method: "frobnicate", id: 4 }, { jsonrpc: "2.0", method: "frobnicate" }, 5]));
    assert.is(batch.length, 2, "the notification gets no response, the invalid element does");
    assert.equal(batch.map((r: { error: { code: number } }) => r.error.code).sort(), [-32601, -32600].sort());
  }
});

test.run();
