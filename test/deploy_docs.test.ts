// docs/operations.md is followed by operators who have never seen mailreplica: every
// `mailreplica ...` command line in it must be one the CLI knows (command words, options and
// parameter names), every config key one the schema has, every MR_* name a real variable or
// asset, and every file of deploy/ it points to must exist.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { configSchema } from "../config/schema.js";
import { findCommand, loadCommands } from "../src/cli/command.js";
import { commandHelp, generalHelp } from "../src/cli/help.js";
import { defaultConfig, envVariables } from "../src/config/index.js";
import { projectRoot } from "../src/paths.js";

const root = projectRoot();
const doc = readFileSync(join(root, "docs", "operations.md"), "utf8");

/** Global options and whether they take a value (`mailreplica --help`). */
const GLOBALS: Record<string, boolean> = {
  "--json": false,
  "--sync": false,
  "--progress": false,
  "--help": false,
  "-h": false,
  "--version": false,
  "--config": true,
  "--servers": true,
};

/** The text of fenced code blocks, and the inline code spans outside them. */
function codeOf(markdown: string): { blocks: string[]; spans: string[] } {
  const blocks: string[] = [];
  const prose = markdown.replace(/^( *)```[a-z]*\n([\s\S]*?)^\1```$/gm, (_m, _indent: string, body: string) => {
    blocks.push(body);
    return "";
  });
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return { blocks, spans };
}

/** Shell words of a command line (single and double quotes, no expansion). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Every mailreplica command line: its words after `mailreplica`, up to a comment, pipe or redirection. */
function mailreplicaCommands(): { line: string; words: string[] }[] {
  const { blocks, spans } = codeOf(doc);
  const lines = [...blocks.flatMap((b) => b.split("\n")), ...spans];
  const out: { line: string; words: string[] }[] = [];
  for (const line of lines) {
    const words = shellWords(line.replace(/\s#\s.*$/, ""));
    words.forEach((w, i) => {
      // A command word: `mailreplica` itself, not a path or a name such as mailreplica-supervisor.
      if (w !== "mailreplica") return;
      const prev = words[i - 1];
      if (prev !== undefined && !["--", "&&", ";", "sudo", "$"].includes(prev)) return;
      const rest: string[] = [];
      for (const x of words.slice(i + 1)) {
        if (["|", ">", "&&", ";", "#"].includes(x) || x.startsWith(">")) break;
        rest.push(x);
      }
      out.push({ line, words: rest });
    });
  }
  return out;
}

function schemaPaths(): string[] {
  const paths: string[] = [];
  const visit = (fields: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(fields)) {
      const r = v as { kind: string; fields?: Record<string, unknown> };
      if (r.kind === "group") visit(r.fields!, `${prefix}${k}.`);
      else paths.push(prefix + k);
    }
  };
  visit(configSchema.fields, "");
  return paths;
}

test("deploy docs - every mailreplica command line names a real command, its options and parameter names", async () => {
  for (const problem of await loadCommands()) assert.unreachable(problem);
  const commands = mailreplicaCommands();
  const used = new Set<string>();
  for (const { line, words } of commands) {
    const command: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w in GLOBALS) {
        if (GLOBALS[w]) i++;
        continue;
      }
      assert.ok(command.length > 0 || !w.startsWith("-"), `docs/operations.md: ${w} is no global option ("${line}")`);
      command.push(w);
    }
    if (command.length === 0) continue; // `mailreplica --help`, `mailreplica --version`
    if (command[0]!.startsWith("<")) continue; // `mailreplica <command>`: a placeholder
    const found = findCommand(command);
    assert.ok(found, `docs/operations.md: unknown command in "${line}"`);
    assert.equal(found!.path, command.slice(0, found!.path.length), `docs/operations.md: write the command as the CLI spells it in "${line}"`);
    used.add(found!.path.join(" "));
    const help = commandHelp(found!.command, found!.path).join("\n");
    for (const w of found!.rest) {
      // Options and parameter names must be in the command's help; values (addresses, host
      // names, numbers, files, JSON) are not names.
      if (w.startsWith("--")) assert.ok(help.includes(w.split("=")[0]!), `docs/operations.md: ${found!.path.join(" ")} has no option ${w} ("${line}")`);
      else if (/^[A-Za-z_]+$/.test(w))
        assert.ok(new RegExp(`\\b${w}\\b`).test(help), `docs/operations.md: ${found!.path.join(" ")} has no parameter ${w} ("${line}")`);
    }
  }
  // The guide's tasks need these; a broken extraction would find none.
  for (const c of [
    "keys init",
    "config check",
    "getServices",
    "test",
    "setAccountDestination",
    "getAccountStatus",
    "promoteAccounts",
    "verifyReplicas",
    "restartReplicas",
    "call",
  ]) {
    assert.ok(used.has(c), `docs/operations.md never shows mailreplica ${c} (found: ${[...used].join(", ")})`);
  }
});

