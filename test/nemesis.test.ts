// The fault nemesis in CI (docs/nemesis.md): a fixed seed, a few rounds. It passes whenever
// no acknowledged write is lost, no write shows up twice and every replica's copy equals the
// primary's; a failure prints the run's summary with each finding and the command that
// replays the schedule (MR_NEMESIS_SEED / MR_NEMESIS_ROUNDS override the defaults here).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatReport, passed, runNemesis } from "./helpers/nemesis/run_nemesis.js";

const SEED = Number(process.env.MR_NEMESIS_SEED ?? 20261201);
const ROUNDS = Number(process.env.MR_NEMESIS_ROUNDS ?? 3);

test(`nemesis - ${ROUNDS} rounds of faults (seed ${SEED}): nothing acknowledged lost, nothing duplicated, every copy equal`, async () => {
  const report = await runNemesis({ rounds: ROUNDS, seed: SEED, log: process.env.MR_TEST_LOG ? (l) => process.stderr.write(`nemesis ${l}\n`) : undefined });
  const summary = formatReport(report);
  process.stdout.write(`${summary}\n`);
  assert.ok(report.acknowledged > 0, `the clients got no write acknowledged:\n${summary}`);
  assert.is(report.faultLog.length, ROUNDS, "one fault per round");
  assert.ok(passed(report), summary);
});

test.run();
