import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { accountsFromParams, readAccountsFile } from "../src/cli/input_file.js";
import { parseCarbonioParams, parseOptions, usageOfParams, formatParamsHelp } from "../src/cli/args.js";
import { registerCommand, findCommand } from "../src/cli/command.js";
import { CliUsageError, DuplicateCommandError, InputFileError } from "../src/cli/errors.js";
import { runCli } from "../src/cli/main.js";
import type { CliIo, CommandIo } from "../src/cli/types.js";
import { defaultConfig, loadConfig } from "../src/config/index.js";
import { projectRoot } from "../src/paths.js";
import { tempDir } from "./helpers/processes.js";
import { runCliWithEnv, type CliRun } from "./helpers/cli_capture.js";

function usageError(run: () => unknown, code = "CLI_USAGE"): CliUsageError {
  try {
    run();
  } catch (e) {
    assert.instance(e, CliUsageError);
    const err = e as CliUsageError;
    assert.is(err.code, code, err.message);
    return err;
  }
  assert.unreachable("expected a CliUsageError");
  throw new Error("unreachable");
}

interface Captured extends CliIo {
  stdout: string[];
  stderr: string[];
}

function captureIo(env: NodeJS.ProcessEnv = {}, cwd = projectRoot()): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l), env, cwd };
}

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}, cwd = projectRoot()): Promise<CliRun> => runCliWithEnv(argv, env, cwd);

// ------------------------------------------------------------------ parseOptions

const KEYS_SPEC = {
  host: { type: "string", value: "H", description: "host" },
  dir: { type: "string", short: "d", value: "DIR", description: "dir" },
  force: { type: "boolean", description: "force" },
  threads: { type: "integer", description: "threads" },
  accounts: { type: "list", description: "accounts" },
} as const;

test("cli - parseOptions reads --flag value, --flag=value, short and boolean flags", () => {
  const r = parseOptions(["--host", "h1.example.com", "--dir=/k", "--force", "--threads", "8", "--accounts", "a@x.com,b@x.com"], KEYS_SPEC);
  assert.equal(r.options, { host: "h1.example.com", dir: "/k", force: true, threads: 8, accounts: ["a@x.com", "b@x.com"] });
  assert.equal(r.positionals, []);
  assert.equal(parseOptions(["-d", "/x", "--force=false"], KEYS_SPEC).options, { dir: "/x", force: false });
  const p = parseOptions(["a", "--force", "--", "--not-an-option"], KEYS_SPEC, { maxPositionals: 2 });
  assert.equal(p.positionals, ["a", "--not-an-option"]);
});

test("cli - parseOptions refuses unknown options, missing values, bad integers, repeats and stray arguments", () => {
  const unknown = usageError(() => parseOptions(["--hots", "h"], KEYS_SPEC));
  assert.ok(unknown.message.includes("unknown option '--hots'"), unknown.message);
  assert.ok(unknown.message.includes("did you mean 'host'"), unknown.message);
  assert.ok(unknown.message.includes("allowed: --host, --dir (-d), --force, --threads, --accounts"), unknown.message);
  assert.ok(usageError(() => parseOptions(["--dir"], KEYS_SPEC)).message.includes("option --dir needs a value (DIR)"));
  assert.ok(usageError(() => parseOptions(["--dir", "--force"], KEYS_SPEC)).message.includes("needs a value"));
  assert.ok(usageError(() => parseOptions(["--threads", "four"], KEYS_SPEC)).message.includes('option --threads needs an integer, got "four"'));
  assert.ok(usageError(() => parseOptions(["--force=yes"], KEYS_SPEC)).message.includes("true or false"));
  assert.ok(usageError(() => parseOptions(["--host", "a", "--host", "b"], KEYS_SPEC)).message.includes("given twice"));
  assert.ok(usageError(() => parseOptions(["extra"], KEYS_SPEC)).message.includes("unexpected argument 'extra'"));
  assert.ok(usageError(() => parseOptions(["--accounts", "a,,b"], KEYS_SPEC)).message.includes("empty entry"));
  assert.ok(usageError(() => parseOptions([], {}, { minPositionals: 1, positionalName: "FILE" })).message.includes("missing FILE"));
});

