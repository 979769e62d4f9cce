// The layout's rules, read from the sources (static, type-only and dynamic imports alike, as
// TypeScript itself lists them): no import cycle; the actor runtime knows nothing of mail (it imports only itself and the error base);
// the two processes share code only through actors/shared and src/; src/ reaches actors/ only
// from the CLI commands that start a process. docs/architecture.md "Layout" explains why.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import ts from "typescript";
import { projectRoot } from "../src/paths.js";

const ROOT = projectRoot();
const TREES = ["src", "actors", "config"];

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourcesUnder(rel));
    else if (e.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Project files each file imports (relative specifiers resolved; packages left out). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true);
    const targets: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = normalize(join(dirname(file), fileName.replace(/\.js$/, ".ts")));
      if (existsSync(join(ROOT, target))) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const FILES = TREES.flatMap(sourcesUnder);
const GRAPH = importGraph(FILES);

/** Every import of a file under `from` that reaches a file under one of `to`, as "a -> b". */
function importsBetween(from: string, to: readonly string[], except: (file: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const [file, targets] of GRAPH) {
    if (!file.startsWith(from) || except(file)) continue;
    for (const t of targets) if (to.some((prefix) => t.startsWith(prefix))) out.push(`${file} -> ${t}`);
  }
  return out;
}

test("layout - the import graph is read: the mailstore node imports its account actor", () => {
  // Guards the checks below against an empty or misread graph passing them all.
  assert.ok(FILES.length > 100, `only ${FILES.length} files found`);
  assert.ok(GRAPH.get(join("actors", "mailstore", "node.ts"))?.includes(join("actors", "mailstore", "account.ts")));
});

test("layout - the cycle finder sees a cycle, including one through a type-only import", () => {
  const g = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
  ]);
  assert.equal(cycles(g), [["a.ts", "b.ts", "c.ts"]]);
  const typeOnly = ts.preProcessFile(`import type { X } from "./x.js";\nconst m = await import("./y.js");`, true, true);
  assert.equal(
    typeOnly.importedFiles.map((f) => f.fileName),
    ["./x.js", "./y.js"],
  );
});

test("layout - no import cycle in src/, actors/ or config/ (type-only imports count)", () => {
  const found = cycles(GRAPH);
  assert.equal(
    found.map((c) => `files importing each other in a cycle: ${c.join(", ")}`),
    [],
  );
});

test("layout - the actor runtime (src/runtime) imports only itself and the error base (src/errors), which imports nothing", () => {
  const runtime = join("src", "runtime") + "/";
  const errors = join("src", "errors") + "/";
  const outside = TREES.map((t) => t + "/");
  assert.equal(
    importsBetween(runtime, outside).filter((line) => !/^(src\/runtime|src\/errors)\//.test(line.split(" -> ")[1]!)),
    [],
  );
  assert.equal(
    importsBetween(errors, outside).filter((line) => !line.split(" -> ")[1]!.startsWith(errors)),
    [],
  );
});

test("layout - the mailstore and the supervisor import nothing of each other; shared code imports neither", () => {
  const mailstore = join("actors", "mailstore") + "/";
  const supervisor = join("actors", "supervisor") + "/";
  assert.equal(importsBetween(mailstore, [supervisor]), [], "mailstore -> supervisor");
  assert.equal(importsBetween(supervisor, [mailstore]), [], "supervisor -> mailstore");
  assert.equal(importsBetween(join("actors", "shared") + "/", [mailstore, supervisor]), [], "shared -> a process");
});

test("layout - every actors/ file is in a process's folder or in actors/shared", () => {
  const loose = FILES.filter((f) => f.startsWith("actors/") && !/^actors\/(mailstore|supervisor|shared)\//.test(f));
  assert.equal(loose, []);
});

test("layout - src/ reaches actors/ only from the CLI commands that start a process", () => {
  const allowed = new Set([join("src", "cli", "commands", "mailstore.ts"), join("src", "cli", "commands", "supervisor.ts")]);
  assert.equal(
    importsBetween("src/", ["actors/"], (f) => allowed.has(f)),
    [],
  );
});

test("layout - the wire contract (src/protocol) loads no NATS client, no SQLite and no mail parser", () => {
  const heavy = /^(@nats-io\/|better-sqlite3$|mailparser$)/;
  const offenders: string[] = [];
  // Follow src/protocol's imports through the project: the CLI loads it for --help.
  const seen = new Set<string>();
  const todo = FILES.filter((f) => f.startsWith(join("src", "protocol") + "/"));
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const info = ts.preProcessFile(readFileSync(join(ROOT, f), "utf8"), true, true);
    for (const { fileName } of info.importedFiles) if (heavy.test(fileName)) offenders.push(`${f} -> ${fileName}`);
    todo.push(...(GRAPH.get(f) ?? []));
  }
  assert.equal(offenders, []);
});

test.run();
