// The JSON-RPC fuzzer as CI runs it: a fixed seed and a fixed number of cases (never a time
// budget, so every run sends the same requests), against every subject of a live system.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatReport, passed, runFuzz } from "./helpers/fuzz/run_fuzz.js";
import { makeCase } from "./helpers/fuzz/cases.js";
import { checkAnswer, expectedFor } from "./helpers/fuzz/oracle.js";

const SEED = 20261201;
// About 45 s on a loaded 2-core machine (set-up and final check included), 20 s on an idle one.
const CASES = 4_000;

test("fuzz - a fixed seed's cases on every subject: valid answers, no -32603, no crash, the final write replicated", async () => {
  const r = await runFuzz({ cases: CASES, seed: SEED });
  const summary = formatReport(r);
  assert.is(r.cases, CASES, summary);
  assert.is(r.crashes.length, 0, summary);
  assert.is(r.internalErrors, 0, summary);
  assert.is(r.failures.length, 0, summary);
  assert.is(r.badLogLines.length, 0, summary);
  assert.ok(r.finalOk, summary);
  assert.ok(passed(r), summary); // also: no nats-server error (a dropped connection)
  // Every subject was reached, and valid calls really ran (results, not only refusals).
  // 2 shared + 3 per mailstore (its admin, its mailbox, its directory requests) x 3 mailstores
  assert.is(Object.keys(r.perSubject).length, 11, summary);
  assert.ok(r.results > CASES / 10, summary);
});

test("fuzz - the same seed and case number give the same request", () => {
  const targets = [{ subject: "mr.rpc.admin", methods: [{ name: "getServices", params: {} }] }];
  const pool = {
    accountNames: ["a@example.com"],
    accountIds: ["0f8fad5b-d9cb-469f-a165-70867728950e"],
    hosts: ["ms1.example.com"],
    folders: ["Inbox"],
    operationIds: [],
    itemIds: [1],
    natsUrl: "nats://127.0.0.1:4222",
  };
  for (const i of [0, 1, 77, 4_999]) assert.equal(makeCase(SEED, i, targets, pool).body, makeCase(SEED, i, targets, pool).body);
  const run = (seed: number) => Array.from({ length: 20 }, (_, i) => Buffer.from(makeCase(seed, i, targets, pool).body).toString("hex"));
  assert.not.equal(run(SEED), run(SEED + 1));
});

test("fuzz oracle - it fails what breaks the spec", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const methods = new Set(["ping"]);
  const seen = () => ({ codes: [], results: 0 });
  // an internal error, an undocumented application code, a wrong id, a stack, no answer, an answer to a notification
  assert.ok(
    checkAnswer(
      '{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}',
      expectedFor(enc('{"jsonrpc":"2.0","method":"ping","id":1}'), methods),
      seen(),
    ).length > 0,
  );
  assert.ok(
    checkAnswer(
      '{"jsonrpc":"2.0","error":{"code":-32000,"message":"x","data":{"code":"ENOENT"}},"id":1}',
      expectedFor(enc('{"jsonrpc":"2.0","method":"ping","id":1}'), methods),
      seen(),
    ).length > 0,
  );
  assert.ok(checkAnswer('{"jsonrpc":"2.0","result":1,"id":2}', expectedFor(enc('{"jsonrpc":"2.0","method":"ping","id":1}'), methods), seen()).length > 0);
  assert.ok(
    checkAnswer(
      '{"jsonrpc":"2.0","error":{"code":-32602,"message":"x","data":"Error\\n    at f (a.js:1:2)"},"id":1}',
      expectedFor(enc('{"jsonrpc":"2.0","method":"ping","id":1}'), methods),
      seen(),
    ).length > 0,
  );
  assert.ok(checkAnswer(undefined, expectedFor(enc("{"), methods), seen()).length > 0);
  assert.ok(checkAnswer('{"jsonrpc":"2.0","result":1,"id":null}', expectedFor(enc('{"jsonrpc":"2.0","method":"ping"}'), methods), seen()).length > 0);
  // and passes what the spec asks for
  assert.equal(checkAnswer('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}', expectedFor(enc("{"), methods), seen()), []);
  assert.equal(checkAnswer(undefined, expectedFor(enc('[{"jsonrpc":"2.0","method":"ping"}]'), methods), seen()), []);
  assert.equal(
    checkAnswer(
      '[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},{"jsonrpc":"2.0","result":1,"id":"a"}]',
      expectedFor(enc('[1,{"jsonrpc":"2.0","method":"ping","id":"a"}]'), methods),
      seen(),
    ),
    [],
  );
});

test.run();
