// Structured logs (src/log): every process writes one JSON line per event with time, level,
// role and host; what an event is about (account, epoch, code...) is in fields; no secret and
// no message body reaches a line; log.level drops the events below it. In-process nodes give
// their lines to the `log` hook; a child process writes them on standard error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { nodeAdminSubject, nodeMailboxSubject } from "../actors/mailstore/node.js";
import { DIRECTORY_REQUEST_PREFIX } from "../actors/shared/directory_requests.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { createLogger, prettyLine, supervisionLogger, withoutCredentials } from "../src/log/index.js";
import { StartupTimeoutError } from "../src/jetstream/startup_wait.js";
import { ActorSystem, ManualClock } from "../src/runtime/index.js";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { promote, waitOperationEnd } from "./helpers/promotion.js";
import { refused, refusedProtocol } from "./helpers/refused.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const ACCOUNT = "logged@example.com";
// Only in the delivered message's body: no log line may hold it.
const BODY_MARKER = "body-marker-7f3a9c1e-never-logged";

function message(): string {
  return `From: a@example.org\r\nTo: ${ACCOUNT}\r\nSubject: hello\r\nMessage-ID: <logs1@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\n${BODY_MARKER}\r\n`;
}

type Event = Record<string, unknown> & { time: string; level: string; role: string; host: string; msg: string };

let sys: TestSystem;
const lines: string[] = [];
const events = (): Event[] => lines.map((l) => JSON.parse(l) as Event);

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2, MS3], log: (l) => lines.push(l) });
  await sys.startMailstore(MS1, { logLevel: "debug" });
  await sys.startMailstore(MS2, { logLevel: "info" });
  await sys.startSupervisor("sup1");
});
test.after(async () => {
  await sys?.stop();
});

test("logs - every line of a mailstore and a supervisor is one JSON object with time, level, role and host", () => {
  assert.ok(lines.length > 0);
  for (const l of lines) {
    assert.not.match(l, /[\n\r\u2028\u2029]/);
    const e = JSON.parse(l) as Event;
    assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, l);
    assert.ok(["debug", "info", "warn", "error"].includes(e.level), l);
    assert.ok(["mailstore", "supervisor"].includes(e.role), l);
    assert.type(e.host, "string", l);
    assert.type(e.msg, "string", l);
  }
  const started = events().filter((e) => / started\b/.test(e.msg));
  assert.ok(
    started.some((e) => e.role === "mailstore" && e.host === MS1 && e.msg === `mailstore ${MS1} started`),
    lines.join("\n"),
  );
  assert.ok(
    started.some((e) => e.role === "mailstore" && e.host === MS2),
    lines.join("\n"),
  );
  assert.ok(
    started.some((e) => e.role === "supervisor" && e.host === "sup1" && /^supervisor sup1 started \(active\)$/.test(e.msg)),
    lines.join("\n"),
  );
});

test("logs - a promotion is logged with the account and the epoch as fields, on the new primary and the supervisor", async () => {
  const acct = await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: message() });
  const set = await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: [ACCOUNT] });
  await waitOperationEnd(sys, set.operationId);
  const m = await promote(sys, { accounts: [ACCOUNT], destination: MS2 });
  assert.is(m.state, "successful", JSON.stringify(m));
  const here = events().find((e) => e.host === MS2 && e.msg === "promoted here");
  assert.ok(here, lines.join("\n"));
  assert.equal([here!.level, here!.account, here!.accountId, here!.epoch], ["info", ACCOUNT, acct.id, 2]);
  assert.type(here!.seq, "number");
  const sup = events().find((e) => e.role === "supervisor" && e.msg === "promoted" && e.account === ACCOUNT);
  assert.ok(sup, lines.join("\n"));
  assert.equal([sup!.epoch, sup!.from, sup!.destination], [2, MS1, MS2]);
  // The value is a field, never spliced into the message text.
  for (const e of events()) assert.not.ok(e.msg.includes(ACCOUNT), e.msg);
});