test("deploy docs - the extraction catches a command, a parameter or an option that does not exist", async () => {
  await loadCommands();
  assert.is(findCommand(["promoteAccount"]), undefined);
  const found = findCommand(["promoteAccounts", "sourceMailHost", "x"])!;
  assert.not.match(commandHelp(found.command, found.path).join("\n"), /\bsourceMailHost\b/);
  assert.equal(shellWords(`a 'b c' "d \\"e\\"" f`), ["a", "b c", 'd \\"e\\"', "f"]);
});

test("deploy docs - every config key named exists in config/schema.ts", () => {
  const known = schemaPaths();
  const groups = Object.keys(configSchema.fields);
  const { blocks, spans } = codeOf(doc);
  const keyLike = new RegExp(`^(${groups.join("|")})\\.[A-Za-z][A-Za-z.]*$`);
  const named = [...spans, ...blocks.flatMap((b) => b.split(/\s+/))].filter((s) => keyLike.test(s) && !/\.(com|org|json|conf|service)$/.test(s));
  assert.ok(named.length >= 8, `found too few config keys: ${named.join(", ")}`);
  for (const k of named) assert.ok(known.includes(k), `docs/operations.md names config key ${k}, which config/schema.ts does not have`);
});

test("deploy docs - every MR_* name is a variable mailreplica reads or a JetStream asset", () => {
  const vars = new Set(envVariables().map((v) => v.name));
  const help = generalHelp("test").join("\n");
  const assets = new Set(Object.values(defaultConfig().jetstream.streams));
  for (const m of doc.matchAll(/\bMR_[A-Z_]+\b/g)) {
    const name = m[0];
    assert.ok(vars.has(name) || assets.has(name) || help.includes(name), `docs/operations.md names ${name}, which is neither a variable nor an asset`);
  }
});

test("deploy docs - the deploy/ files and units it points to exist", () => {
  const paths = new Set<string>();
  for (const m of doc.matchAll(/\]\(\.\.\/([^)#]+)\)/g)) paths.add(m[1]!);
  for (const m of doc.matchAll(/\/opt\/mailreplica\/((?:deploy|docs)\/[\w./@-]+)/g)) paths.add(m[1]!.replace(/\.$/, ""));
  assert.ok(paths.has("deploy/nats/nats-server.conf") && paths.has("deploy/config/config.json"), [...paths].join(", "));
  for (const p of paths) assert.ok(existsSync(join(root, p)), `docs/operations.md points to ${p}, which does not exist`);
  for (const m of doc.matchAll(/\bmailreplica-(mailstore@|supervisor)/g)) {
    const unit = m[1] === "mailstore@" ? "mailreplica-mailstore@.service" : "mailreplica-supervisor.service";
    assert.ok(existsSync(join(root, "deploy", "systemd", unit)), unit);
  }
});

test("deploy docs - the guide covers what an operator needs, in order", () => {
  const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
  const wanted = [
    /Install/,
    /NATS cluster/,
    /Keys/,
    /Start/,
    /first account/,
    /Add a mailstore/,
    /Replace a failed nats-server node/,
    /Upgrade .* no downtime/,
    /Back up/,
    /Logs/,
  ];
  let at = -1;
  for (const w of wanted) {
    const i = headings.findIndex((h) => w.test(h));
    assert.ok(i > at, `docs/operations.md lacks a section ${w} after the previous one (sections: ${headings.join(" | ")})`);
    at = i;
  }
  assert.match(doc, /peer-remove/);
  assert.match(doc, /\$JS\.API\.SERVER\.REMOVE/);
  assert.match(doc, /journalctl/);
});

test.run();