// ------------------------------------------------------------------ Carbonio params

const SET_DEST = [
  { name: "destination", type: "string", mandatory: true, expected: "Server Hostname/ID" },
  { name: "priority", type: "integer", mandatory: true },
  { name: "accounts", type: "list", expected: "Account Name/ID[,..]" },
  { name: "input_file", type: "string" },
] as const;

const STATUS = [
  { name: "accountStatus", type: "string", values: ["active", "paused"] },
  { name: "replicaStatus", type: "list", values: ["available", "unavailable"] },
  { name: "threads", type: "integer", default: 4, min: 1, max: 64 },
  { name: "verbose", type: "boolean", default: false },
  { name: "operation_uuid", type: "uuid" },
] as const;

test("cli - Carbonio params: positional mandatory params, then name value pairs, lists comma separated", () => {
  const v = parseCarbonioParams(["server2.example.com", "10", "accounts", "u0@example.com,u1@example.com"], SET_DEST);
  assert.equal(v, { destination: "server2.example.com", priority: 10, accounts: ["u0@example.com", "u1@example.com"] });
  const n: number = v.priority;
  assert.is(n, 10);
  const f = parseCarbonioParams(["server3.example.com", "20", "input_file", "/tmp/accounts"], SET_DEST);
  assert.is(f.input_file, "/tmp/accounts");
  assert.is(f.accounts, undefined);
  const s = parseCarbonioParams(
    ["replicaStatus", "available,unavailable", "verbose", "true", "operation_uuid", "9E94F5E0-8E0D-4F61-93AA-00747AC3DBA6"],
    STATUS,
  );
  assert.equal(s, { replicaStatus: ["available", "unavailable"], verbose: true, operation_uuid: "9e94f5e0-8e0d-4f61-93aa-00747ac3dba6", threads: 4 });
  assert.is(usageOfParams("setAccountDestination", SET_DEST), "setAccountDestination <destination> <priority> [accounts VALUE[,VALUE]] [input_file VALUE]");
  const help = formatParamsHelp(STATUS).join("\n");
  assert.ok(help.includes("threads (O)") && help.includes("Integer 1-64") && help.includes("active|paused"), help);
});

test("cli - Carbonio params: missing, unknown, duplicate and badly typed params are refused by name", () => {
  const missing = usageError(() => parseCarbonioParams(["server2.example.com"], SET_DEST));
  assert.ok(missing.message.includes("missing mandatory param 'priority' (Integer)"), missing.message);
  const named = usageError(() => parseCarbonioParams(["server2.example.com", "accounts", "a@x.com"], SET_DEST));
  assert.ok(named.message.includes("found the param name 'accounts' in its place"), named.message);
  const notInt = usageError(() => parseCarbonioParams(["server2.example.com", "ten"], SET_DEST));
  assert.ok(notInt.message.includes(`param 'priority' must be an integer, got "ten"`), notInt.message);
  assert.ok(usageError(() => parseCarbonioParams(["s", "1.5"], SET_DEST)).message.includes("must be an integer"));
  const unknown = usageError(() => parseCarbonioParams(["s", "1", "acounts", "a@x.com"], SET_DEST));
  assert.ok(unknown.message.includes("unknown param 'acounts' (did you mean 'accounts'?); allowed: accounts, input_file"), unknown.message);
  const spaced = usageError(() => parseCarbonioParams(["s", "1", "accounts", "a@x.com,", "b@x.com"], SET_DEST));
  assert.ok(spaced.message.includes("without spaces"), spaced.message);
  const dup = usageError(() => parseCarbonioParams(["s", "1", "accounts", "a@x.com", "accounts", "b@x.com"], SET_DEST));
  assert.ok(dup.message.includes("param 'accounts' is given twice"), dup.message);
  assert.ok(usageError(() => parseCarbonioParams(["s", "1", "accounts"], SET_DEST)).message.includes("param 'accounts' needs a value"));
  assert.ok(usageError(() => parseCarbonioParams(["s", "1", "priority", "2"], SET_DEST)).message.includes("mandatory and given positionally"));
  assert.ok(usageError(() => parseCarbonioParams(["accountStatus", "sleeping"], STATUS)).message.includes("must be one of active, paused"));
  assert.ok(usageError(() => parseCarbonioParams(["replicaStatus", "available,gone"], STATUS)).message.includes("one of available, unavailable"));
  assert.ok(usageError(() => parseCarbonioParams(["threads", "0"], STATUS)).message.includes("an integer from 1 to 64"));
  assert.ok(usageError(() => parseCarbonioParams(["verbose", "yes"], STATUS)).message.includes("true or false"));
  assert.ok(usageError(() => parseCarbonioParams(["operation_uuid", "123"], STATUS)).message.includes("a UUID"));
  assert.ok(usageError(() => parseCarbonioParams(["x"], [])).message.includes("this command takes no named params"));
});