test("logs - log.level drops the lower levels: a refused request is a debug line on a debug mailstore only", async () => {
  const before = lines.length;
  for (const host of [MS1, MS2])
    await refused(rpcCall(sys.nc, nodeMailboxSubject(host), "listItems", { account: "nobody@example.com" }, { timeoutMs: 10_000 }), "ACCOUNT_UNKNOWN");
  const added = () => lines.slice(before).map((l) => JSON.parse(l) as Event);
  // The debug line is written before the answer is sent: present once the call returned.
  const onMs1 = added().find((e) => e.host === MS1 && e.msg === "request refused");
  assert.ok(onMs1, lines.slice(before).join("\n"));
  assert.equal([onMs1!.level, onMs1!.code, onMs1!.method], ["debug", "ACCOUNT_UNKNOWN", "listItems"]);
  assert.match(String(onMs1!.error), /nobody@example\.com/);
  assert.not.ok(onMs1!.msg.includes("nobody"));
  assert.ok(
    events().some((e) => e.host === MS1 && e.level === "debug" && e.msg === "actor started"),
    "ms1 logs its account actors' supervision events at debug",
  );
  assert.equal(
    events().filter((e) => e.host === MS2 && e.level === "debug"),
    [],
    "ms2 logs at info: no debug line",
  );
  assert.equal(
    events().filter((e) => e.role === "supervisor" && e.level === "debug"),
    [],
    "the supervisor logs at info: no debug line",
  );
});

test("logs - a request value with a newline stays inside its field: no forged line", async () => {
  const forged = `x\n{"level":"info","role":"mailstore","host":"${MS1}","msg":"mailstore ${MS1} started"}\r\u2028`;
  const before = lines.length;
  await refusedProtocol(rpcCall(sys.nc, nodeAdminSubject(MS1), "resumeWriting", { account: forged }, { timeoutMs: 10_000 }), -32602);
  const added = lines.slice(before);
  assert.ok(added.length > 0);
  for (const l of added) {
    assert.not.match(l, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.not.equal((JSON.parse(l) as Event).msg, `mailstore ${MS1} started`);
  }
});

/** Every nkey seed of a test system's identities (the files `auth init` wrote). */
function seeds(root: string): string[] {
  const dir = join(root, "auth");
  const found: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (!statSync(p).isFile()) continue;
    for (const m of readFileSync(p, "utf8").matchAll(/\bS[UA][A-Z2-7]{50,}\b/g)) found.push(m[0]);
  }
  return found;
}

test("logs - no line holds a message body", () => {
  assert.ok(lines.length > 0);
  assert.not.ok(lines.join("\n").includes(BODY_MARKER), "a delivered body is never logged");
});

test("logs - under least privilege, no line at debug level holds a seed or a message body", async () => {
  const authLines: string[] = [];
  const secure = await TestSystem.start({ hosts: [MS1], auth: { supervisors: ["sup1"] }, log: (l) => authLines.push(l) });
  try {
    await secure.startMailstore(MS1, { logLevel: "debug" });
    await secure.startSupervisor("sup1", { logLevel: "debug" });
    await secure.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 });
    await secure.mailbox("deliverMessage", { account: ACCOUNT, raw: message() });
    await refused(secure.mailbox("listItems", { account: "nobody@example.com" }), "ACCOUNT_UNKNOWN");
  } finally {
    await secure.stop();
  }
  const all = authLines.join("\n");
  assert.ok(
    authLines.some((l) => (JSON.parse(l) as Event).level === "debug"),
    all,
  );
  assert.not.ok(all.includes(BODY_MARKER), "a delivered body is never logged");
  const s = seeds(secure.root);
  assert.ok(s.length >= 3, `seeds found: ${s.length}`);
  for (const seed of s) assert.not.ok(all.includes(seed), "a seed is never logged");
});

test("logs - a child process writes JSON lines on stderr at config log.level, and its start line is found by a regex over the raw output", async () => {
  sys.config.log.level = "debug";
  await sys.spawnMailstore(MS3); // waits for `mailstore ms3.example.com started` in the raw output
  assert.match(sys.log(MS3), new RegExp(`\\bmailstore ${MS3.replace(/\./g, "\\.")} started\\b`));
  // A refused request is a debug line: log.level debug reached the child through its config.
  await refused(rpcCall(sys.nc, nodeMailboxSubject(MS3), "listItems", { account: "nobody@example.com" }, { timeoutMs: 10_000 }), "ACCOUNT_UNKNOWN");
  const out = (): Event[] =>
    sys
      .log(MS3)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Event);
  const e = await waitFor("the child's debug line", () => out().find((x) => x.msg === "request refused"));
  assert.equal([e.level, e.code], ["debug", "ACCOUNT_UNKNOWN"]);
  for (const x of out()) {
    assert.equal([x.role, x.host], ["mailstore", MS3], JSON.stringify(x));
    assert.ok(x.time && x.level && x.msg, JSON.stringify(x));
  }
});

