// The code is kept in prettier's format (.prettierrc.json): `npm run format` rewrites it,
// this test names the files that drifted. Read with prettier's own API and ignore file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";
import { projectRoot } from "../src/paths.js";

const ROOT = projectRoot();
const TREES = ["src", "actors", "config", "scripts", "test"];

function codeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) out.push(...codeFiles(rel));
    else if (/\.(ts|mjs)$/.test(e.name)) out.push(rel);
  }
  return out;
}

async function unformatted(files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    const path = join(ROOT, file);
    const info = await prettier.getFileInfo(path, { ignorePath: join(ROOT, ".prettierignore") });
    if (info.ignored) continue;
    const options = (await prettier.resolveConfig(path)) ?? {};
    if (!(await prettier.check(readFileSync(path, "utf8"), { ...options, filepath: path }))) out.push(file);
  }
  return out;
}

test("format - the check sees a badly formatted file (the configuration is read)", async () => {
  const options = (await prettier.resolveConfig(join(ROOT, "src", "paths.ts"))) ?? {};
  assert.is(options.printWidth, 160);
  assert.not.ok(await prettier.check("const  x = { a:1 }\n", { ...options, filepath: join(ROOT, "src", "x.ts") }));
});

test("format - every source file is formatted (npm run format fixes the ones named)", async () => {
  const files = TREES.flatMap(codeFiles);
  assert.ok(files.length > 300, `only ${files.length} files found`);
  assert.equal(await unformatted(files), []);
});

test.run();