test("cli - input_file: one account per line, blank lines and # comments ignored, clear errors", () => {
  const dir = tempDir("mr-cli-input-");
  writeFileSync(join(dir, "accounts"), "# replicas for server2\njohn.doe@example.com\n\n  jane.doe@example.com  \r\njohn.doe@example.com\n");
  assert.equal(readAccountsFile("accounts", dir), ["john.doe@example.com", "jane.doe@example.com"]);
  const missing = usageError(() => readAccountsFile(join(dir, "nope")), "CLI_INPUT_FILE");
  assert.instance(missing, InputFileError);
  assert.ok(missing.message.includes(join(dir, "nope")) && missing.message.includes("does not exist"), missing.message);
  writeFileSync(join(dir, "empty"), "# nothing\n\n");
  assert.ok(usageError(() => readAccountsFile(join(dir, "empty")), "CLI_INPUT_FILE").message.includes("lists no accounts"));
  writeFileSync(join(dir, "two"), "a@x.com\nb@x.com c@x.com\n");
  assert.ok(usageError(() => readAccountsFile(join(dir, "two")), "CLI_INPUT_FILE").message.includes("line 2"));
  assert.equal(accountsFromParams({ input_file: "accounts" }, dir), ["john.doe@example.com", "jane.doe@example.com"]);
  assert.equal(accountsFromParams({ accounts: ["a@x.com"] }, dir), ["a@x.com"]);
  assert.is(accountsFromParams({}, dir), undefined);
  assert.ok(usageError(() => accountsFromParams({ accounts: ["a@x.com"], input_file: "accounts" }, dir), "CLI_INPUT_FILE").message.includes("not both"));
});

// ------------------------------------------------------------------ registry and runCli

let seen: CommandIo | undefined;
let seenArgv: string[] = [];
registerCommand({
  name: "probeCmd",
  summary: "Test command that records what it was given.",
  usage: "probeCmd [anything]",
  run: async (argv, io) => {
    seen = io;
    seenArgv = argv;
    return 0;
  },
});
registerCommand({
  name: "failCmd",
  summary: "Test command that fails.",
  usage: "failCmd usage|coded|plain",
  run: async (argv) => {
    if (argv[0] === "usage") throw new CliUsageError("param 'x' is wrong");
    if (argv[0] === "coded") throw Object.assign(new Error("the mailstore is gone"), { code: "MAILSTORE_GONE" });
    throw new Error("plain failure");
  },
});

test("cli - registry refuses duplicate names and finds sub-commands in any case", async () => {
  await runCli(["--version"], captureIo()); // loads the command files
  assert.throws(
    () => registerCommand({ name: "PROBECMD", summary: "s", usage: "u", run: async () => 0 }),
    (e: unknown) => e instanceof DuplicateCommandError,
  );
  assert.throws(
    () => registerCommand({ name: "help", summary: "s", usage: "u", run: async () => 0 }),
    (e: unknown) => e instanceof DuplicateCommandError,
  );
  const f = findCommand(["KEYS", "init", "--dir", "x"]);
  assert.equal(f && { path: f.path, rest: f.rest }, { path: ["keys", "init"], rest: ["--dir", "x"] });
});

