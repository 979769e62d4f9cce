// `mailreplica auth init`: seeds 0600 in a 0700 folder, kept on a second run while missing
// identities are added, an include nats-server accepts, names from the configuration, and
// bad host lists refused with a clear error before anything is written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { natsServerPath } from "../src/natsserver/binary.js";
import { runCliCaptured, type CliRun } from "./helpers/cli_capture.js";
import { tempDir } from "./helpers/processes.js";

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCliCaptured(argv, env, process.cwd());

test("auth init - one 0600 seed per identity in a 0700 folder, an include nats-server accepts, no seed printed", async () => {
  const dir = join(tempDir("mr-authinit-"), "ids");
  const r = await cli(["auth", "init", "--dir", dir, "--mailstores", "a.example.com,b.example.com", "--supervisors", "s1"]);
  assert.is(r.code, 0, r.err);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  const seeds = readdirSync(dir)
    .filter((f) => f.endsWith(".nk"))
    .sort();
  assert.equal(seeds, ["admin.nk", "client.nk", "mailstore.a.example.com.nk", "mailstore.b.example.com.nk", "operator.nk", "supervisor.s1.nk"]);
  for (const f of seeds) {
    assert.is(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    const seed = readFileSync(join(dir, f), "utf8").trim();
    assert.match(seed, /^SU[A-Z2-7]{56}$/);
    assert.not.ok(r.out.includes(seed), `${f}'s seed was printed`);
  }
  const include = join(dir, "mailreplica-auth.conf");
  assert.ok(r.out.includes(include) && r.out.includes("MR_NATS_INBOX_PREFIX=_INBOX_mailstore_a_example_com"), r.out);
  execFileSync(natsServerPath(), ["-c", include, "-t"], { stdio: "ignore" }); // throws when nats-server refuses it
  const text = readFileSync(join(dir, "mailreplica-users.conf"), "utf8");
  assert.ok(
    text.includes('"$JS.API.STREAM.CREATE.MR_TX"') && !text.includes("STREAM.UPDATE.MR_TX") && text.split("STREAM.PURGE.MR_TX").length - 1 === 1,
    "processes may create, never update; only the one supervisor purges (compaction)",
  );
});

test("auth init - a second run keeps every seed, adds new hosts, rewrites the include from the configuration", async () => {
  const dir = join(tempDir("mr-authinit-"), "ids");
  assert.is((await cli(["auth", "init", "--dir", dir, "--mailstores", "a.example.com", "--supervisors", "s1"])).code, 0);
  const before = readFileSync(join(dir, "mailstore.a.example.com.nk"), "utf8");
  const again = await cli(["auth", "init", "--dir", dir, "--mailstores", "a.example.com,c.example.com", "--supervisors", "s1"], { MR_CONFIG: "" });
  assert.is(again.code, 0, again.err);
  assert.is(readFileSync(join(dir, "mailstore.a.example.com.nk"), "utf8"), before);
  assert.ok(again.out.includes("mailstore a.example.com: ") && again.out.includes("existing one kept"), again.out);
  assert.ok(existsSync(join(dir, "mailstore.c.example.com.nk")));
  const text = readFileSync(join(dir, "mailreplica-users.conf"), "utf8");
  assert.ok(text.includes('"mr.node.c.example.com.mailbox"'), "the new host's subjects are in the include");
  // Names come from the configuration: another stream name, another permission.
  const cfg = join(tempDir("mr-authinit-cfg-"), "c.json");
  writeFileSync(cfg, JSON.stringify({ jetstream: { streams: { tx: "LOGS" } } }));
  assert.is((await cli(["auth", "init", "--dir", dir, "--mailstores", "a.example.com", "--supervisors", "s1"], { MR_CONFIG: cfg })).code, 0);
  assert.ok(readFileSync(join(dir, "mailreplica-users.conf"), "utf8").includes('"$JS.API.STREAM.INFO.LOGS"'));
});

test("auth init - bad or colliding host names and a missing --mailstores are refused, nothing written", async () => {
  const dir = join(tempDir("mr-authinit-"), "ids");
  const star = await cli(["auth", "init", "--dir", dir, "--mailstores", "a.example.com,bad*host"]);
  assert.is(star.code, 1, star.err);
  assert.ok(star.err.includes('"bad*host" is not a host name') && star.err.includes("[AUTH_INIT_INVALID]"), star.err);
  const twins = await cli(["auth", "init", "--dir", dir, "--mailstores", "a.b,a_b"]);
  assert.ok(twins.err.includes("would share the reply inbox prefix"), twins.err);
  const none = await cli(["auth", "init", "--dir", dir]);
  assert.is(none.code, 2, none.err);
  assert.ok(none.err.includes("--mailstores"), none.err);
  assert.not.ok(existsSync(dir), "a refused run wrote files");
});

test.run();
