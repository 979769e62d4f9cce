#!/usr/bin/env node
// Runs the test files matching <pattern> again and again, each round in fresh processes (as
// scripts/run_tests.mjs does), and prints how many rounds passed: for start-up races that must
// pass every time (issue 8 asks for 20 of 20 on a forming cluster).
//   node scripts/repeat_tests.mjs <pattern> [rounds=20]
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [pattern, roundsArg = "20"] = process.argv.slice(2);
const rounds = Number(roundsArg);
if (!pattern || !Number.isInteger(rounds) || rounds < 1) {
  console.error("usage: node scripts/repeat_tests.mjs <pattern> [rounds=20] (rounds: a whole number from 1)");
  process.exit(2);
}
let passed = 0;
for (let i = 1; i <= rounds; i++) {
  const r = spawnSync(process.execPath, [join(root, "scripts", "run_tests.mjs"), pattern], { cwd: root, encoding: "utf8" });
  const last = (r.stdout ?? "").trim().split("\n").at(-1) ?? "";
  const ok = r.status === 0 && /^\d+ passed, 0 failed$/.test(last);
  if (ok) passed++;
  else process.stdout.write(`${r.stdout}${r.stderr}`);
  console.log(`round ${i}: ${ok ? "passed" : "FAILED"} (${last})`);
}
console.log(`${passed} of ${rounds} rounds passed`);
process.exit(passed === rounds ? 0 : 1);