test("cli - --help and help list every command with its summary, and the environment variables", async () => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    const r = await cli(argv);
    assert.is(r.code, 0, r.err);
    for (const text of [
      "keys init",
      "config show",
      "config check",
      "probeCmd",
      "Test command that records",
      "MR_SERVERS",
      "MR_JS_REPLICAS",
      "MR_CONFIG",
      "--servers URL[,URL]",
    ]) {
      assert.ok(r.out.includes(text), `${argv.join(" ")}: ${text} missing`);
    }
  }
  const bare = await cli([]);
  assert.is(bare.code, 2);
  assert.ok(bare.err.includes("Usage: mailreplica"));
  assert.match((await cli(["--version"])).out, /^mailreplica \d+\.\d+\.\d+/);
});

test("cli - help <command> and <command> --help print the command's usage", async () => {
  const group = await cli(["help", "keys"]);
  assert.is(group.code, 0);
  assert.ok(group.out.includes("keys init") && group.out.includes("Sub-commands"), group.out);
  for (const argv of [
    ["help", "keys", "init"],
    ["keys", "init", "--help"],
    ["--help", "keys", "init"],
    ["keys", "init", "-h"],
  ]) {
    const r = await cli(argv);
    assert.is(r.code, 0, argv.join(" "));
    assert.ok(r.out.includes("Usage: mailreplica keys init [--host H] [--role mailstore|supervisor] [--dir DIR] [--force]"), r.out);
  }
  const unknown = await cli(["help", "frob"]);
  assert.is(unknown.code, 2);
  assert.ok(unknown.err.includes("unknown command 'frob'"), unknown.err);
});

test("cli - unknown command, unknown option and usage errors exit 2 with a clear message on stderr", async () => {
  const frob = await cli(["frob"]);
  assert.is(frob.code, 2);
  assert.is(frob.err, "mailreplica: unknown command 'frob'. Run 'mailreplica --help' for the list.");
  assert.is(frob.out, "");
  const typo = await cli(["kyes", "init"]);
  assert.ok(typo.err.includes("did you mean 'keys'?"), typo.err);
  const opt = await cli(["--frob", "keys"]);
  assert.is(opt.code, 2);
  assert.ok(opt.err.startsWith("mailreplica: unknown option '--frob'") && opt.err.includes("--json"), opt.err);
  const sub = await cli(["keys", "frob"]);
  assert.is(sub.code, 2);
  assert.ok(sub.err.includes("mailreplica keys: unknown sub-command 'frob'; allowed: init"), sub.err);
  const cmdOpt = await cli(["keys", "init", "--frob"]);
  assert.is(cmdOpt.code, 2);
  assert.ok(cmdOpt.err.includes("unknown option '--frob'") && cmdOpt.err.includes("Run 'mailreplica help keys init' for usage."), cmdOpt.err);
  const thrown = await cli(["failCmd", "usage"]);
  assert.is(thrown.code, 2);
  assert.is(thrown.err, "mailreplica failCmd: param 'x' is wrong. Run 'mailreplica help failCmd' for usage.");
  assert.is((await cli(["--config"])).code, 2);
});

test("cli - other errors exit 1 with the message and code; --json prints them as JSON", async () => {
  const coded = await cli(["failCmd", "coded"]);
  assert.is(coded.code, 1);
  assert.is(coded.err, "mailreplica failCmd: the mailstore is gone [MAILSTORE_GONE]");
  const plain = await cli(["failCmd", "plain"]);
  assert.is(plain.code, 1);
  assert.is(plain.err, "mailreplica failCmd: plain failure");
  assert.ok((await cli(["failCmd", "plain"], { MR_DEBUG: "1" })).err.includes("at "), "MR_DEBUG prints the stack");
  const json = await cli(["--json", "failCmd", "coded"]);
  assert.equal(JSON.parse(json.err), { error: { code: "MAILSTORE_GONE", message: "the mailstore is gone" } });
  const usage = await cli(["failCmd", "usage", "--json"]);
  assert.is(usage.code, 2);
  assert.is(JSON.parse(usage.err).error.code, "CLI_USAGE");
});

