// The start-up deadline: a mailstore and a supervisor on a 3-node cluster of which only one
// node runs (no meta leader can be elected) wait, say what they wait for, and give up at
// node.startupTimeoutMs with a message naming it and exit status 75 (not 1, not a crash).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { localSystemConfig } from "../src/dev/local_system.js";
import { startNatsCluster, type NatsCluster } from "./helpers/nats.js";
import { tempDir } from "./helpers/processes.js";
import { configFileEnv } from "./helpers/node_children.js";
import { runCliChild } from "./helpers/cli_capture.js";

let cluster: NatsCluster | undefined;

test.after(async () => {
  await cluster?.stop();
});

test("cluster start-up - without a quorum the start-up deadline ends a mailstore and a supervisor with status 75 and says what it waited for", async () => {
  cluster = await startNatsCluster(3, { waitReady: false, running: 1 });
  const root = tempDir("mr-deadline-");
  const config = localSystemConfig({ root, servers: cluster.urls, replicas: 3, mailstores: ["ms1.example.com"] });
  // Long enough for one JetStream request to time out (5 s) and be reported.
  config.node.startupTimeoutMs = 8_000;
  const env = configFileEnv(root, config);

  const [ms, sup] = await Promise.all([
    runCliChild(["mailstore", "--host", "ms1.example.com", "--data", join(root, "data", "ms1")], env),
    runCliChild(["supervisor", "--host", "sup1"], env),
  ]);
  for (const [who, r] of [
    ["mailstore", ms],
    ["supervisor", sup],
  ] as const) {
    assert.is(r.code, 75, `${who} exits 75:\n${r.out}`);
    // One JSON line per wait, its reason a field (src/log).
    const waits = r.out.split("\n").flatMap((l) => {
      try {
        const e = JSON.parse(l) as { msg?: string; reason?: string };
        return e.msg === "waiting for JetStream" && typeof e.reason === "string" && e.reason !== "" ? [e] : [];
      } catch {
        return [];
      }
    });
    assert.ok(waits.length > 0, `${who} said what it waited for:\n${r.out}`);
    assert.match(r.out, "JetStream was not ready within 8 s", `${who} names the deadline:\n${r.out}`);
    assert.match(r.out, "MR_STARTUP_TIMEOUT_MS", `${who} says what to raise:\n${r.out}`);
    assert.match(r.out, "[STARTUP_TIMEOUT]", r.out);
  }
});

test.run();
