// Start-up on a cluster that is still forming: three nats-server nodes spawned at the same
// moment and not waited for, then two mailstores and a supervisor (real child processes, all
// three URLs, every asset at 3 replicas) started at the same moment. Each must wait for
// JetStream (no meta leader, no stream leader, no suitable peers yet) instead of exiting,
// then come up; a write is then replicated. `scripts/repeat_tests.mjs cluster_startup 20`
// repeats this file to count how often it passes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";

let sys: TestSystem | undefined;

test.after(async () => {
  await sys?.stop();
});

test("cluster start-up - processes started together on a forming cluster all come up and replicate a write", async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2], cluster: "forming" });
  const s = sys;
  const started = await Promise.allSettled([s.spawnMailstore(MS1), s.spawnMailstore(MS2), s.spawnSupervisor("sup1")]);
  const failed = started.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
  assert.equal(failed, [], `every process comes up:\n${failed.join("\n")}`);

  // A process that waited said what it waited for (at most one line per reason change).
  for (const who of [MS1, MS2, "sup1"]) {
    // One JSON line per event: compared by reason (each line has its own time).
    const lines = s
      .log(who)
      .split("\n")
      .filter((l) => l.includes("waiting for JetStream"))
      .map((l) => String((JSON.parse(l) as { reason?: unknown }).reason));
    if (process.env.MR_TEST_LOG) process.stderr.write(`${who}:\n${lines.join("\n")}\n`);
    const repeated = lines.filter((l, i) => i > 0 && l === lines[i - 1]);
    assert.equal(repeated, [], `${who} logs each reason once: ${lines.join("\n")}`);
  }

  const acct = await s.mailbox<{ id: string }>("createAccount", { name: "cluster.user@example.com", mailHost: MS1 });
  await s.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["cluster.user@example.com"] });
  const delivered = await s.mailbox<{ itemId: number }>("deliverMessage", { account: acct.id, raw: rawMessage(1) });
  await waitFor(
    "the message to reach the replica on ms2",
    () => {
      const store = s.openStore(MS2);
      try {
        return store.dumpAccount(acct.id).items.some((i) => i.id === delivered.itemId);
      } finally {
        store.close();
      }
    },
    30_000,
    200,
  );
});

test.run();