test("cli - global options reach the command, before or after its name, and --servers overrides the config", async () => {
  const dir = tempDir("mr-cli-globals-");
  writeFileSync(join(dir, "mr.json"), JSON.stringify({ jetstream: { replicas: 3 } }));
  const r = await cli(
    ["--json", "--config", "mr.json", "probeCmd", "a", "--sync", "--servers=nats://n1:4222,nats://n2:4222", "--progress", "b", "--", "--json"],
    {},
    dir,
  );
  assert.is(r.code, 0, r.err);
  assert.ok(seen);
  assert.equal(seen.globals, { json: true, sync: true, progress: true, configFile: "mr.json", servers: ["nats://n1:4222", "nats://n2:4222"] });
  assert.equal(seenArgv, ["a", "b", "--", "--json"]);
  const c = seen.config();
  assert.equal(c.nats.servers, ["nats://n1:4222", "nats://n2:4222"]);
  assert.is(c.jetstream.replicas, 3);
  assert.equal(seen.config({ nats: { servers: ["nats://own:1"] } }).nats.servers, ["nats://own:1"]);
});

test("cli - config show prints the effective configuration; config check exits 2 on errors", async () => {
  const show = await cli(["config", "show"], { MR_JS_REPLICAS: "3" });
  assert.is(show.code, 0, show.err);
  assert.equal(JSON.parse(show.out), loadConfig({ env: { MR_JS_REPLICAS: "3" } }));
  const ok = await cli(["config", "check"]);
  assert.is(ok.code, 0);
  assert.ok(ok.out.startsWith("ok:"), ok.out);
  const bad = await cli(["config", "check"], { MR_JS_REPLICAS: "2", MR_AUTO_FAILOVER: "maybe" });
  assert.is(bad.code, 2);
  assert.ok(bad.err.includes("MR_JS_REPLICAS") && bad.err.includes("allowed: 1 or 3") && bad.err.includes("MR_AUTO_FAILOVER"), bad.err);
  const dir = tempDir("mr-cli-check-");
  const badJson = await cli(["--json", "config", "check", "--config", join(dir, "none.json")]);
  assert.is(badJson.code, 2);
  assert.is(JSON.parse(badJson.out).code, "CONFIG_FILE_UNREADABLE");
  const showBad = await cli(["config", "show", "--servers", "http://x:1"]);
  assert.is(showBad.code, 2);
  assert.ok(showBad.err.includes("nats.servers[0] (from command-line option)"), showBad.err);
  assert.equal(defaultConfig().nats.servers, ["nats://127.0.0.1:4222"]);
});

test("cli - keys init writes the keys and prints files, kid and public key, never a secret", async () => {
  const dir = tempDir("mr-cli-keys-");
  const r = await cli(["keys", "init", "--host", "mailstore1.example.com", "--dir", "keys"], {}, dir);
  assert.is(r.code, 0, r.err);
  const keysDir = join(dir, "keys");
  const signing = JSON.parse(readFileSync(join(keysDir, "mailstore1.example.com.ed25519.json"), "utf8")) as { publicKey: string; secretKey: string };
  const box = JSON.parse(readFileSync(join(keysDir, "cluster.secretbox.json"), "utf8")) as { current: string; keys: Record<string, string> };
  assert.ok(r.out.includes(signing.publicKey) && r.out.includes(box.current) && r.out.includes(join(keysDir, "cluster.secretbox.json")), r.out);
  assert.not.ok(r.out.includes(signing.secretKey), "the signing secret key was printed");
  assert.not.ok(r.out.includes(box.keys[box.current]!), "the cluster key was printed");
  const again = await cli(["keys", "init", "--host", "mailstore1.example.com", "--dir", keysDir]);
  assert.is(again.code, 1);
  assert.ok(again.err.includes("[KEYS_EXIST]"), again.err);
  const json = await cli(["--json", "keys", "init", "--host", "mailstore2.example.com"], { MR_KEYS_DIR: keysDir });
  assert.is(json.code, 0, json.err);
  const result = JSON.parse(json.out) as Record<string, unknown>;
  assert.is(result.kid, box.current);
  assert.is(result.createdSecretbox, false);
  assert.is(result.dir, keysDir);
  const signing2 = JSON.parse(readFileSync(join(keysDir, "mailstore2.example.com.ed25519.json"), "utf8")) as { secretKey: string };
  assert.not.ok(json.out.includes(signing2.secretKey));
  // Both public keys are trusted in the folder's list, and the output says to copy it.
  const list = JSON.parse(readFileSync(join(keysDir, "trusted-signers.json"), "utf8")) as { signers: Array<{ host: string; role: string; publicKey: string }> };
  assert.equal(
    list.signers.map((x) => [x.host, x.role, x.publicKey]),
    [
      ["mailstore1.example.com", "mailstore", signing.publicKey],
      ["mailstore2.example.com", "mailstore", result.publicKey],
    ],
  );
  assert.ok(r.out.includes("trusted-signers.json") && r.out.includes("every node"), r.out);
  const badRole = await cli(["keys", "init", "--host", "sup.example.com", "--role", "admin", "--dir", keysDir]);
  assert.is(badRole.code, 1);
  assert.ok(badRole.err.includes("[KEYS_BAD_ROLE]"), badRole.err);
});

