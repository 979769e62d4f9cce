// The supervisor process loads no SQLite and no mail parser: it keeps no mailbox. (Its modules
// once reached actors/mailstore/node.ts for a subject name; subjects live in src/protocol now.) Each
// module is imported in a fresh Node process, which then lists the packages it loaded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";

const LIST_LOADED = `
import { createRequire } from "node:module";
await import(process.argv[1]);
const cache = createRequire(import.meta.url).cache;
const pkgs = new Set(Object.keys(cache).filter((k) => k.includes("/node_modules/")).map((k) => {
  const rest = k.split("/node_modules/").pop().split("/");
  return rest[0].startsWith("@") ? rest[0] + "/" + rest[1] : rest[0];
}));
console.log(JSON.stringify([...pkgs].sort()));
`;

function packagesLoadedBy(module: string): string[] {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", LIST_LOADED, join(projectRoot(), "dist", module)], { encoding: "utf8" });
  return JSON.parse(out) as string[];
}

test("process imports - the supervisor loads neither better-sqlite3 nor mailparser; the mailstore loads both", () => {
  const supervisor = packagesLoadedBy("actors/supervisor/node.js");
  for (const heavy of ["better-sqlite3", "mailparser"]) assert.not.ok(supervisor.includes(heavy), `supervisor loads ${heavy}: ${supervisor.join(", ")}`);
  // The check can see them: the mailstore does load both.
  const mailstore = packagesLoadedBy("actors/mailstore/node.js");
  for (const heavy of ["better-sqlite3", "mailparser"]) assert.ok(mailstore.includes(heavy), `mailstore should load ${heavy}: ${mailstore.join(", ")}`);
});

test.run();
