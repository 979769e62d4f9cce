// The CLI's params against the server's: every param the CLI (admin commands, `call` and the
// REPL's mailbox methods) names is a server param of that method, with the same type,
// mandatory/required, bounds and allowed values, or one of the few the CLI reads itself.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ADMIN_COMMANDS, findAdminCommand } from "../src/cli/admin/definitions.js";
import { INPUT_FILE } from "../src/cli/admin/definitions.js";
import { MAILBOX_METHODS as CLI_MAILBOX } from "../src/cli/admin/mailbox_specs.js";
import { parseCallParams } from "../src/cli/admin/call_params.js";
import { deriveParam } from "../src/cli/admin/server_params.js";
import { CliUsageError } from "../src/cli/errors.js";
import { ADMIN_METHODS } from "../src/protocol/admin_params.js";
import { MAILBOX_METHODS } from "../src/protocol/mailbox_params.js";
import type { MethodContracts } from "../src/protocol/method_contract.js";
import { projectRoot } from "../src/paths.js";

function serverParam(contracts: MethodContracts, method: string, name: string) {
  const c = contracts[method];
  assert.ok(c, `${method} is a server method`);
  const spec = c.params[name];
  assert.ok(spec, `${method}: the CLI's param '${name}' names no server param (server: ${Object.keys(c.params).join(", ") || "none"})`);
  return spec;
}

test("cli contract - each admin command's params are the server's, with the same type, mandatory, bounds and values", () => {
  assert.equal(ADMIN_COMMANDS.map((c) => c.name).sort(), Object.keys(ADMIN_METHODS).sort(), "one command per admin method");
  for (const cmd of ADMIN_COMMANDS) {
    const hasInputFile = cmd.params.includes(INPUT_FILE);
    for (const p of cmd.params) {
      if (p === INPUT_FILE) continue; // the CLI's own: read, and sent as accounts
      const d = deriveParam(p.name, serverParam(ADMIN_METHODS, cmd.name, p.name));
      const where = `${cmd.name}.${p.name}`;
      assert.ok(p.type === d.type || (p.type === "uuid" && d.type === "string"), `${where}: CLI type ${p.type}, server ${d.type}`);
      // `accounts` may instead come from input_file, so the CLI cannot demand it positionally.
      const mandatory = d.required && !(p.name === "accounts" && hasInputFile);
      assert.is(p.mandatory === true, mandatory, `${where}: CLI mandatory ${String(p.mandatory)}, server required ${d.required}`);
      assert.is(p.min, d.min, `${where}: min`);
      assert.is(p.max, d.max, `${where}: max`);
      assert.equal(p.values, d.values, `${where}: allowed values`);
    }
    // Whatever the server requires, the CLI can send.
    for (const [name, spec] of Object.entries(ADMIN_METHODS[cmd.name as keyof typeof ADMIN_METHODS].params)) {
      if (spec.required)
        assert.ok(
          cmd.params.some((p) => p.name === name),
          `${cmd.name}: the server requires '${name}', which the CLI cannot give`,
        );
    }
  }
});

test("cli contract - each mailbox method the CLI knows types its params as the server does", () => {
  assert.equal(CLI_MAILBOX.map((m) => m.name).sort(), Object.keys(MAILBOX_METHODS).sort(), "one entry per mailbox method");
  for (const m of CLI_MAILBOX) {
    for (const p of m.params) {
      if (p.cliOnly) {
        assert.ok(
          ["deliverMessage.file", "getItem.out"].includes(`${m.name}.${p.name}`),
          `${m.name}.${p.name} is CLI-only: add it to this list if that is meant`,
        );
        assert.not.ok(
          MAILBOX_METHODS[m.name as keyof typeof MAILBOX_METHODS].params[p.name as never],
          `${m.name}.${p.name} is CLI-only but also a server param`,
        );
        continue;
      }
      const spec = serverParam(MAILBOX_METHODS, m.name, p.name);
      assert.is(p.server, spec, `${m.name}.${p.name} checks with the server's spec`);
      assert.is(p.type, deriveParam(p.name, spec).type, `${m.name}.${p.name}: type`);
      assert.is(p.mandatory === true, spec.required, `${m.name}.${p.name}: mandatory`);
    }
  }
});

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.instance(e, CliUsageError);
    return (e as Error).message;
  }
  return assert.unreachable("expected a CliUsageError") as never;
}

test("cli contract - the CLI refuses what the server would, in the server's terms, before any call", () => {
  const set = findAdminCommand("setAccountDestination")!;
  assert.match(
    usageError(() => set.toParams(["ms2.example.com", "2000000", "accounts", "a@example.com"], projectRoot())),
    /priority.*from 0 to 1000000/,
  );
  assert.equal(set.toParams(["ms2.example.com", "1000000", "accounts", "a@example.com"], projectRoot()), {
    destination: "ms2.example.com",
    priority: 1_000_000,
    accounts: ["a@example.com"],
  });
  assert.match(
    usageError(() => findAdminCommand("promoteAccounts")!.toParams(["threads", "65"], projectRoot())),
    /from 1 to 64/,
  );
  assert.match(
    usageError(() => findAdminCommand("doStopService")!.toParams(["modules"], projectRoot())),
    /one of module/,
  );
  const list = CLI_MAILBOX.find((m) => m.name === "listItems")!;
  assert.match(
    usageError(() => parseCallParams(["account", "a@example.com", "limit", "0"], list)),
    /limit' must be an integer from 1 to 1000/,
  );
  const del = CLI_MAILBOX.find((m) => m.name === "deleteItems")!;
  assert.match(
    usageError(() => parseCallParams(["account", "a@example.com", "ids", "0,1"], del)),
    /ids' must be an array of 1 to 1000 items of integers of at least 1/,
  );
  assert.equal(parseCallParams(["account", "a@example.com", "ids", "1,2"], del), { account: "a@example.com", ids: [1, 2] });
});

/** Every module `file` loads at run time (type-only imports left out), transitively. */
function loads(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^;"]*?from\s+)?"([^"]+)"/gm)) {
    const spec = m[1]!;
    if (!spec.startsWith(".")) {
      seen.add(spec);
      continue;
    }
    loads(resolve(dirname(file), spec).replace(/\.js$/, ".ts"), seen);
  }
  return seen;
}

test("cli contract - the wire contract loads no package (the CLI imports it for --help)", () => {
  for (const f of ["admin_params.ts", "mailbox_params.ts", "discovery.ts"]) {
    const all = [...loads(join(projectRoot(), "src", "protocol", f))];
    const packages = all.filter((x) => !x.startsWith("/") && !x.startsWith("node:"));
    assert.equal(packages, [], `src/protocol/${f} loads ${packages.join(", ")}`);
    const shown = all.filter((x) => x.startsWith("/")).map((x) => relative(projectRoot(), x));
    assert.not.ok(
      shown.some((x) => x.startsWith("actors")),
      `src/protocol/${f} loads ${shown.join(", ")}`,
    );
  }
});

test.run();
