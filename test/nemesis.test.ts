// The fault nemesis in CI (docs/nemesis.md): a fixed seed, a few rounds. It passes whenever
// no acknowledged write is lost, no write shows up twice and every replica's copy equals the
// primary's; a failure prints the run's summary with each finding and the command that
// replays the schedule (MR_NEMESIS_SEED / MR_NEMESIS_ROUNDS override the defaults here).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatReport, passed, runNemesis } from "./helpers/nemesis/run_nemesis.js";
import { AccountModel, type MailCall } from "./helpers/nemesis/account_model.js";
import { checkPrimary, compareCopies } from "./helpers/nemesis/checker.js";
import type { AccountDump } from "../src/store/index.js";

const SEED = Number(process.env.MR_NEMESIS_SEED ?? 14);
const ROUNDS = Number(process.env.MR_NEMESIS_ROUNDS ?? 3);

// Check the checker: it must find each kind of wrong copy, and accept what an unknown outcome allows.
const ACCOUNT = "a@example.com";
const raw = (n: number) => `From: s@example.org\r\nSubject: m${n}\r\nMessage-ID: <m${n}@example.org>\r\n\r\nbody\r\n`;
const deliver = (n: number, flags: string[] = []): MailCall => ({
  method: "deliverMessage",
  params: { account: ACCOUNT, raw: raw(n), folder: "Inbox", flags },
  describe: `deliver m${n}`,
});
const FOLDERS = [
  { id: 1, path: "Inbox", parentId: null },
  { id: 2, path: "Trash", parentId: null },
  { id: 10, path: "Archive1", parentId: null },
];

function row(id: number, n: number, folderId = 1, flags: string[] = [], tags: string[] = []): AccountDump["items"][number] {
  return { id, folderId, messageId: `<m${n}@example.org>`, from: "s@example.org", to: [], cc: [], subject: `m${n}`, date: 0, size: 1, flags, tags, blob: "b" };
}

function dump(items: AccountDump["items"], folders = FOLDERS): AccountDump {
  return { account: { id: "acc", name: ACCOUNT, type: "account", mailHost: "ms1", lastItemId: 20, createdAt: 0 }, folders, items, tags: [] };
}

/** m1 acked in Inbox then flagged, m2 acked then deleted, m3 of unknown outcome, Archive1 created. */
function model(): AccountModel {
  const m = new AccountModel(ACCOUNT, "acc");
  m.acknowledged(deliver(1), { itemId: 11, folder: "Inbox" });
  m.acknowledged({ method: "setFlags", params: { account: ACCOUNT, ids: [11], flags: ["seen", "work"] }, describe: "flag m1" }, { ids: [11] });
  m.acknowledged(deliver(2), { itemId: 12, folder: "Inbox" });
  m.acknowledged({ method: "deleteItems", params: { account: ACCOUNT, ids: [12] }, describe: "delete m2" }, { ids: [12] });
  m.uncertain(deliver(3));
  m.acknowledged({ method: "createFolder", params: { account: ACCOUNT, path: "Archive1" }, describe: "create Archive1" }, { id: 10, path: "Archive1" });
  return m;
}

const kinds = (d: AccountDump) => checkPrimary(model(), "ms1", d).map((f) => f.kind);

test("nemesis checker - accepts the copy acknowledged writes describe, with or without the write of unknown outcome", () => {
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"])])), []);
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"]), row(13, 3)])), []);
});

test("nemesis checker - finds a lost delivery, a lost flag change, a lost move, a lost deletion and a lost folder", () => {
  assert.equal(kinds(dump([])), ["lost"]);
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], [])])), ["lost"]);
  assert.equal(kinds(dump([row(11, 1, 2, ["seen"], ["work"])])), ["lost"]);
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"]), row(12, 2)])), ["lost"]);
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"])], FOLDERS.slice(0, 2))), ["lost"]);
  const lost = checkPrimary(model(), "ms1", dump([]))[0]!;
  assert.match(lost.detail, /message m1@example.org \("m1", item 11\) is missing on primary ms1/);
});

test("nemesis checker - finds an acknowledged or unknown write stored twice, and a message nobody sent", () => {
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"]), row(14, 1, 1, ["seen"], ["work"])])), ["duplicated"]);
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"]), row(13, 3), row(14, 3)])), ["duplicated"]);
  assert.equal(kinds(dump([row(11, 1, 1, ["seen"], ["work"]), row(15, 9)])), ["unexpected"]);
});

test("nemesis checker - a replica's copy that differs in one row is divergent; an equal one is not", () => {
  const a = dump([row(11, 1, 1, ["seen"], ["work"])]);
  assert.is(compareCopies(ACCOUNT, "ms1", a, "ms2", dump([row(11, 1, 1, ["seen"], ["work"])])), undefined);
  assert.is(compareCopies(ACCOUNT, "ms1", a, "ms2", dump([row(11, 1, 1, ["seen"], [])]))?.kind, "divergent");
});

test(`nemesis - ${ROUNDS} rounds of faults (seed ${SEED}): nothing acknowledged lost, nothing duplicated, every copy equal`, async () => {
  const report = await runNemesis({ rounds: ROUNDS, seed: SEED, log: process.env.MR_TEST_LOG ? (l) => process.stderr.write(`nemesis ${l}\n`) : undefined });
  const summary = formatReport(report);
  process.stdout.write(`${summary}\n`);
  assert.ok(report.acknowledged > 0, `the clients got no write acknowledged:\n${summary}`);
  assert.is(report.faultLog.length, ROUNDS, "one fault per round");
  assert.is(report.checked.copies, 12, "6 accounts, 2 replicas each, all compared");
  assert.ok(report.checked.messages > 0, "the checker looked for messages on the primaries");
  assert.ok(passed(report), summary);
});

test.run();
