#!/usr/bin/env node
// Makes a fresh clone runnable: installs node_modules when missing or stale, builds the
// TypeScript, and makes sure a nats-server >= 2.10 is at hand. `npm start` and `npm test`
// run this first, so a new user never runs a set-up step by hand.
//
// Plain JavaScript with no dependencies: it runs before anything is installed or built.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const say = (line) => {
  if (!quiet) process.stderr.write(`prepare: ${line}\n`);
};

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    process.stderr.write(`prepare: ${what} failed (${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}).\n`);
    process.exit(r.status || 1);
  }
}

const major = Number(process.versions.node.split(".")[0]);
if (major < 20) {
  process.stderr.write(`prepare: Node ${process.versions.node} is too old; mailreplica needs Node 20 or newer.\n`);
  process.exit(1);
}

// 1. node_modules: the stamp ties the install to the lock file and to the Node ABI
//    (better-sqlite3 is a native addon built for one ABI).
const lock = readFileSync(join(root, "package-lock.json"));
const want = createHash("sha256").update(lock).update(process.versions.modules).digest("hex");
const stampFile = join(root, "node_modules", ".mailreplica-install");
const have = existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : "";
if (have !== want) {
  say(existsSync(join(root, "node_modules")) ? "node_modules is stale; running npm ci" : "installing dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"], "installing dependencies");
  writeFileSync(stampFile, want + "\n");
}

// 2. Build. tsc never deletes output, so first drop compiled files whose source is gone
//    (a removed command or test would otherwise still load or run from dist/).
let dropped = 0;
function dropStale(distDir, srcDir) {
  if (!existsSync(distDir)) return;
  for (const name of readdirSync(distDir)) {
    const d = join(distDir, name);
    // A .js.map listed here may be gone already: it went with its .js a moment ago.
    if (!existsSync(d)) continue;
    if (statSync(d).isDirectory()) dropStale(d, join(srcDir, name));
    else if (name.endsWith(".js") && !existsSync(join(srcDir, name.slice(0, -3) + ".ts"))) {
      rmSync(d);
      rmSync(d + ".map", { force: true });
      dropped++;
    }
  }
}
for (const top of ["src", "actors", "config", "scripts", "test"]) dropStale(join(root, "dist", top), join(root, top));
// tsc's build info still lists what was dropped as emitted: a source restored with the same
// content would never be compiled again. Forget it, so the next build is a full one.
if (dropped > 0) rmSync(join(root, "dist", ".tsbuildinfo"), { force: true });
// tsc's incremental build is a no-op when nothing changed.
run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], "building (tsc)");

// 3. nats-server >= 2.10 (found, or fetched once into .local/).
run(process.execPath, [join(root, "dist", "scripts", "nats_server.js"), "ensure", ...(quiet ? ["--quiet"] : [])], "finding nats-server");