test("logs - a refused directory request is a warning of the supervisor with its code", async () => {
  const before = lines.length;
  await refused(
    rpcCall(
      sys.nc,
      `${DIRECTORY_REQUEST_PREFIX}${MS1}`,
      "recordPromotion",
      { account: "0f8fad5b-d9cb-469f-a165-70867728950e", epoch: 2, grant: "not-a-grant" },
      { timeoutMs: 10_000 },
    ),
    "APP_ERROR",
  );
  const e = lines
    .slice(before)
    .map((l) => JSON.parse(l) as Event)
    .find((x) => x.msg === "request refused");
  assert.ok(e, lines.slice(before).join("\n"));
  // code: the application code the answer carried; the reason is a field too, never the text.
  assert.equal(
    [e!.level, e!.role, e!.host, e!.code, e!.cause, e!.rpcCode, e!.method],
    ["warn", "supervisor", "sup1", "APP_ERROR", "LOG_BAD_PROMOTION", -32000, "recordPromotion"],
  );
  assert.match(String(e!.error), /grant/);
});

test("logs - the terminal form is one readable line per event, with the values escaped", () => {
  const out: string[] = [];
  const log = createLogger({ role: "mailstore", host: MS1, sink: (l) => out.push(l) });
  log.info({ account: "a b\n[ms1] forged\u2028", epoch: 2, error: "no\r\nway" }, "promoted here");
  const line = prettyLine(out[0]!);
  assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} INFO  mailstore ms1\.example\.com promoted here /);
  assert.ok(line.includes('account="a b\\n[ms1] forged\\u2028"'), line);
  assert.ok(line.includes("epoch=2"), line);
  assert.not.match(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
});

test("logs - a field named like a secret is censored even if a caller passes one", () => {
  const out: string[] = [];
  const log = createLogger({ role: "supervisor", host: "sup1", sink: (l) => out.push(l) });
  log.warn({ password: "hunter2", nested: { seed: "SUAEXAMPLE" }, body: BODY_MARKER }, "careless call");
  assert.is(out.length, 1);
  for (const secret of ["hunter2", "SUAEXAMPLE", BODY_MARKER]) assert.not.ok(out[0]!.includes(secret), out[0]);
  assert.is((JSON.parse(out[0]!) as { password: string }).password, "[redacted]");
  // The NATS URLs a start line lists lose a user:password part.
  assert.is(withoutCredentials("nats://alice:s3cret@n1.example.com:4222"), "nats://[redacted]@n1.example.com:4222");
  assert.is(withoutCredentials("tls://n1.example.com:4222"), "tls://n1.example.com:4222");
  // So does the start-up deadline's message, which lists the configured servers.
  const late = new StartupTimeoutError(8_000, "no meta leader yet", ["nats://alice:s3cret@n1.example.com:4222", "nats://n2.example.com:4222"]);
  assert.not.ok(late.message.includes("s3cret"), late.message);
  assert.ok(late.message.includes("nats://[redacted]@n1.example.com:4222, nats://n2.example.com:4222"), late.message);
});

test("logs - an actor that fails, restarts and gives up is logged (warn, warn, error) with its actor and restarts", async () => {
  const out: string[] = [];
  const clock = new ManualClock();
  const system = new ActorSystem({ clock });
  system.onEvent(supervisionLogger(createLogger({ role: "mailstore", host: MS1, sink: (l) => out.push(l) })));
  const ref = system.spawn<string, number>("acct-x", {
    supervisor: { maxRestarts: 1, withinMs: 60_000, minBackoffMs: 100, maxBackoffMs: 100 },
    producer: () => ({
      receive(m) {
        if (m === "boom") throw new Error("boom");
        return 1;
      },
    }),
  });
  await ref.ask("boom").catch(() => {});
  const after = ref.ask("ok"); // queued while restarting
  await new Promise((r) => setImmediate(r)); // the restart timer is set once the old instance stopped
  clock.advance(100);
  assert.is(await after, 1);
  await ref.ask("boom").catch(() => {}); // the second failure within the window: gives up
  await system.shutdown();
  const evs = out.map((l) => JSON.parse(l) as Event);
  const seen = evs.map((e) => [e.level, e.msg, e.event]);
  assert.ok(
    evs.every((e) => e.actor === ref.path),
    out.join("\n"),
  );
  assert.equal(
    seen.filter(([level]) => level !== "debug"),
    [
      ["warn", "actor failed", "failed"],
      ["warn", "actor restarted", "restarted"],
      ["warn", "actor failed", "failed"],
      ["error", "actor gave up after too many failures (escalated)", "escalated"],
    ],
  );
  assert.is(evs.find((e) => e.event === "restarted")!.restarts, 1);
  assert.is(evs.find((e) => e.event === "failed")!.error, "boom");
  assert.not.ok(
    evs.some((e) => e.level === "debug"),
    "debug events (started, stopped) are dropped at info",
  );
});

test.run();
