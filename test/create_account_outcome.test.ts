// Which failures of createAccount's append give the name back (delete the directory record):
// only those that certainly logged nothing. Every other one may have stored account.created,
// and deleting the record would leave the log's account without a directory entry.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AskTimeoutError, ActorStoppedError, FencedError, LogAppendError, MailboxFullError, OutcomeUnknownError } from "../src/runtime/errors.js";
import { MailError } from "../src/mail/index.js";
import { NodeError } from "../actors/mailstore/errors.js";
import { certainlyNotAppended } from "../actors/mailstore/append_outcome.js";

test("createAccount outcome - refusals before any append are certain", () => {
  assert.ok(certainlyNotAppended(new MailError("ACCOUNT_EXISTS", "the name is used")));
  assert.ok(certainlyNotAppended(new FencedError("mr.tx.a", 3, "wrong last sequence")));
  assert.ok(certainlyNotAppended(NodeError.notPrimary("a", "ms1.example.com", "ms2.example.com")));
  assert.ok(certainlyNotAppended(new MailboxFullError("acct-a", 10)));
});

test("createAccount outcome - unknown outcomes, timeouts and anything else keep the record", () => {
  assert.not.ok(certainlyNotAppended(new OutcomeUnknownError("mr.tx.a", "ack lost")));
  assert.not.ok(certainlyNotAppended(new AskTimeoutError("acct-a", 5_000)));
  assert.not.ok(certainlyNotAppended(new LogAppendError("mr.tx.a", "timeout")));
  assert.not.ok(certainlyNotAppended(new ActorStoppedError("acct-a", "restarting")));
  assert.not.ok(certainlyNotAppended(Object.assign(new Error("no answer"), { code: "TIMEOUT" })));
  assert.not.ok(certainlyNotAppended(new Error("disk I/O error")));
  assert.not.ok(certainlyNotAppended(undefined));
});

test.run();
