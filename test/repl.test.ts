// The REPL: the line splitter, notification lines, and `mailreplica repl` as a process fed
// on stdin (not a TTY) against a real nats-server and a JSON-RPC peer.
import { recordingMethod } from "./helpers/rpc_peer.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { AppError, methodTable, serveJsonRpc, type JsonRpcService, type NatsRpcContext, type RpcMethod } from "../src/jsonrpc/index.js";
import { formatNotification, ReplSyntaxError, splitHead, tokenize } from "../src/repl/index.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { exited, spawnCli, waitFor } from "./helpers/processes.js";
import { startReplChild, type ReplChild } from "./helpers/cli_capture.js";

test("repl - tokenize splits like a shell: quotes, escapes, empty words", () => {
  assert.equal(tokenize("  getAccountStatus   a@x.com,b@x.com  "), ["getAccountStatus", "a@x.com,b@x.com"]);
  assert.equal(tokenize(`deliverMessage account a@x.com raw "Subject: hi\\n\\nbody \\"quoted\\"" flags ''`), [
    "deliverMessage",
    "account",
    "a@x.com",
    "raw",
    'Subject: hi\n\nbody "quoted"',
    "flags",
    "",
  ]);
  assert.equal(tokenize(`createFolder account 'a@x.com' path 'My Folder/2026' x\\ y`), ["createFolder", "account", "a@x.com", "path", "My Folder/2026", "x y"]);
  assert.equal(tokenize(`a "x\\dy"`), ["a", "x\\dy"]);
  assert.throws(
    () => tokenize(`raw "unterminated`),
    (e: unknown) => e instanceof ReplSyntaxError && e.code === "REPL_SYNTAX",
  );
  assert.throws(
    () => tokenize("raw 'open"),
    (e: unknown) => e instanceof ReplSyntaxError,
  );
  assert.equal(splitHead(`  deliverMessage   {"a": "b c"} `), { head: "deliverMessage", rest: `{"a": "b c"}` });
});

test("repl - a notification is one line: time, kind, sender, then its summary or fields", () => {
  const at = Date.UTC(2026, 6, 10, 12, 0, 1);
  assert.is(
    formatNotification(
      "mr.notify.operation.completed",
      JSON.stringify({ kind: "operation.completed", at, from: "sup1", operationId: "x", summary: "setAccountDestination: successful (2 of 2 done, 0 failed)" }),
    ),
    "*** [12:00:01] operation.completed from sup1: setAccountDestination: successful (2 of 2 done, 0 failed)",
  );
  assert.is(
    formatNotification(
      "mr.notify.replica.unavailable",
      JSON.stringify({ kind: "replica.unavailable", at, from: "mailstore2.example.com", account: "a@x.com", lag: { events: 3 } }),
    ),
    '*** [12:00:01] replica.unavailable from mailstore2.example.com: account=a@x.com lag={"events":3}',
  );
  assert.is(formatNotification("mr.notify.x", "not json"), "*** mr.notify.x: not json");
});

// ---------------------------------------------------------------- the process

let server: NatsNode;
let nc: NatsConnection;
let services: JsonRpcService[] = [];
const received: Array<{ method: string; params: unknown }> = [];
const OP = "7fc853c8-806a-4e48-abdc-aca1791e8460";
let polls = 0;

const method = (name: string, call: (p: Record<string, unknown>) => unknown): RpcMethod<NatsRpcContext> => recordingMethod(received, name, call);

const admin = methodTable<NatsRpcContext>([
  method("getAccountStatus", () => ({
    accounts: [
      {
        accountId: "id-1",
        accountName: "a@example.com",
        accountMailHost: "mailstore1.example.com",
        paused: false,
        epoch: 1,
        sequence: 3,
        itemId: 257,
        replicas: [{ destination: "mailstore2.example.com", priority: 10, available: true, status: "available" }],
      },
    ],
    total: 1,
  })),
  method("promoteAccounts", (p) => {
    if ((p.accounts as string[] | undefined)?.includes("nobody@example.com"))
      throw new AppError("ACCOUNT_UNKNOWN", "unknown account: nobody@example.com; nothing was changed");
    polls = 0;
    return { operationId: OP, promoted: [], failed: [] };
  }),
  method("monitor", (p) => {
    polls++;
    return { operationId: p.operation_uuid, state: polls < 2 ? "running" : "successful", total: 1, done: polls < 2 ? 0 : 1, failed: 0 };
  }),
]);

