// What the JSON-RPC fuzzer found, each as the request that failed, asserted: values used as
// storage keys or subjects (`*`, `>`, spaces, control characters) are refused at the param
// layer, and values that reach a log line or the CLI/REPL output stay on one line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rpcCall, RpcError } from "../src/jsonrpc/index.js";
import { printable } from "../src/text/printable.js";
import { formatMonitor } from "../src/cli/admin/format.js";
import { CallError } from "../src/cli/admin/errors.js";
import { formatNotification } from "../src/repl/notifications.js";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";

const HOSTS = ["ms1.example.com", "ms2.example.com"];
let sys: TestSystem;
const logLines: string[] = [];

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: HOSTS, log: (l) => logLines.push(l) });
  await sys.mailbox("createAccount", { name: "keys@example.com", mailHost: "ms1.example.com" });
});
test.after(async () => {
  await sys?.stop();
});

async function refusal(subject: string, method: string, params: Record<string, unknown>): Promise<RpcError> {
  try {
    await rpcCall(sys.nc, subject, method, params, { timeoutMs: 15_000 });
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error(`${method} ${JSON.stringify(params)} was accepted`);
}

test("storage keys - a * in operation_uuid is -32602 naming the param and the form (fuzz: -32603 'invalid key: op.*')", async () => {
  for (const id of ["*", ">", "a b", "x\n[ms1.example.com] forged"]) {
    const e = await refusal("mr.rpc.admin", "monitor", { operation_uuid: id });
    assert.is(e.code, -32602, id);
    assert.match(e.message, /operation_uuid.*UUID/);
    assert.equal(e.data, { param: "operation_uuid" });
  }
});

test("storage keys - a host that is no DNS name is -32602 wherever a host is a param, and nothing changes", async () => {
  const calls: [string, string, Record<string, unknown>, string][] = [
    ["mr.rpc.mailbox", "createAccount", { name: "new@example.com", mailHost: "*" }, "mailHost"],
    ["mr.node.ms1.example.com.mailbox", "createAccount", { name: "new@example.com", mailHost: "a b" }, "mailHost"],
    ["mr.rpc.admin", "setAccountDestination", { destination: ">", priority: 1, accounts: ["keys@example.com"] }, "destination"],
    ["mr.rpc.admin", "removeAccountDestination", { destination: "a b", accounts: ["keys@example.com"] }, "destination"],
    ["mr.rpc.admin", "pauseReplicas", { destination: "ms2.example.com\n" }, "destination"],
    ["mr.rpc.admin", "restartReplicas", { destination: "*.example.com" }, "destination"],
    ["mr.rpc.admin", "promoteAccounts", { source_mail_host: "x\n[ms1.example.com] forged" }, "source_mail_host"],
    ["mr.rpc.admin", "doStopService", { service_name: "module", host: "@example.com" }, "host"],
    ["mr.rpc.admin", "verifyReplicas", { replicaServer: "ms2.example.com." }, "replicaServer"],
    ["mr.rpc.admin", "monitor", { operation_uuid: "0f8fad5b-d9cb-469f-a165-70867728950e", operation_host: "$JS.API.>" }, "operation_host"],
    ["mr.node.ms1.example.com.admin", "promote", { account: "0f8fad5b-d9cb-469f-a165-70867728950e", epoch: 2, from: "ms2 example com" }, "from"],
  ];
  for (const [subject, method, params, param] of calls) {
    const e = await refusal(subject, method, params);
    assert.is(e.code, -32602, `${method} ${JSON.stringify(params)}`);
    assert.equal((e.data as { param?: string }).param, param);
    assert.match(e.message, /DNS host name/);
  }
  assert.is(await sys.supervisor!.directory.find("new@example.com"), undefined);
  const services = (await sys.admin("getServices")).services as { role: string; services?: { module?: { running: boolean } } }[];
  assert.ok(services.filter((s) => s.role === "mailstore").every((s) => s.services?.module?.running !== false));
});

test("storage keys - an account id with > on a mailstore's admin subject is -32602 (fuzz: logHead read mr.tx.> and answered TX_BATCH_INVALID)", async () => {
  for (const method of ["logHead", "resumeWriting", "stopWriting", "accountDigest", "accountDigestRows"]) {
    const e = await refusal("mr.node.ms1.example.com.admin", method, { account: ">" });
    assert.is(e.code, -32602, method);
    assert.equal(e.data, { param: "account" });
    assert.match(e.message, /UUID/);
  }
});

test("storage keys - the directory treats a host or id that cannot be a key as unknown, and refuses to register one", async () => {
  const dir = sys.supervisor!.directory;
  assert.is(await dir.mailstore("*"), undefined);
  assert.is(await dir.mailstore("a b"), undefined);
  assert.is(await dir.byId(">"), undefined);
  assert.is(await dir.find("*"), undefined);
  try {
    await dir.registerMailstore({ host: "evil.*", publicKey: "", registeredAt: 0 });
    assert.unreachable("registered");
  } catch (e) {
    assert.is((e as { code?: string }).code, "INVALID_HOST");
  }
  assert.is(await sys.supervisor!.operations.get("*").catch((e: { code?: string }) => e.code), "OPERATION_UNKNOWN");
});

test("promote - a replica removed while it catches up is REPLICA_UNAVAILABLE, not -32603 (fuzz seed 1: TypeError reading 'status')", async () => {
  const acct = await sys.mailbox("createAccount", { name: "race@example.com", mailHost: "ms1.example.com" });
  const set = await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: ["race@example.com"] });
  await waitFor("the replica on ms2 to be seeded", async () => (await sys.admin("monitor", { operation_uuid: set.operationId })).state === "successful");
  const ms2 = sys.inProcess.get("ms2.example.com")!;
  await waitFor("ms2 to hold the replica", () => ms2.store.replicaState(acct.id)?.status === "available" && ms2.agent.isReplicated(acct.id));
  // The removal lands exactly between the promotion's catch-up and its next look at the copy.
  const agent = ms2.agent as { catchUp(id: string): Promise<unknown> };
  const catchUp = agent.catchUp.bind(agent);
  agent.catchUp = async (id: string) => {
    const r = await catchUp(id);
    agent.catchUp = catchUp;
    await sys.admin("removeAccountDestination", { destination: "ms2.example.com", accounts: ["race@example.com"] });
    await waitFor("ms2 to drop its copy", () => ms2.store.replicaState(id) === undefined);
    return r;
  };
  const e = await refusal("mr.node.ms2.example.com.admin", "promote", { account: acct.id, epoch: 2 });
  assert.is(e.code, -32004, JSON.stringify(e));
  assert.is(e.appCode, "REPLICA_UNAVAILABLE");
  assert.match(e.message, /removed during the promotion/);
  // Nothing moved: ms1 is still the primary and takes writes.
  assert.is((await sys.supervisor!.directory.get(acct.id)).value.mailHost, "ms1.example.com");
  await sys.mailbox("createFolder", { account: "race@example.com", path: "After" });
});

