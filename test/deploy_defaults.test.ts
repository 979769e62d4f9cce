// Defaults of an installed mailreplica: the system config file (MR_SYSTEM_CONFIG, default
// /etc/mailreplica/config.json) is read when no other file is named, and its presence makes
// data and keys default to /var/lib/mailreplica and <its folder>/keys. Every test names its
// own system file in a temporary folder, so nothing here depends on the real /etc.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, defaultConfig, loadConfig } from "../src/config/index.js";
import { INSTALLED_DATA_DIR, SYSTEM_CONFIG_FILE } from "../src/paths.js";
import { tempDir } from "./helpers/processes.js";
import { runCliWithEnv, type CliRun } from "./helpers/cli_capture.js";

function systemFile(content: unknown): { dir: string; file: string } {
  const dir = tempDir("mr-system-config-");
  const file = join(dir, "config.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return { dir, file };
}

const cli = (argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> => runCliWithEnv(argv, env, process.cwd());

test("deploy defaults - the system config file is /etc/mailreplica/config.json, installed data /var/lib/mailreplica", () => {
  assert.is(SYSTEM_CONFIG_FILE, "/etc/mailreplica/config.json");
  assert.is(INSTALLED_DATA_DIR, "/var/lib/mailreplica");
});

test("deploy defaults - with no --config and no MR_CONFIG the system file is read, data and keys move to the installed places", () => {
  const { dir, file } = systemFile({ nats: { servers: ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"] }, jetstream: { replicas: 3 } });
  const c = loadConfig({ env: { MR_SYSTEM_CONFIG: file } });
  assert.equal(c.nats.servers, ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]);
  assert.is(c.jetstream.replicas, 3);
  assert.is(c.data.dir, INSTALLED_DATA_DIR);
  assert.is(c.keys.dir, join(dir, "keys"), "keys sit next to the system config file (/etc/mailreplica/keys)");
  assert.is(c.writes.maxBatch, defaultConfig().writes.maxBatch, "keys the file does not set keep their defaults");
});

test("deploy defaults - precedence: installed defaults < system file < environment < options", () => {
  const { dir, file } = systemFile({ jetstream: { replicas: 3 }, data: { dir: "data" }, node: { heartbeatMs: 2000 } });
  const c = loadConfig({ env: { MR_SYSTEM_CONFIG: file, MR_HEARTBEAT_MS: "500" }, overrides: { nats: { servers: ["nats://o:4222"] } } });
  assert.is(c.jetstream.replicas, 3);
  assert.is(c.data.dir, join(dir, "data"), "a relative path in the system file is relative to its folder");
  assert.is(c.node.heartbeatMs, 500, "the environment wins over the system file");
  assert.equal(c.nats.servers, ["nats://o:4222"], "options win over everything");
});

test("deploy defaults - --config or MR_CONFIG replaces the system file; the installed defaults stay", () => {
  const { dir, file } = systemFile({ jetstream: { replicas: 3 } });
  const other = join(dir, "other.json");
  writeFileSync(other, JSON.stringify({ writes: { maxBatch: 64 } }));
  for (const c of [loadConfig({ env: { MR_SYSTEM_CONFIG: file, MR_CONFIG: other } }), loadConfig({ file: other, env: { MR_SYSTEM_CONFIG: file } })]) {
    assert.is(c.jetstream.replicas, 1, "the system file is not read when another file is named");
    assert.is(c.writes.maxBatch, 64);
    assert.is(c.data.dir, INSTALLED_DATA_DIR);
    assert.is(c.keys.dir, join(dir, "keys"));
  }
  // The systemd units name the system file in MR_CONFIG: it is read once, the same way.
  const same = loadConfig({ env: { MR_SYSTEM_CONFIG: file, MR_CONFIG: file } });
  assert.is(same.jetstream.replicas, 3);
  assert.is(same.keys.dir, join(dir, "keys"));
});

test("deploy defaults - without a system file (or with MR_SYSTEM_CONFIG=none) nothing changes: repo-local var/", () => {
  const dir = tempDir("mr-no-system-config-");
  assert.equal(loadConfig({ env: { MR_SYSTEM_CONFIG: join(dir, "absent.json") } }), defaultConfig());
  const { file } = systemFile({ jetstream: { replicas: 3 } });
  assert.equal(loadConfig({ env: { MR_SYSTEM_CONFIG: "none" } }), defaultConfig());
  assert.equal(loadConfig({ env: { MR_SYSTEM_CONFIG: file }, systemFile: null }), defaultConfig(), "systemFile: null turns it off for a caller");
});

test("deploy defaults - a system file that is not valid JSON, or a folder, stops start-up naming the file and MR_SYSTEM_CONFIG", () => {
  const { dir, file } = systemFile('{"nats": {');
  for (const [env, code] of [
    [{ MR_SYSTEM_CONFIG: file }, "CONFIG_FILE_NOT_JSON"],
    [{ MR_SYSTEM_CONFIG: dir }, "CONFIG_FILE_UNREADABLE"],
  ] as const) {
    try {
      loadConfig({ env });
      assert.unreachable(`expected ${code}`);
    } catch (e) {
      assert.instance(e, ConfigError);
      const err = e as ConfigError;
      assert.is(err.code, code, err.message);
      assert.ok(err.message.includes(env.MR_SYSTEM_CONFIG) && err.message.includes("MR_SYSTEM_CONFIG"), err.message);
    }
  }
  const wrong = systemFile({ jetstream: { replicas: 2 } });
  try {
    loadConfig({ env: { MR_SYSTEM_CONFIG: wrong.file } });
    assert.unreachable("expected CONFIG_INVALID");
  } catch (e) {
    assert.ok((e as Error).message.includes(`jetstream.replicas (from config file ${wrong.file}): got 2`), (e as Error).message);
  }
});

test("deploy defaults - config check and config show name the system file they read", async () => {
  const { dir, file } = systemFile({ jetstream: { replicas: 3 } });
  mkdirSync(join(dir, "keys"));
  const check = await cli(["config", "check"], { MR_SYSTEM_CONFIG: file });
  assert.is(check.code, 0, check.err);
  assert.ok(check.out.includes(`config file ${file}`), check.out);
  const show = await cli(["config", "show"], { MR_SYSTEM_CONFIG: file });
  assert.is(show.code, 0, show.err);
  const shown = JSON.parse(show.out) as { jetstream: { replicas: number }; data: { dir: string }; keys: { dir: string } };
  assert.is(shown.jetstream.replicas, 3);
  assert.is(shown.data.dir, INSTALLED_DATA_DIR);
  assert.is(shown.keys.dir, join(dir, "keys"));
});

test.run();
