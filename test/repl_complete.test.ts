// REPL tab completion: the pure completion over (line, known names), the lookup layer's
// bounds and failures, and the names of a running system (supervisor and two mailstores).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { callMethod, type Caller } from "../src/cli/admin/index.js";
import { complete, NameLookup, namesNeeded, type KnownNames } from "../src/repl/index.js";
import { TestSystem } from "./helpers/system.js";

const KNOWN: KnownNames = {
  mailstores: ["mailstore1.example.com", "mailstore2.example.com", "other.example.org"],
  supervisors: ["sup1"],
  accounts: ["alice@example.com", "Albert@example.com", "bob@example.com"],
};

test("repl completion - command words: admin commands, mailbox methods, REPL words, any case", () => {
  assert.equal(complete("setA"), [["setAccountDestination"], "setA"]);
  assert.equal(complete("seta"), [["setAccountDestination"], "seta"]);
  assert.equal(complete("  get"), [["getAccountStatus", "getAllAccounts", "getItem", "getItemBody", "getLicenseInfo", "getServices"], "get"]);
  assert.equal(complete("he"), [["help"], "he"]);
  assert.equal(complete("ex"), [["exit"], "ex"]);
  assert.equal(complete("do"), [["doRestartService", "doStartService", "doStopService", "doctor"], "do"]);
  assert.ok(complete("")[0].includes("promoteAccounts") && complete("")[0].includes("deliverMessage"));
  assert.equal(complete("help prom"), [["promoteAccounts"], "prom"]);
  assert.equal(complete("call "), [["admin", "mailbox"], ""]);
  assert.equal(complete("call mailbox list"), [["listFolders", "listItems"], "list"]);
  assert.equal(complete("call admin list"), [[], "list"]);
  assert.equal(complete("nosuchcommand x"), [[], "x"]);
});

test("repl completion - param names come from the command's definition, given ones are not offered again", () => {
  // setAccountDestination <destination> <priority> then named params (input_file is the CLI's and the REPL's too).
  assert.equal(complete("setAccountDestination mailstore2.example.com 10 "), [["accounts", "delay", "input_file"], ""]);
  assert.equal(complete("setAccountDestination mailstore2.example.com 10 acc"), [["accounts"], "acc"]);
  assert.equal(complete("promoteAccounts source_mail_host mailstore1.example.com "), [["accounts", "destination", "input_file", "threads"], ""]);
  assert.equal(complete("getAccountStatus mailHost mailstore1.example.com rep"), [["replicaServer", "replicaStatus"], "rep"]);
  // Mailbox methods take every param by name.
  assert.equal(complete("listItems "), [["account", "folder", "limit", "offset"], ""]);
  assert.equal(complete("deliverMessage account a@example.com f"), [["file", "flags", "folder"], "f"]);
  // `call admin` takes params by name, without the CLI's input_file.
  assert.equal(complete("call admin setAccountDestination "), [["accounts", "delay", "destination", "priority"], ""]);
  assert.equal(complete("getServices --"), [["--help", "--json", "--progress", "--sync"], "--"]);
  assert.equal(complete("getAccountStatus --json acc"), [["accountStatus", "accounts"], "acc"]);
  // Enumerations complete from the spec.
  assert.equal(complete("getAccountStatus replicaStatus "), [["available", "unavailable"], ""]);
  assert.equal(complete("doStartService "), [["module"], ""]);
});

test("repl completion - hosts where a param takes a mailstore, accounts where it takes accounts", () => {
  assert.equal(complete("setAccountDestination mail", KNOWN), [["mailstore1.example.com", "mailstore2.example.com"], "mail"]);
  assert.equal(complete("setAccountDestination ", KNOWN)[0].length, 3);
  assert.equal(complete("setAccountDestination mailstore2.example.com ", KNOWN), [[], ""]); // priority: nothing to offer
  assert.equal(complete("promoteAccounts source_mail_host o", KNOWN), [["other.example.org"], "o"]);
  assert.equal(complete("createAccount name x@example.com mailHost mailstore1", KNOWN), [["mailstore1.example.com"], "mailstore1"]);
  assert.equal(complete("getAccountStatus replicaServer mailstore1.example.com,m", KNOWN), [
    ["mailstore1.example.com,mailstore2.example.com"],
    "mailstore1.example.com,m",
  ]);
  assert.equal(complete("doStopService module host m", KNOWN), [["mailstore1.example.com", "mailstore2.example.com"], "m"]);
  assert.equal(complete("monitor 7fc853c8-806a-4e48-abdc-aca1791e8460 operation_host ", KNOWN), [["sup1"], ""]);
  // Accounts: any case; a list completes its last item and leaves out the ones already in it.
  assert.equal(complete("listItems account al", KNOWN), [["Albert@example.com", "alice@example.com"], "al"]);
  assert.equal(complete("promoteAccounts accounts alice@example.com,", KNOWN), [
    ["alice@example.com,Albert@example.com", "alice@example.com,bob@example.com"],
    "alice@example.com,",
  ]);
  assert.equal(complete("setAccountDestination mailstore2.example.com 10 accounts b", KNOWN), [["bob@example.com"], "b"]);
  assert.equal(complete("call mailbox listFolders account b", KNOWN), [["bob@example.com"], "b"]);
  // A new account's name, a folder, quoted text and JSON are not completed.
  assert.equal(complete("createAccount name a", KNOWN), [[], "a"]);
  assert.equal(complete("listItems account alice@example.com folder ", KNOWN), [[], ""]);
  assert.equal(complete(`listItems account "al`, KNOWN), [[], ""]);
  assert.equal(complete(`deliverMessage {"account":"al`, KNOWN), [[], ""]);
});