test("storage keys - a very long account name is refused or unknown, and no lookup makes nats-server drop a connection (fuzz: 'maximum control line exceeded')", async () => {
  for (const name of ["a.".repeat(1_100), "🙂".repeat(700)]) {
    for (const method of ["getAccountStatus", "verifyReplicas", "pauseReplicas", "promoteAccounts"]) {
      const e = await refusal("mr.rpc.admin", method, { accounts: [name] });
      assert.is(e.code, -32602, method);
      assert.equal(e.data, { param: "accounts" });
    }
  }
  // The longest name the mailbox methods take, in 3-byte characters: looked up, unknown.
  const e = await refusal("mr.rpc.mailbox", "listFolders", { account: "漢".repeat(320) });
  assert.is(e.appCode, "ACCOUNT_UNKNOWN");
  assert.is(await sys.supervisor!.directory.find("é".repeat(5_000)), undefined);
  assert.not.match(sys.nats.log, /maximum control line exceeded/);
  assert.ok((await sys.admin("getServices")).services.length > 0);
});

test("directory records - a record that is not one (garbage put into acct.<id>) neither crashes a mailstore's watch nor becomes -32603: lookups say DIRECTORY_RECORD_INVALID, later records still arrive", async () => {
  const id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  const kv = sys.supervisor!.directory.kv;
  await kv.put(`acct.${id}`, "x");
  await kv.put(`acct.${id.replace("0f8f", "1f8f")}`, JSON.stringify({ id: 1, name: [] }));
  const e = await refusal("mr.rpc.admin", "getAccountStatus", { accounts: id });
  assert.is(e.code, -32054, e.message);
  assert.match(e.message, `acct.${id}`);
  // The watch goes on: an account created afterwards reaches its primary's cache and serves.
  await sys.mailbox("createAccount", { name: "after-garbage@example.com", mailHost: "ms2.example.com" });
  const items = await sys.mailbox("listItems", { account: "after-garbage@example.com" });
  assert.equal(items.items, []);
  await waitFor("the skipped record logged", () => logLines.some((l) => l.includes(`directory record acct.${id} is not an account record`)));
  await kv.delete(`acct.${id}`);
  await kv.delete(`acct.${id.replace("0f8f", "1f8f")}`);
});

