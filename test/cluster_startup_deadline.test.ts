// The start-up deadline: a mailstore and a supervisor on a 3-node cluster of which only one
// node runs (no meta leader can be elected) wait, say what they wait for, and give up at
// node.startupTimeoutMs with a message naming it and exit status 75 (not 1, not a crash).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { defaultConfig } from "../config/defaults.js";
import { initKeys } from "../src/keys/index.js";
import { startNatsCluster, type NatsCluster } from "./helpers/nats.js";
import { exited, spawnCli, tempDir } from "./helpers/processes.js";

let cluster: NatsCluster | undefined;

test.after(async () => {
  await cluster?.stop();
});

async function runUntilExit(args: string[], configFile: string): Promise<{ status: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MR_CONFIG: configFile };
  for (const k of Object.keys(env)) if (k.startsWith("MR_") && k !== "MR_CONFIG") delete env[k];
  const child = spawnCli(args, { env });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  await exited(child);
  return { status: child.exitCode, output };
}

test("cluster start-up - without a quorum the start-up deadline ends a mailstore and a supervisor with status 75 and says what it waited for", async () => {
  cluster = await startNatsCluster(3, { waitReady: false, running: 1 });
  const root = tempDir("mr-deadline-");
  const config = defaultConfig();
  config.nats.servers = cluster.urls;
  config.jetstream.replicas = 3;
  config.keys.dir = join(root, "keys");
  config.data.dir = join(root, "data");
  // Long enough for one JetStream request to time out (5 s) and be reported.
  config.node.startupTimeoutMs = 8_000;
  initKeys({ dir: config.keys.dir, host: "ms1.example.com" });
  const file = join(root, "config.json");
  writeFileSync(file, JSON.stringify(config));

  const [ms, sup] = await Promise.all([
    runUntilExit(["mailstore", "--host", "ms1.example.com", "--data", join(root, "data", "ms1")], file),
    runUntilExit(["supervisor", "--host", "sup1"], file),
  ]);
  for (const [who, r] of [["mailstore", ms], ["supervisor", sup]] as const) {
    assert.is(r.status, 75, `${who} exits 75:\n${r.output}`);
    // One JSON line per wait, its reason a field (src/log).
    const waits = r.output.split("\n").flatMap((l) => {
      try {
        const e = JSON.parse(l) as { msg?: string; reason?: string };
        return e.msg === "waiting for JetStream" && typeof e.reason === "string" && e.reason !== "" ? [e] : [];
      } catch {
        return [];
      }
    });
    assert.ok(waits.length > 0, `${who} said what it waited for:\n${r.output}`);
    assert.match(r.output, "JetStream was not ready within 8 s", `${who} names the deadline:\n${r.output}`);
    assert.match(r.output, "MR_STARTUP_TIMEOUT_MS", `${who} says what to raise:\n${r.output}`);
    assert.match(r.output, "[STARTUP_TIMEOUT]", r.output);
  }
});

test.run();
