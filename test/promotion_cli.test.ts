import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { runCliChild } from "./helpers/cli_capture.js";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: ["ms1.example.com", "ms2.example.com"] });
});
test.after(async () => {
  await sys?.stop();
});

/** Runs the real CLI; asynchronously, since the supervisor it talks to runs in this process. */
const cli = (...args: string[]): Promise<{ code: number | null; out: string }> => runCliChild(args, sys.childEnv());

test("promotion cli - promoteAccounts waits for the end, prints the outcome, and exits 1 when an account failed", async () => {
  for (const n of ["c1@example.com", "c2@example.com"]) {
    await sys.mailbox("createAccount", { name: n, mailHost: "ms1.example.com" });
    await sys.mailbox("deliverMessage", { account: n, raw: rawMessage(1, n) });
  }
  await sys.mailbox("createAccount", { name: "c3@example.com", mailHost: "ms1.example.com" });
  const set = await cli("setAccountDestination", "ms2.example.com", "10", "accounts", "c1@example.com,c2@example.com");
  assert.is(set.code, 0, set.out);
  await waitFor("replicas caught up", async () => {
    const s = (await sys.admin("getAccountStatus", { accounts: ["c1@example.com", "c2@example.com"] })).accounts;
    return s.every(
      (a: { sequence: number; replicas: Array<{ available: boolean; sequence: number }> }) => a.replicas[0]?.available && a.replicas[0].sequence === a.sequence,
    );
  });
  const file = join(sys.root, "accounts.txt");
  writeFileSync(file, "c1@example.com\n# a comment\nc2@example.com\n");
  const ok = await cli("--json", "promoteAccounts", "input_file", file);
  assert.is(ok.code, 0, ok.out);
  const res = JSON.parse(ok.out);
  assert.is(res.state, "successful");
  assert.equal(res.promoted.map((p: { account: string }) => p.account).sort(), ["c1@example.com", "c2@example.com"]);
  assert.ok(res.promoted.every((p: { to: string; epoch: number }) => p.to === "ms2.example.com" && p.epoch === 2));

  const bad = await cli("promoteAccounts", "accounts", "c3@example.com");
  assert.is(bad.code, 1, bad.out);
  assert.match(bad.out, /REPLICA_UNAVAILABLE/);
  assert.match(bad.out, /c3@example\.com/);

  const refused = await cli("promoteAccounts", "accounts", "c*@example.com");
  assert.is(refused.code, 2, "a wildcard is refused before anything is sent");
});

test.run();