test("cli - command files import heavy modules lazily (only node builtins and the light framework at load)", () => {
  const cliDir = join(projectRoot(), "src", "cli");
  const files = readdirSync(cliDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"));
  assert.ok(files.includes(join("commands", "keys.ts")));
  // src/text holds dependency-free text helpers (printable: escaping control characters);
  // src/protocol the wire contract's param specs (its own lightness is checked in cli_params_contract);
  // src/errors the dependency-free error base classes.
  const allowed = [
    join(projectRoot(), "src", "errors"),
    join(projectRoot(), "src", "cli"),
    join(projectRoot(), "src", "config"),
    join(projectRoot(), "config"),
    join(projectRoot(), "src", "paths.ts"),
    join(projectRoot(), "src", "text"),
    join(projectRoot(), "src", "protocol"),
  ];
  for (const f of files) {
    const text = readFileSync(join(cliDir, f), "utf8");
    for (const m of text.matchAll(/^import\s+(?:(?!type\b)[^;"]*?from\s+)?"([^"]+)"/gm)) {
      const spec = m[1]!;
      if (spec.startsWith("node:")) continue;
      assert.ok(spec.startsWith("."), `${f} imports package ${spec} eagerly; use await import() inside run`);
      const target = resolve(dirname(join(cliDir, f)), spec).replace(/\.js$/, ".ts");
      assert.ok(
        allowed.some((a) => target === a || target.startsWith(a + "/")),
        `${f} imports ${relative(projectRoot(), target)} eagerly; use await import() inside run`,
      );
    }
  }
});

test("cli - bin/mailreplica runs as a process: --help exits 0, an unknown command exits 2", () => {
  const bin = join(projectRoot(), "bin", "mailreplica");
  const help = spawnSync(bin, ["--help"], { encoding: "utf8", timeout: 20_000 });
  assert.is(help.status, 0, help.stderr);
  assert.ok(help.stdout.includes("Commands:") && help.stdout.includes("keys init"), help.stdout);
  const frob = spawnSync(bin, ["frob"], { encoding: "utf8", timeout: 20_000 });
  assert.is(frob.status, 2);
  assert.is(frob.stderr, "mailreplica: unknown command 'frob'. Run 'mailreplica --help' for the list.\n");
  assert.is(frob.stdout, "");
});

test("cli - bin/mailreplica without dist/ says how to build and exits 1", () => {
  const root = tempDir("mr-cli-nodist-");
  mkdirSync(join(root, "bin"));
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
  copyFileSync(join(projectRoot(), "bin", "mailreplica"), join(root, "bin", "mailreplica"));
  const r = spawnSync(process.execPath, [join(root, "bin", "mailreplica"), "--help"], { encoding: "utf8", timeout: 20_000 });
  assert.is(r.status, 1);
  assert.is(r.stderr, "mailreplica: not built yet; run 'npm run build' (or npm start / npm test, which build first)\n");
});

test.run();
