// An account whose snapshot is at stream seq 1 (the first account of a cluster, snapshotted
// before any other write): nats-server reads a filtered purge with `seq: 1` as "purge the whole
// subject", which emptied the account's log in the nemesis (its writes then fenced for good,
// replicas stuck). Compaction must leave the log as it is.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { directoryRecord } from "./helpers/promotion.js";
import { logHead } from "./helpers/workload.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { nodeAdminSubject } from "../src/protocol/subjects.js";
import type { TakenSnapshot } from "../src/protocol/node_api.js";

const MS1 = "ms1.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({
    hosts: [MS1],
    config: (c) => {
      c.snapshots = { everyEntries: 0, everyMs: 0 };
      c.retention = { keepDays: 0, compactEveryMs: 0 };
    },
  });
});
test.after(async () => {
  await sys?.stop();
});

test("compaction - a snapshot at stream seq 1 removes nothing: the account's log keeps its entry and takes writes", async () => {
  const name = "first@example.com";
  const { id } = await sys.mailbox("createAccount", { name, mailHost: MS1 });
  assert.is(await logHead(sys, id), 1, "the system's first account is created at stream seq 1");
  const taken = await rpcCall<TakenSnapshot>(sys.nc, nodeAdminSubject(MS1), "snapshotAccount", { account: id });
  assert.is(taken.seq, 1);
  const c = await sys.supervisor!.compactor.compactAccount(await directoryRecord(sys, id));
  assert.is(c?.entries, 0);
  assert.is(await logHead(sys, id), 1, "the log still holds its entry");
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  assert.is((await sys.mailbox("listItems", { account: name })).total, 1);
});

test.run();
