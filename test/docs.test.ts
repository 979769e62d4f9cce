// README states contracts outside tools rely on; these tests keep it true to the code.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { appErrorRows } from "../src/jsonrpc/index.js";
import { envVariables } from "../src/config/index.js";
import { projectRoot } from "../src/paths.js";

const readme = readFileSync(join(projectRoot(), "README.md"), "utf8");

test("docs - README lists every application error code with its number and aliases", () => {
  for (const r of appErrorRows()) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${r.code}\` |`));
    assert.ok(row, `README has no row for ${r.code}`);
    assert.ok(row!.includes(`| ${r.rpcCode} |`), `README gives ${r.code} another number: ${row}`);
    for (const a of r.aliases ?? []) assert.ok(row!.includes(`\`${a}\``), `README row of ${r.code} lacks alias ${a}`);
  }
  const listed = readme.split("\n").filter((l) => /^\| `[A-Z_]+` \| -320\d\d \|/.test(l)).length;
  assert.is(listed, appErrorRows().length, "README lists a code the code does not have");
});

test("docs - README lists every environment variable", () => {
  for (const v of envVariables()) assert.ok(readme.includes(`| \`${v.name}\` |`), `README lacks ${v.name}`);
});

test("docs - the commands README shows exist", async () => {
  const { runCli } = await import("../src/cli/main.js");
  for (const cmd of [
    "keys",
    "mailstore",
    "supervisor",
    "repl",
    "dev",
    "call",
    "config",
    "setAccountDestination",
    "getAccountStatus",
    "getServices",
    "monitor",
  ]) {
    const out: string[] = [];
    const code = await runCli(["help", cmd], { out: (l) => out.push(l), err: (l) => out.push(l), env: {}, cwd: process.cwd() });
    assert.is(code, 0, `help ${cmd}: ${out.join(" ")}`);
  }
});

test.run();
