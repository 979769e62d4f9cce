#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in its own Node process, so a crash
// or a leaked handle in one file cannot hide the results of another, and ends with the one
// line CI reads: `N passed, N failed`.
//   node scripts/run_tests.mjs [pattern ...]   (only files whose path contains a pattern)
//   MR_TEST_JOBS=2                             (files run at once; default 1)
//   MR_TEST_FILE_TIMEOUT_MS=600000             (a file still running then is killed and failed)
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const testRoot = join(root, "dist", "test");
const patterns = process.argv.slice(2);
const jobs = Math.max(1, Number(process.env.MR_TEST_JOBS ?? 1));
const fileTimeout = Number(process.env.MR_TEST_FILE_TIMEOUT_MS ?? 600_000);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const files = walk(testRoot)
  .filter((f) => patterns.length === 0 || patterns.some((p) => relative(testRoot, f).includes(p)))
  .sort();
if (files.length === 0) {
  console.error(`run_tests: no test files under ${relative(root, testRoot)}${patterns.length ? ` matching ${patterns.join(", ")}` : ""}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");
let passed = 0;
let failed = 0;
const failures = [];

function runFile(file) {
  return new Promise((resolve) => {
    const name = relative(testRoot, file);
    const started = Date.now();
    const child = spawn(process.execPath, ["--enable-source-maps", file], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      // Tests never read this machine's /etc/mailreplica (an installed mailreplica's config);
      // the tests of that file name their own with MR_SYSTEM_CONFIG.
      env: { MR_SYSTEM_CONFIG: "none", ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\nrun_tests: ${name} still running after ${fileTimeout} ms; killed\n`;
      child.kill("SIGKILL");
    }, fileTimeout);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const text = strip(out);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const ok = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      let p = 0;
      let f = 0;
      if (Number.isNaN(total) || Number.isNaN(ok)) {
        f = 1; // no summary: the file crashed before uvu could report
      } else {
        p = ok;
        f = total - ok - skipped;
        if (code !== 0 && f === 0) f = 1; // uvu passed but the process failed afterwards
      }
      passed += p;
      failed += f;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${f ? "FAIL" : "ok  "} ${name}: ${p} passed, ${f} failed (${secs}s)\n`);
      if (f || process.env.MR_TEST_VERBOSE) {
        failures.push(name);
        process.stdout.write(
          text
            .split("\n")
            .map((l) => `    | ${l}`)
            .join("\n") + `\n    | (exit ${code ?? signal})\n`,
        );
      }
      resolve();
    });
  });
}

const queue = [...files];
await Promise.all(
  Array.from({ length: Math.min(jobs, files.length) }, async () => {
    while (queue.length) await runFile(queue.shift());
  }),
);
if (failures.length) console.log(`failed files: ${failures.join(", ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
