// The admin commands on the command line against a real nats-server and a small JSON-RPC
// peer serving mr.rpc.admin (and mr.rpc.mailbox for `call`): params, output, exit codes.
import { recordingMethod } from "./helpers/rpc_peer.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AppError, methodTable, serveJsonRpc, type JsonRpcService, type NatsRpcContext, type RpcMethod } from "../src/jsonrpc/index.js";
import { runCliWithEnv, type CliRun } from "./helpers/cli_capture.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { freePort, tempDir } from "./helpers/processes.js";

let server: NatsNode;
let nc: NatsConnection;
let services: JsonRpcService[] = [];
/** What the peer received, per method, in order. */
const received: Array<{ method: string; params: unknown }> = [];

const STATUS = {
  accounts: [
    {
      accountId: "9e94f5e0-8e0d-4f61-93aa-00747ac3dba6",
      accountName: "john.doe@example.com",
      accountMailHost: "mailstore1.example.com",
      paused: false,
      mailboxId: 3,
      epoch: 2,
      sequence: 120,
      itemId: 57,
      replicas: [
        {
          accountId: "9e94f5e0-8e0d-4f61-93aa-00747ac3dba6",
          destination: "mailstore2.example.com",
          priority: 10,
          available: true,
          status: "available",
          sequence: 120,
          itemId: 57,
          mailboxId: 4,
          canConnectToNats: true,
          lagEvents: 0,
          lagMs: 0,
          lastAppliedAt: 1_783_000_000_000,
          error: null,
        },
        {
          accountId: "9e94f5e0-8e0d-4f61-93aa-00747ac3dba6",
          destination: "mailstore3.example.com",
          priority: 20,
          available: false,
          status: "unavailable",
          sequence: 100,
          itemId: 50,
          mailboxId: 9,
          canConnectToNats: true,
          lagEvents: 20,
          lagMs: 4000,
          lastAppliedAt: null,
          error: "signature check failed",
        },
      ],
    },
    {
      accountId: "0b6bb3b6-2a3c-4f0e-9d55-2c1f4a0e9e11",
      accountName: "jane.doe@example.com",
      accountMailHost: "mailstore2.example.com",
      paused: true,
      mailboxId: 5,
      epoch: 1,
      sequence: 7,
      itemId: 3,
      replicas: [],
    },
  ],
  total: 2,
};

/** Final state of the operation a setAccountDestination to this destination starts ("removed": the peer forgets it). */
const FINAL_BY_DESTINATION: Record<string, string> = {
  "ok.example.com": "successful",
  "fail.example.com": "failed",
  "stop.example.com": "stopped",
  "gone.example.com": "removed",
  "int.example.com": "interrupted",
};
/** operationId -> [final state, monitor calls so far] */
const operations = new Map<string, { final: string; polls: number }>();

const method = (name: string, call: (p: Record<string, unknown>) => unknown): RpcMethod<NatsRpcContext> => recordingMethod(received, name, call);

const adminPeer = methodTable<NatsRpcContext>([
  method("getAccountStatus", () => STATUS),
  method("echo", (p) => p),
  method("setAccountDestination", (p) => {
    const operationId = randomUUID();
    operations.set(operationId, { final: FINAL_BY_DESTINATION[String(p.destination)] ?? "successful", polls: 0 });
    return { operationId, accounts: (p.accounts as string[]).map((a) => ({ account: a, destination: p.destination, status: "initializing" })) };
  }),
  method("promoteAccounts", (p) => {
    if ((p.accounts as string[] | undefined)?.includes("nobody@example.com")) {
      throw new AppError("ACCOUNT_UNKNOWN", "unknown account: nobody@example.com; nothing was changed", { accounts: ["nobody@example.com"] });
    }
    return { operationId: randomUUID(), promoted: [], failed: [] };
  }),
  method("getServices", () => ({
    services: [
      {
        host: "mailstore1.example.com",
        role: "mailstore",
        alive: true,
        version: "0.1.0",
        pid: 42,
        startedAt: 1_783_000_000_000,
        services: { module: { running: true, could_start: false, could_stop: true } },
      },
    ],
  })),
  method("monitor", (p) => {
    const op = operations.get(String(p.operation_uuid));
    if (!op) throw new AppError("OPERATION_UNKNOWN", `no operation ${String(p.operation_uuid)}`);
    op.polls++;
    // Two answers "running", then the final state (or gone, for "removed").
    if (op.polls <= 2) return { operationId: p.operation_uuid, state: "running", total: 4, done: op.polls, failed: 0 };
    if (op.final === "removed") {
      operations.delete(String(p.operation_uuid));
      throw new AppError("OPERATION_UNKNOWN", `no operation ${String(p.operation_uuid)}`);
    }
    return {
      operationId: p.operation_uuid,
      state: op.final,
      total: 4,
      done: op.final === "successful" ? 4 : 3,
      failed: op.final === "failed" ? 1 : 0,
      results: [{ account: "a@example.com", ok: true }],
    };
  }),
]);

