// verifyReplicas on the command line and in the REPL against a real system (nats-server, two
// in-process mailstores, a supervisor): the command words, the readable output, --json, and
// the exit code (1 when a replica differs or could not be verified).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { runCliWithEnv, type CliRun, startReplChild, type ReplChild } from "./helpers/cli_capture.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { exited, tempDir, waitFor } from "./helpers/processes.js";
import { stopBounded, waitReplicaCaughtUp } from "./helpers/workload.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const NAME = "cli@example.com";

let sys: TestSystem;
let accountId: string;
let items: number[] = [];

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2] });
  accountId = (await sys.mailbox("createAccount", { name: NAME, mailHost: MS1 })).id;
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: NAME });
  for (let i = 0; i < 3; i++) items.push((await sys.mailbox("deliverMessage", { account: NAME, raw: rawMessage(i, NAME), flags: ["seen"] })).itemId);
  await waitReplicaCaughtUp(sys, NAME, MS2);
});
test.after(async () => {
  await stopBounded(sys);
});

const cli = (argv: string[], cwd = tempDir("mr-verify-cwd-")): Promise<CliRun> => runCliWithEnv(argv, { MR_SERVERS: sys.nats.url }, cwd);

test("verify_replicas_cli - equal copies: readable per account and replica, --json, input_file, exit 0", async () => {
  const r = await cli(["verifyReplicas", "accounts", NAME]);
  assert.is(r.code, 0, r.err + r.out);
  const lines = r.out.split("\n");
  assert.is(lines[0], `${NAME}  equal`);
  assert.match(lines[1]!, new RegExp(`^    primary  ${MS1}  seq \\d+  digest [0-9a-f]{12}$`));
  const digest = lines[1]!.slice(-12);
  assert.match(lines[2]!, new RegExp(`^    ${MS2}  equal  seq \\d+  digest ${digest}$`));
  assert.is(lines[lines.length - 1], "1 account: 1 equal, 0 different, 0 unverified");

  const json = await cli(["--json", "verifyReplicas", NAME]);
  assert.is(json.code, 0, json.err);
  const doc = JSON.parse(json.out);
  assert.equal(
    { total: doc.total, equal: doc.equal, different: doc.different, unverified: doc.unverified },
    { total: 1, equal: 1, different: 0, unverified: 0 },
  );
  assert.is(doc.accounts[0].accountId, accountId);
  assert.ok(doc.accounts[0].digest.startsWith(digest));

  const dir = tempDir("mr-verify-input-");
  writeFileSync(join(dir, "accounts"), `# to check\n${NAME}\n`);
  const fromFile = await cli(["verifyReplicas", "input_file", "accounts", "replicaServer", MS2], dir);
  assert.is(fromFile.code, 0, fromFile.err);
  assert.ok(fromFile.out.includes(`${MS2}  equal`), fromFile.out);
});

test("verify_replicas_cli - usage errors exit 2 before any call; unknown names exit 1 with their code; help says the exit codes", async () => {
  const missing = await cli(["verifyReplicas", "replicaServer"]);
  assert.is(missing.code, 2, missing.err);
  assert.ok(missing.err.includes("mailreplica help verifyReplicas"), missing.err);
  const wildcard = await cli(["verifyReplicas", "accounts", "c*@example.com"]);
  assert.is(wildcard.code, 2);
  assert.ok(wildcard.err.includes("wildcard"), wildcard.err);
  const ghost = await cli(["verifyReplicas", "ghost@example.com"]);
  assert.is(ghost.code, 1);
  assert.ok(ghost.err.includes("ghost@example.com") && ghost.err.endsWith("[ACCOUNT_UNKNOWN]"), ghost.err);
  const host = await cli(["verifyReplicas", "replicaServer", "nosuch.example.com"]);
  assert.is(host.code, 1);
  assert.ok(host.err.endsWith("[MAILSTORE_UNKNOWN]"), host.err);
  const help = await cli(["help", "verifyReplicas"]);
  assert.is(help.code, 0);
  assert.ok(help.out.includes("Exits 0 when every replica compared equal, 1 when any differs or could not be verified."), help.out);
  assert.ok(help.out.includes("replicaServer"), help.out);
});

test("verify_replicas_cli - a replica changed behind the system's back: DIFFERENT with the first difference, exit 1", async () => {
  const db = new Database(join(sys.dataDir(MS2), "metadata.sqlite"), { timeout: 5_000 });
  try {
    assert.is(db.prepare("UPDATE items SET flags = '[]' WHERE account_id = ? AND id = ?").run(accountId, items[1]).changes, 1);
  } finally {
    db.close();
  }
  const r = await cli(["verifyReplicas", NAME]);
  assert.is(r.code, 1, r.out);
  const lines = r.out.split("\n");
  assert.is(lines[0], `${NAME}  DIFFERENT`);
  assert.match(lines[2]!, new RegExp(`^    ${MS2}  DIFFERENT  seq \\d+  digest [0-9a-f]{12}$`));
  assert.is(lines[3], `        first difference: item ${items[1]}: primary {"flags":["seen"]}, replica {"flags":[]}`);
  assert.is(lines[lines.length - 1], "1 account: 0 equal, 1 different, 0 unverified");
});

const startRepl = (): ReplChild => startReplChild({ MR_SERVERS: sys.nats.url });

test("verify_replicas_cli - the REPL runs the same words, and help lists verifyReplicas", async () => {
  const repl = startRepl();
  try {
    repl.send(`verifyReplicas ${NAME}`);
    repl.send("help");
    repl.send("help verifyReplicas");
    await waitFor("the REPL to run every line", () => repl.out().includes("Usage: verifyReplicas"), 20_000);
  } finally {
    // Also on failure: a REPL left reading stdin would keep this test process alive.
    repl.child.stdin!.end();
  }
  await exited(repl.child);
  const out = repl.out();
  assert.ok(out.includes(`${NAME}  DIFFERENT`), out);
  assert.ok(out.includes(`first difference: item ${items[1]}: primary {"flags":["seen"]}, replica {"flags":[]}`), out);
  assert.match(out, /\n {2}verifyReplicas +Check that replicas equal their primary/);
  assert.ok(out.includes("Usage: verifyReplicas [all | ACCOUNT[,ACCOUNT]]"), out);
  assert.is(repl.child.exitCode, 1, "a line whose replica differs fails the scripted REPL");
});

test.run();
