// Bounded requests (issue 9, part 6): account lists longer than limits.maxAccountsPerRequest,
// getAccountStatus reading more than limits.maxStatusAccounts accounts, and expensive
// requests beyond limits.maxConcurrentExpensive are each refused with their code, the limit
// and what to do, and change nothing. SQLite files are 0600, logs 0640, data folders 0700.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { refused } from "./helpers/refused.js";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { rpcCall } from "../src/jsonrpc/index.js";
import { probeGate } from "../actors/mailstore/node_service_methods.js";
import { ManagedProcess } from "../src/dev/managed_process.js";
import { TestSystem } from "./helpers/system.js";
import { tempDir, waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const names = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `r${from + i}@example.com`);

let sys: TestSystem;

async function replicated(): Promise<string[]> {
  return (await sys.supervisor!.directory.listAccounts()).filter((r) => r.replicas.length > 0).map((r) => r.name);
}

test.before(async () => {
  sys = await TestSystem.start({
    hosts: [MS1, MS2],
    config: (c) => {
      c.limits.maxAccountsPerRequest = 5;
      c.limits.maxStatusAccounts = 3;
      c.limits.maxConcurrentExpensive = 1;
    },
  });
  for (const h of sys.hosts) await sys.startMailstore(h);
  await sys.startSupervisor();
  for (const n of names(0, 8)) await sys.mailbox("createAccount", { name: n, mailHost: MS1 });
});

test.after(async () => {
  await sys?.stop();
});

test("limits - an account list longer than limits.maxAccountsPerRequest is refused on every admin method and changes nothing", async () => {
  const six = names(0, 6);
  const e = await refused(sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: six }), "REQUEST_TOO_LARGE");
  assert.match(e.message, /accounts names 6 entries, more than limits\.maxAccountsPerRequest \(5\)/);
  assert.match(e.message, /split it into requests of at most 5/);
  assert.equal(await replicated(), [], "nothing was changed");
  // The comma-separated form counts the same.
  await refused(sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: six.join(",") }), "REQUEST_TOO_LARGE");
  for (const [method, params] of [
    ["promoteAccounts", { accounts: six }],
    ["getAccountStatus", { accounts: six }],
    ["verifyReplicas", { accounts: six }],
    ["removeAccountDestination", { destination: MS2, accounts: six }],
    ["pauseReplicas", { accounts: six }],
    ["restartReplicas", { accounts: six }],
  ] as const) {
    const r = await refused(sys.admin(method, params), "REQUEST_TOO_LARGE");
    assert.match(r.message, new RegExp(`^${method}: accounts names 6 entries`));
  }
  // Five is allowed.
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: names(0, 5) });
  assert.equal(await replicated(), names(0, 5));
});

test("limits - getAccountStatus reading more than limits.maxStatusAccounts accounts is refused; a narrower call answers", async () => {
  const wide = await refused(sys.admin("getAccountStatus", {}), "REQUEST_TOO_LARGE");
  assert.match(wide.message, /would read 5 accounts from the mailstores, more than limits\.maxStatusAccounts \(3\)/);
  assert.match(wide.message, /narrow it with accounts, mailHost, replicaServer or domains/);
  await refused(sys.admin("getAccountStatus", { accounts: names(0, 4) }), "REQUEST_TOO_LARGE");
  const narrow = await sys.admin("getAccountStatus", { accounts: names(0, 3) });
  assert.is(narrow.total, 3);
});

test("limits - expensive requests beyond limits.maxConcurrentExpensive are refused BUSY and change nothing", async () => {
  const sup = sys.supervisor!;
  const before = (await sup.directory.find(names(0, 1)[0]!))!.value.replicas[0]!.generation;
  // One expensive request is running: held open until the test lets it end.
  let release!: () => void;
  const running = sup.expensive.run("a running verifyReplicas", () => new Promise<void>((r) => (release = r)));
  assert.is(sup.expensive.active, 1);
  for (const [method, params] of [
    ["restartReplicas", { accounts: names(0, 1) }],
    ["verifyReplicas", { accounts: names(0, 1) }],
    ["getAccountStatus", { accounts: names(0, 1) }],
    ["test", {}],
  ] as const) {
    const e = await refused(sys.admin(method, params), "BUSY");
    assert.match(e.message, /limits\.maxConcurrentExpensive = 1/);
    assert.match(e.message, /retry after they end/);
  }
  assert.is((await sup.directory.find(names(0, 1)[0]!))!.value.replicas[0]!.generation, before, "restartReplicas changed nothing");
  // Cheap methods are not gated.
  assert.is((await sys.admin("getLicenseInfo")).accountsEnabled, 5);
  release();
  await running;
  assert.is(sup.expensive.active, 0);
  const r = await sys.admin("restartReplicas", { accounts: names(0, 1) });
  assert.is(r.replicas[0].generation, before + 1);
});

test("limits - a mailstore runs at most limits.maxConcurrentExpensive NATS probes at once; one more is refused BUSY", async () => {
  const gate = probeGate(sys.inProcess.get(MS1)!);
  let release!: () => void;
  const running = gate.run("a running probe", () => new Promise<void>((r) => (release = r)));
  const e = await refused(rpcCall(sys.nc, `mr.node.${MS1}.admin`, "probeNats", {}), "BUSY");
  assert.match(e.message, /probeNats was not started/);
  release();
  await running;
  const r = await rpcCall<{ probes: Array<{ ok: boolean }> }>(sys.nc, `mr.node.${MS1}.admin`, "probeNats", {});
  assert.ok(r.probes.every((p) => p.ok));
});

test("file modes - metadata.sqlite and its -wal/-shm are 0600, the data folder 0700", async () => {
  await sys.mailbox("deliverMessage", { account: names(0, 1)[0], raw: "Subject: x\r\n\r\nbody\r\n" });
  for (const host of [MS1, MS2]) {
    const dir = sys.dataDir(host);
    assert.is(statSync(dir).mode & 0o777, 0o700, `${dir}`);
    const db = join(dir, "metadata.sqlite");
    await waitFor(`${host} has its -wal and -shm files`, () => existsSync(`${db}-wal`) && existsSync(`${db}-shm`));
    for (const f of [db, `${db}-wal`, `${db}-shm`]) assert.is(statSync(f).mode & 0o777, 0o600, f);
  }
});

test("file modes - a dev process's log file is 0640", async () => {
  const dir = tempDir("mr-logmode-");
  const logFile = join(dir, "p.log");
  const p = ManagedProcess.start({ name: "echo", command: process.execPath, args: ["-e", "console.log('hello')"], logFile });
  await p.exited;
  assert.is(statSync(logFile).mode & 0o777, 0o640);
});

test.run();