test("log lines - a request value with a newline stays on its line (a forged log line is escaped)", () => {
  const node = sys.inProcess.get("ms1.example.com")!;
  const before = logLines.length;
  const forged = "x\n[ms1.example.com] mailstore ms1.example.com started\r\u2028\u001b[2K\u007f";
  node.log.info({ account: forged }, "account seen");
  sys.supervisor!.log.info({ operationId: "y\n[supervisor sup1] forged" }, "operation seen");
  const added = logLines.slice(before);
  assert.is(added.length, 2);
  for (const l of added) assert.not.match(l, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
  // The value is a JSON string field: one line, and read back unchanged.
  assert.is((JSON.parse(added[0]!) as { account: string }).account, forged);
  assert.is((JSON.parse(added[1]!) as { msg: string }).msg, "operation seen");
});

test("printable - every control character and line separator is escaped, the rest kept", () => {
  assert.is(printable("a\nb\rc\td\u0000e\u001bf\u007fg\u0085h\u2028i\u2029j"), "a\\nb\\rc\\td\\x00e\\x1bf\\x7fg\\x85h\\u2028i\\u2029j");
  assert.is(printable("é漢字🙂 * > ."), "é漢字🙂 * > .");
});

test("monitor output - values in an operation's results cannot forge lines", () => {
  const lines = formatMonitor({
    operationId: "0f8fad5b-d9cb-469f-a165-70867728950e",
    state: "failed",
    total: 1,
    done: 0,
    failed: 1,
    "key\nforged": "v\r\nforged",
    results: [{ account: "a@x\n[supervisor sup1] forged", ok: false, message: "no\nway", code: "X\nY" }],
  });
  for (const l of lines) assert.not.match(l, /[\u0000-\u001f]/, l);
  assert.ok(
    lines.some((l) => l.includes("a@x\\n[supervisor sup1] forged  failed: no\\nway [X\\nY]")),
    lines.join("|"),
  );
});

test("cli and repl output - an error message and a notification that quote a sent value stay on one line", () => {
  assert.is(new CallError("no operation x\n[ms1] forged", "OPERATION_UNKNOWN", -32018).line, "no operation x\\n[ms1] forged [OPERATION_UNKNOWN]");
  // formatNotification keeps the text; the watcher prints it through printable().
  assert.not.match(printable(formatNotification("mr.notify.x", '{"kind":"k\\nforged","summary":"s\\r\\nforged"}')), /[\r\n]/);
});

test.run();