test("repl completion - only lines that need names ask for them", () => {
  assert.is(namesNeeded("setAccountDestination "), "mailstore");
  assert.is(namesNeeded("promoteAccounts accounts a"), "account");
  assert.is(namesNeeded("monitor x operation_host "), "supervisor");
  assert.is(namesNeeded("get"), "none");
  assert.is(namesNeeded("promoteAccounts "), "none");
  assert.is(namesNeeded("getAccountStatus replicaStatus "), "none");
});

/** A Caller answering from a table; counts the calls. */
function fakeCaller(answers: Record<string, () => Promise<unknown>>, calls: string[]): Caller {
  return (_target, method) => {
    calls.push(method);
    const answer = answers[method];
    return answer ? answer() : Promise.reject(new Error(`no ${method}`));
  };
}

function completeWith(lookup: NameLookup, line: string): Promise<[string[], string]> {
  return new Promise((resolve, reject) => lookup.completer()(line, (err, result) => (err ? reject(err) : resolve(result!))));
}

test("repl completion - lookups: cached, capped, and a failing or silent one offers nothing", async () => {
  let now = 0;
  const calls: string[] = [];
  const many = Array.from({ length: 5_000 }, (_, i) => ({ name: `u${i}@example.com` }));
  const lookup = new NameLookup(
    fakeCaller(
      {
        getServices: async () => ({
          services: [
            { host: "ms1", role: "mailstore" },
            { host: "sup1", role: "supervisor" },
            { host: "ms2", role: "mailstore" },
          ],
        }),
        getAllAccounts: async () => ({ accounts: many, more: true }),
      },
      calls,
    ),
    { now: () => now, maxNames: 1_000 },
  );
  assert.equal(await completeWith(lookup, "setAccountDestination "), [["ms1", "ms2"], ""]);
  assert.equal(await completeWith(lookup, "monitor x operation_host "), [["sup1"], ""]);
  assert.equal(calls, ["getServices", "getServices"]); // per kind
  assert.equal(await completeWith(lookup, "setAccountDestination m"), [["ms1", "ms2"], "m"]);
  assert.is(calls.length, 2); // cached
  now = 10_000;
  await completeWith(lookup, "setAccountDestination m");
  assert.is(calls.length, 3); // stale: asked again
  assert.is((await lookup.names("account")).length, 1_000);
  assert.equal(await completeWith(lookup, "getServices --j"), [["--json"], "--j"]);
  assert.is(calls.length, 4); // a line without names asks nothing

  const failing = new NameLookup(fakeCaller({ getServices: () => Promise.reject(new Error("NATS down")) }, []));
  assert.equal(await completeWith(failing, "setAccountDestination m"), [[], "m"]);
  // A lookup that never answers: the deadline gives no names (0 ms here, so nothing waits on a clock).
  const silent = new NameLookup(fakeCaller({ getServices: () => new Promise(() => {}) }, []), { deadlineMs: 0 });
  assert.equal(await completeWith(silent, "setAccountDestination m"), [[], "m"]);
  assert.equal(await completeWith(silent, "setA"), [["setAccountDestination"], "setA"]);
});

test("repl completion - hosts and accounts come from a running system", async () => {
  const MS1 = "ms1.example.com";
  const MS2 = "ms2.example.com";
  const sys = await TestSystem.start({ hosts: [MS1, MS2] });
  try {
    await sys.startSupervisor(); // createAccount asks the supervisor for the record
    await sys.startMailstore(MS1);
    await sys.startMailstore(MS2);
    for (const name of ["carol@example.com", "carl@example.com", "dave@example.com"]) await sys.mailbox("createAccount", { name, mailHost: MS1 });
    const call: Caller = (t, m, p, o) => callMethod(sys.nc, t, m, p, { ...o });
    const lookup = new NameLookup(call, { cacheMs: 0, deadlineMs: 60_000 });
    assert.equal(await completeWith(lookup, "setAccountDestination ms"), [[MS1, MS2], "ms"]);
    assert.equal(await completeWith(lookup, "createAccount name x@example.com mailHost ms2"), [[MS2], "ms2"]);
    assert.equal(await completeWith(lookup, "monitor x operation_host s"), [["sup1"], "s"]);
    // Names come from the directory (getAllAccounts), replicated or not, and by what is typed.
    assert.equal(await completeWith(lookup, "promoteAccounts accounts car"), [["carl@example.com", "carol@example.com"], "car"]);
    assert.equal(await completeWith(lookup, "pauseReplicas accounts carol@example.com,d"), [["carol@example.com,dave@example.com"], "carol@example.com,d"]);
  } finally {
    await sys.stop();
  }
});

test.run();
