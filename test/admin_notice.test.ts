// Admin notices: with supervisor.adminAccount set, the end of every operation lands as a
// message in that mailbox; without the account, the operation still ends and the failure is
// logged.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SupervisorNode, type SupervisorOptions } from "../actors/supervisor/node.js";
import { buildAdminNotice } from "../actors/supervisor/admin_notice.js";
import type { OperationRecord } from "../actors/supervisor/operations.js";
import { parseMessage } from "../src/rfc822/parse_message.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ADMIN = "admin@corp.example.com";

let sys: TestSystem;
let logs: string[] = [];

function startSupervisor(extra: Partial<SupervisorOptions>): Promise<SupervisorNode> {
  logs = [];
  return sys.startSupervisor("sup-notice", { log: (l) => logs.push(l), ...extra });
}

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  for (const h of sys.hosts) await sys.startMailstore(h);
});
test.after(async () => {
  await sys?.stop();
});

async function ended(operationId: string): Promise<any> {
  return waitFor("operation ends", async () => {
    const m = await sys.admin("monitor", { operation_uuid: operationId });
    return m.state !== "running" ? m : undefined;
  });
}

const op = (over: Partial<OperationRecord> = {}): OperationRecord => ({
  operationId: "5b3c8c1e-9d2f-4a57-a3a0-0e0f3c2b1a00",
  kind: "promoteAccounts",
  state: "failed",
  startedAt: Date.UTC(2026, 10, 24, 10, 0, 0),
  endedAt: Date.UTC(2026, 10, 24, 10, 0, 5),
  owner: "sup1",
  total: 3,
  done: 1,
  failed: 2,
  params: {},
  results: [
    { account: "a@example.com", ok: true },
    { account: "b@example.com", ok: false, code: "REPLICA_UNAVAILABLE", message: "no replica available" },
    { account: "c@example.com", ok: false, code: "TIMEOUT", message: "no answer" },
  ],
  ...over,
});

test("admin notice - a short RFC 822 message naming the operation, its end state, totals and failed accounts", async () => {
  const raw = buildAdminNotice(op(), "promotion\r\nBcc: evil@example.org", ADMIN, "sup1", Date.UTC(2026, 10, 24, 10, 0, 6));
  const meta = await parseMessage(raw);
  assert.is(meta.from, "mailreplica@corp.example.com");
  assert.equal(meta.to, [ADMIN]);
  assert.is(meta.subject, "mailreplica: promoteAccounts failed (promotion Bcc: evil@example.org)", "a line break cannot add a header");
  assert.not.match(raw, /^Bcc:/m);
  for (const line of ["Total: 3", "Done: 1", "Failed: 2", "b@example.com: REPLICA_UNAVAILABLE - no replica available", "c@example.com: TIMEOUT - no answer"])
    assert.ok(raw.includes(line), line);
  assert.not.ok(raw.includes("a@example.com:"), "accounts that succeeded are not listed as failed");
  assert.match(raw, /monitor 5b3c8c1e-9d2f-4a57-a3a0-0e0f3c2b1a00/);
});

test("admin notice - the admin account receives a message when an operation ends", async () => {
  await startSupervisor({ adminAccount: ADMIN });
  await sys.mailbox("createAccount", { name: ADMIN, mailHost: MS1 });
  await sys.mailbox("createAccount", { name: "n1@example.com", mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: "n1@example.com", raw: rawMessage(1) });
  const set = await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "n1@example.com" });
  assert.is((await ended(set.operationId)).state, "successful");

  const item = await waitFor("the notice is in the admin's Inbox", async () => {
    const list = await sys.mailbox("listItems", { account: ADMIN, folder: "Inbox" });
    return list.items.find((i: any) => /setAccountDestination successful/.test(i.subject));
  });
  assert.is(item.from, "mailreplica@corp.example.com");
  const full = await sys.mailbox("getItem", { account: ADMIN, id: item.id });
  assert.match(full.raw, new RegExp(`Operation ${set.operationId} \\(setAccountDestination\\) ended: successful`));
  assert.match(full.raw, /Total: 1\r\nDone: 1\r\nFailed: 0/);

  // removeAccountDestination ends at once: its notice follows.
  const rm = await sys.admin("removeAccountDestination", { destination: MS2, accounts: "n1@example.com" });
  await waitFor("the removal's notice arrives", async () => {
    const list = await sys.mailbox("listItems", { account: ADMIN });
    return list.items.some((i: any) => /removeAccountDestination successful/.test(i.subject) && i.subject.includes(MS2));
  });
  assert.is(rm.state, "successful");
});

test("admin notice - an admin account that does not exist is logged and does not fail the operation", async () => {
  await startSupervisor({ adminAccount: "nobody@corp.example.com" });
  await sys.mailbox("createAccount", { name: "n2@example.com", mailHost: MS1 });
  const set = await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "n2@example.com" });
  assert.is((await ended(set.operationId)).state, "successful");
  // One JSON line per event: the operation and the mailbox are fields, not text.
  const events = (): Record<string, unknown>[] => logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ev = await waitFor("the failed delivery is logged", () =>
    events().find((e) => e.msg === "admin notice of operation not delivered" && e.operationId === set.operationId),
  );
  assert.is(ev.account, "nobody@corp.example.com");
  assert.is(ev.level, "warn");
  assert.is(ev.code, "ACCOUNT_UNKNOWN");
  assert.match(String(ev.hint), /MR_ADMIN_ACCOUNT/);
});

test("admin notice - without an admin account nothing is delivered", async () => {
  await startSupervisor({});
  const before = (await sys.mailbox("listItems", { account: ADMIN })).total;
  await sys.mailbox("createAccount", { name: "n3@example.com", mailHost: MS1 });
  const set = await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "n3@example.com" });
  assert.is((await ended(set.operationId)).state, "successful");
  await new Promise((r) => setTimeout(r, 500));
  assert.is((await sys.mailbox("listItems", { account: ADMIN })).total, before);
});

test.run();