const mailboxPeer = methodTable<NatsRpcContext>([
  method("deliverMessage", (p) => ({ itemId: 257, folder: p.folder ?? "Inbox", size: String(p.raw).length, blob: "ab".repeat(32) })),
  method("listItems", (p) => ({ items: [], total: 0, echo: p })),
]);

const cli = (argv: string[], env: NodeJS.ProcessEnv = { MR_SERVERS: server.url }, cwd = tempDir("mr-admin-cwd-")): Promise<CliRun> =>
  runCliWithEnv(argv, env, cwd);

function lastParams(name: string): unknown {
  return [...received].reverse().find((r) => r.method === name)?.params;
}

test.before(async () => {
  server = await startNatsServer("admin-cli");
  nc = await connect({ servers: server.url });
  services = [serveJsonRpc(nc, "mr.rpc.admin", adminPeer), serveJsonRpc(nc, "mr.rpc.mailbox", mailboxPeer)];
  await nc.flush();
});

test.after(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await nc?.close();
  await server?.stop();
});

test("admin_cli - wrong params are refused with exit 2 before anything is called", async () => {
  const before = received.length;
  const cases: Array<[string[], string]> = [
    [["setAccountDestination", "mailstore2.example.com", "10", "acounts", "a@example.com"], "unknown param 'acounts' (did you mean 'accounts'?)"],
    [["setAccountDestination", "mailstore2.example.com"], "missing mandatory param 'priority'"],
    [
      ["setAccountDestination", "mailstore2.example.com", "ten", "accounts", "a@example.com"],
      `param 'priority' must be an integer from 0 to 1000000, got "ten"`,
    ],
    [["setAccountDestination", "mailstore2.example.com", "10"], "needs the accounts to replicate"],
    [["setAccountDestination", "mailstore2.example.com", "10", "input_file", "/nonexistent/accounts"], "does not exist"],
    [["promoteAccounts", "accounts", "john*@example.com"], "wildcard"],
    [["promoteAccounts", "accounts", "a@example.com", "source_mail_host", "mailstore1.example.com"], "not both"],
    [["promoteAccounts", "threads", "0"], "an integer from 1 to 64"],
    [["getAccountStatus", "accountStatus", "sleeping"], "must be one of active, paused"],
    [["monitor", "not-a-uuid"], "a UUID"],
    [["doStopService", "kafka"], "one of module"],
    [["test", "servers", "http://x"], "NATS endpoints"],
  ];
  for (const [argv, text] of cases) {
    const r = await cli(argv);
    assert.is(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assert.ok(r.err.includes(text), `${argv.join(" ")}: expected '${text}' in: ${r.err}`);
    assert.ok(r.err.includes(`mailreplica help ${argv[0]}`), r.err);
  }
  assert.is(received.length, before, "a refused command line reached the server");
});

test("admin_cli - setAccountDestination reads input_file and sends destination, priority and accounts", async () => {
  const dir = tempDir("mr-admin-input-");
  writeFileSync(join(dir, "accounts"), "# for mailstore3\nu0@example.com\n\nu1@example.com\n");
  const r = await cli(["setAccountDestination", "ok.example.com", "20", "input_file", "accounts"], { MR_SERVERS: server.url }, dir);
  assert.is(r.code, 0, r.err);
  assert.equal(lastParams("setAccountDestination"), { destination: "ok.example.com", priority: 20, accounts: ["u0@example.com", "u1@example.com"] });
  assert.match(r.out, /operation [0-9a-f-]{36} started; follow it with 'mailreplica monitor [0-9a-f-]{36}'/);
  const list = await cli(["setAccountDestination", "ok.example.com", "10", "accounts", "a@example.com,b@example.com", "--json"]);
  assert.is(list.code, 0, list.err);
  const json = JSON.parse(list.out) as { operationId: string; accounts: unknown[] };
  assert.match(json.operationId, /^[0-9a-f-]{36}$/);
  assert.is(json.accounts.length, 2);
  assert.equal(lastParams("setAccountDestination"), { destination: "ok.example.com", priority: 10, accounts: ["a@example.com", "b@example.com"] });
});

test("admin_cli - getAccountStatus: bare list, all, filters; readable blocks and --json", async () => {
  const human = await cli(["getAccountStatus", "john.doe@example.com,jane.doe@example.com"]);
  assert.is(human.code, 0, human.err);
  assert.equal(lastParams("getAccountStatus"), { accounts: ["john.doe@example.com", "jane.doe@example.com"] });
  const lines = human.out.split("\n");
  assert.is(lines[0], "john.doe@example.com");
  assert.ok(lines.includes("    accountMailHost  mailstore1.example.com"), human.out);
  assert.ok(lines.includes("        mailstore2.example.com (priority 10)"), human.out);
  assert.ok(lines.includes("            lastAppliedAt     2026-07-02T13:46:40.000Z"), human.out);
  assert.ok(lines.includes("            error             signature check failed"), human.out);
  assert.ok(lines.includes("    replicas  (none)"), human.out);
  assert.is(lines[lines.length - 1], "2 accounts");

  assert.is((await cli(["getAccountStatus", "all"])).code, 0);
  assert.equal(lastParams("getAccountStatus"), {});
  assert.is((await cli(["getAccountStatus", "mailHost", "mailstore1.example.com", "replicaStatus", "unavailable"])).code, 0);
  assert.equal(lastParams("getAccountStatus"), { mailHost: ["mailstore1.example.com"], replicaStatus: "unavailable" });

  const json = await cli(["--json", "getAccountStatus"]);
  assert.is(json.code, 0, json.err);
  assert.equal(JSON.parse(json.out), STATUS);
});

test("admin_cli - a JSON-RPC error prints 'mailreplica: <message> [<data.code>]' and exits 1", async () => {
  const r = await cli(["promoteAccounts", "accounts", "nobody@example.com"]);
  assert.is(r.code, 1);
  assert.is(r.err, "mailreplica: unknown account: nobody@example.com; nothing was changed [ACCOUNT_UNKNOWN]");
  assert.is(r.out, "");
  const json = await cli(["promoteAccounts", "accounts", "nobody@example.com", "--json"]);
  assert.is(json.code, 1);
  assert.equal(JSON.parse(json.err), {
    error: {
      code: "ACCOUNT_UNKNOWN",
      message: "unknown account: nobody@example.com; nothing was changed",
      rpcCode: -32001,
      data: { accounts: ["nobody@example.com"], code: "ACCOUNT_UNKNOWN" },
    },
  });
  // A method the server does not have yet: shown as the server said it, with the method's name.
  const missing = await cli(["getLicenseInfo"]);
  assert.is(missing.code, 1);
  assert.is(missing.err, "mailreplica: Method not found: the supervisor does not have 'getLicenseInfo' [METHOD_NOT_FOUND]");
});

test("admin_cli - --sync waits on monitor and exits 0 successful, 1 failed, 2 stopped, 3 removed, 4 interrupted", async () => {
  const expected: Array<[string, number]> = [
    ["ok.example.com", 0],
    ["fail.example.com", 1],
    ["stop.example.com", 2],
    ["gone.example.com", 3],
    ["int.example.com", 4],
  ];
  await Promise.all(
    expected.map(async ([destination, code]) => {
      const r = await cli(["--sync", "setAccountDestination", destination, "10", "accounts", "a@example.com"]);
      assert.is(r.code, code, `${destination}: ${r.out}\n${r.err}`);
      if (destination === "gone.example.com") assert.ok(r.err.includes("no longer knows operation"), r.err);
      else assert.match(r.out, new RegExp(`operation [0-9a-f-]{36}: ${FINAL_BY_DESTINATION[destination]}, `));
    }),
  );
});

test("admin_cli - --progress prints progress lines; with --json they go to stderr and stdout is the final JSON", async () => {
  const r = await cli(["setAccountDestination", "ok.example.com", "10", "accounts", "a@example.com", "--progress"]);
  assert.is(r.code, 0, r.err);
  assert.ok(r.out.includes("[#####---------------]  25% 1/4 done, 0 failed (running)"), r.out);
  assert.ok(r.out.includes("[####################] 100% 4/4 done, 0 failed (successful)"), r.out);
  const j = await cli(["setAccountDestination", "fail.example.com", "10", "accounts", "a@example.com", "--progress", "--json"]);
  assert.is(j.code, 1);
  assert.equal((JSON.parse(j.out) as { state: string }).state, "failed");
  assert.ok(j.err.includes("(running)") && j.err.includes("(failed)"), j.err);
});

test("admin_cli - monitor shows an operation; getServices is one line per service", async () => {
  const start = await cli(["--json", "setAccountDestination", "ok.example.com", "10", "accounts", "a@example.com"]);
  const id = (JSON.parse(start.out) as { operationId: string }).operationId;
  const m = await cli(["monitor", id]);
  assert.is(m.code, 0, m.err);
  assert.is(m.out, `operation ${id}: running, 1/4 done, 0 failed`);
  assert.equal(lastParams("monitor"), { operation_uuid: id });
  const s = await cli(["getServices"]);
  assert.is(s.code, 0, s.err);
  assert.is(s.out, "mailstore  mailstore1.example.com  alive  module running  v0.1.0  pid 42  since 2026-07-02T13:46:40.000Z");
});

test("admin_cli - NO_RESPONDER says the supervisor is not running and how to start it", async () => {
  const empty = await startNatsServer("admin-cli-empty");
  try {
    const r = await cli(["getAccountStatus"], { MR_SERVERS: empty.url });
    assert.is(r.code, 1);
    assert.ok(r.err.startsWith("mailreplica: the supervisor is not running"), r.err);
    assert.ok(r.err.includes("mailreplica supervisor") && r.err.includes("npm start") && r.err.endsWith("[NO_RESPONDER]"), r.err);
    const mailbox = await cli(["call", "mailbox", "listFolders", "account", "a@example.com"], { MR_SERVERS: empty.url });
    assert.is(mailbox.code, 1);
    assert.ok(mailbox.err.includes("no mailstore is running") && mailbox.err.endsWith("[NO_RESPONDER]"), mailbox.err);
  } finally {
    await empty.stop();
  }
  const down = await cli(["getServices"], { MR_SERVERS: `nats://127.0.0.1:${await freePort()}` });
  assert.is(down.code, 1);
  assert.ok(down.err.includes("cannot connect to NATS") && down.err.endsWith("[NATS_UNREACHABLE]"), down.err);
});

test("admin_cli - call sends JSON params or typed name value pairs and prints the JSON result", async () => {
  const j = await cli(["call", "mailbox", "deliverMessage", '{"account":"a@example.com","raw":"Subject: hi\\n\\nbody"}']);
  assert.is(j.code, 0, j.err);
  assert.equal(JSON.parse(j.out), { itemId: 257, folder: "Inbox", size: 17, blob: "ab".repeat(32) });
  assert.equal(lastParams("deliverMessage"), { account: "a@example.com", raw: "Subject: hi\n\nbody" });
  const typed = await cli(["call", "mailbox", "listItems", "account", "a@example.com", "limit", "10", "folder", "Inbox"]);
  assert.is(typed.code, 0, typed.err);
  assert.equal(lastParams("listItems"), { account: "a@example.com", limit: 10, folder: "Inbox" });
  const admin = await cli([
    "call",
    "admin",
    "setAccountDestination",
    "destination",
    "ok.example.com",
    "priority",
    "5",
    "accounts",
    "a@example.com,b@example.com",
  ]);
  assert.is(admin.code, 0, admin.err);
  assert.equal(lastParams("setAccountDestination"), { destination: "ok.example.com", priority: 5, accounts: ["a@example.com", "b@example.com"] });
  // A method the CLI does not know: values that read as JSON literals are sent as such.
  const echo = await cli(["call", "admin", "echo", "n", "3", "flag", "true", "name", "x", "ids", "[1,2]"]);
  assert.is(echo.code, 0, echo.err);
  assert.equal(JSON.parse(echo.out), { n: 3, flag: true, name: "x", ids: [1, 2] });
  const unknown = await cli(["call", "admin", "frob"]);
  assert.is(unknown.code, 1);
  assert.ok(unknown.err.includes("[METHOD_NOT_FOUND]"), unknown.err);
  const bad = await cli(["call", "mailbox", "listItems", "acount", "a@example.com"]);
  assert.is(bad.code, 2);
  assert.ok(bad.err.includes("unknown param 'acount' (did you mean 'account'?)"), bad.err);
  assert.is((await cli(["call", "nowhere", "x"])).code, 2);
  assert.ok((await cli(["call", "mailbox", "getItem", "account", "a@example.com", "id", "x"])).err.includes("must be an integer"));
});

test.run();
