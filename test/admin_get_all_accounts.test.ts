// getAllAccounts: the directory's account names (replicated or not) in name order, by prefix,
// bounded by limit with `more`; what the REPL completes account names from.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { refusedProtocol } from "./helpers/refused.js";
import { TestSystem } from "./helpers/system.js";

const MS1 = "ms1.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1] });
  await sys.startSupervisor();
  await sys.startMailstore(MS1);
  for (const name of ["Carol@example.com", "carl@example.com", "dave@example.com", "list@example.com"]) {
    await sys.mailbox("createAccount", { name, mailHost: MS1, ...(name.startsWith("list") ? { type: "distributionList" } : {}) });
  }
});
test.after(async () => {
  await sys?.stop();
});

test("getAllAccounts - every account in name order, with its primary, type and replica count", async () => {
  const r = await sys.admin("getAllAccounts", {});
  assert.equal(
    r.accounts.map((a: any) => a.name),
    ["carl@example.com", "carol@example.com", "dave@example.com", "list@example.com"],
  );
  assert.equal(Object.keys(r.accounts[0]).sort(), ["id", "mailHost", "name", "replicas", "type"]);
  assert.is(r.accounts[0].mailHost, MS1);
  assert.is(r.accounts[0].replicas, 0);
  assert.is(r.accounts[3].type, "distributionList");
  assert.is(r.more, false);
});

test("getAllAccounts - prefix (any case) and limit, with more when names are left out", async () => {
  const r = await sys.admin("getAllAccounts", { prefix: "CA", limit: 1 });
  assert.equal(
    r.accounts.map((a: any) => a.name),
    ["carl@example.com"],
  );
  assert.is(r.more, true);
  assert.equal((await sys.admin("getAllAccounts", { prefix: "ca", limit: 2 })).more, false);
  assert.equal((await sys.admin("getAllAccounts", { prefix: "zz" })).accounts, []);
});

test("getAllAccounts - a limit out of 1..1000 or a prefix that is no string is refused", async () => {
  for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { prefix: 7 }]) {
    const e = await refusedProtocol(sys.admin("getAllAccounts", bad), -32602);
    assert.match(e.message, /limit|prefix/);
  }
});

test.run();