const mailbox = methodTable<NatsRpcContext>([method("deliverMessage", (p) => ({ itemId: 300, folder: p.folder ?? "Inbox", size: String(p.raw).length }))]);

test.before(async () => {
  server = await startNatsServer("repl");
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "MR_NOTIFY", subjects: ["mr.notify.>"] });
  services = [serveJsonRpc(nc, "mr.rpc.admin", admin), serveJsonRpc(nc, "mr.rpc.mailbox", mailbox)];
  await nc.flush();
});

test.after(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await nc?.close();
  await server?.stop();
});

const startRepl = (): ReplChild => startReplChild({ MR_SERVERS: server.url });

test("repl - runs piped lines in order, prints results and errors with codes, shows notifications live, ends at EOF", async () => {
  const repl = startRepl();
  repl.send("getAccountStatus a@example.com");
  repl.send(`deliverMessage account a@example.com raw "Subject: hi\\n\\nbody" flags seen,flagged`);
  repl.send(`deliverMessage {"account":"a@example.com","raw":"Subject: x\\n\\ny","folder":"Archive"}`);
  repl.send("promoteAccounts accounts nobody@example.com");
  repl.send("setAccountDestination mailstore2.example.com ten accounts a@example.com");
  repl.send("frobnicate");
  repl.send("promoteAccounts accounts a@example.com --sync --progress");
  repl.send("help");
  repl.send("help getAccountStatus");
  await waitFor("the REPL to run every line", () => repl.out().includes("getAccountStatus [all | ACCOUNT[,ACCOUNT]]"), 20_000);
  const out = repl.out();
  assert.ok(!out.includes("mailreplica> "), "no prompt without a TTY");
  // In order: each result before the next line's.
  const order = [
    "a@example.com\n    accountId        id-1",
    '"itemId": 300',
    '"folder": "Archive"',
    "error: unknown account: nobody@example.com; nothing was changed [ACCOUNT_UNKNOWN]",
    `error: param 'priority' must be an integer from 0 to 1000000, got "ten" [CLI_USAGE] (help setAccountDestination shows the usage)`,
    "error: unknown command 'frobnicate'",
    `operation ${OP}: successful, 1/1 done, 0 failed`,
    "Mailbox methods",
    "Usage: getAccountStatus",
  ];
  let at = -1;
  for (const piece of order) {
    const i = out.indexOf(piece);
    assert.ok(i > at, `'${piece}' missing or out of order in:\n${out}`);
    at = i;
  }
  assert.ok(out.includes("        mailstore2.example.com (priority 10)"), out);
  assert.ok(out.includes("[####################] 100% 1/1 done, 0 failed (successful)"), out);
  const delivered = received.filter((r) => r.method === "deliverMessage").map((r) => r.params);
  assert.equal(delivered, [
    { account: "a@example.com", raw: "Subject: hi\n\nbody", flags: ["seen", "flagged"] },
    { account: "a@example.com", raw: "Subject: x\n\ny", folder: "Archive" },
  ]);

  const js = jetstream(nc);
  await js.publish(
    "mr.notify.replica.unavailable",
    JSON.stringify({ kind: "replica.unavailable", at: Date.now(), from: "mailstore2.example.com", account: "a@example.com", reason: "bad signature" }),
  );
  await waitFor(
    "the notification in the REPL's output",
    () => repl.out().includes("replica.unavailable from mailstore2.example.com: account=a@example.com reason=bad signature"),
    10_000,
  );

  repl.child.stdin!.end();
  await exited(repl.child);
  assert.is(repl.child.exitCode, 1, "lines failed, so a scripted REPL exits 1");
});

test("repl - a script whose lines all succeed exits 0; exit stops reading", async () => {
  const repl = startRepl();
  repl.send("getAccountStatus all");
  repl.send("exit");
  repl.send("frobnicate");
  await exited(repl.child);
  assert.is(repl.child.exitCode, 0, repl.out());
  assert.ok(repl.out().includes("1 account"), repl.out());
  assert.not.ok(repl.out().includes("frobnicate"), "a line after exit ran");
});

test("repl - without a reachable NATS it says so and exits 1", async () => {
  const child = spawnCli(["repl", "--servers", "nats://127.0.0.1:1"], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await exited(child);
  assert.is(child.exitCode, 1);
  assert.ok(err.includes("cannot connect to NATS") && err.includes("[NATS_UNREACHABLE]"), err);
});

test.run();
