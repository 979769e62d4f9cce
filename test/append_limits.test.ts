// Append limits of the account actor: short attempts (a leader that died never answers one,
// so writes resume one attempt after the new leader is elected), as many as fit in three
// quarters of the caller's wait, so the caller hears OUTCOME_UNKNOWN rather than a timeout.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APPEND_ATTEMPT_MS, appendLimits } from "../actors/mailstore/account.js";

const base = { mailboxCapacity: 100, maxBatch: 16 };

test("append limits - the default 10 s wait gives 750 ms attempts, 10 of them, ending before the caller gives up", () => {
  const l = appendLimits({ ...base, askTimeoutMs: 10_000 });
  assert.equal(l, { appendTimeoutMs: APPEND_ATTEMPT_MS, appendAttempts: 10 });
  assert.ok(l.appendTimeoutMs! * l.appendAttempts! <= 7_500);
});

test("append limits - a short wait gets shorter attempts, never fewer than 3", () => {
  const l = appendLimits({ ...base, askTimeoutMs: 1_000 });
  assert.equal(l, { appendTimeoutMs: 250, appendAttempts: 3 });
  assert.ok(l.appendTimeoutMs! * l.appendAttempts! <= 750);
});

test("append limits - configured values are kept", () => {
  assert.equal(appendLimits({ ...base, askTimeoutMs: 10_000, appendTimeoutMs: 1_000, appendAttempts: 2 }), { appendTimeoutMs: 1_000, appendAttempts: 2 });
  assert.equal(appendLimits({ ...base, askTimeoutMs: 10_000, appendTimeoutMs: 2_500 }), { appendTimeoutMs: 2_500, appendAttempts: 3 });
});

test.run();
