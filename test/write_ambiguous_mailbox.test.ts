// The account write path under ambiguous faults, end to end through the mailbox JSON-RPC: a
// real mailstore whose NATS connection goes through a TCP proxy, so the ack of one append can
// be held while the publish itself reaches the server.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MailstoreNode } from "../actors/mailstore/node.js";
import { txSubject } from "../src/jetstream/assets.js";
import { RpcError } from "../src/jsonrpc/index.js";
import { SubjectLog } from "../src/runtime/subject_log.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { TcpProxy, type Direction } from "./helpers/tcp_proxy.js";
import { waitFor } from "./helpers/processes.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const HOST = "ms1.example.com";
const ACCOUNT = "amb@example.com";
let sys: TestSystem;
let proxy: TcpProxy;
let node: MailstoreNode;
let accountId: string;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [HOST] });
  proxy = await TcpProxy.start(sys.nats.spec.port);
  node = await MailstoreNode.start(
    sys.mailstoreOptions(HOST, {
      servers: [proxy.url],
      // Two attempts of 1 s, so a batch whose ack is held gives up well within the ask's 10 s.
      writes: { ...sys.config.writes, appendTimeoutMs: 1_000, appendAttempts: 2 },
    }),
  );
  // Account records are the supervisor's to write: createAccount asks it.
  await sys.startSupervisor();
  accountId = (await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: HOST })).id;
});
test.after(async () => {
  proxy?.resume();
  await node?.stop().catch(() => {});
  await proxy?.stop();
  await sys?.stop();
});

/**
 * Holds `dir` of the mailstore's connection right after the next message body is stored in
 * centralized storage, i.e. just before that delivery's batch is appended. The blob store
 * itself runs unchanged; this only chooses the moment of the fault.
 */
function stallAfterNextBlobPut(dir: Direction): void {
  const put = node.blobs.put.bind(node.blobs);
  node.blobs.put = async (data: Uint8Array): Promise<string> => {
    const digest = await put(data);
    node.blobs.put = put;
    proxy.stall(dir);
    return digest;
  };
}

async function logEntries(): Promise<number> {
  const log = new SubjectLog(jetstream(sys.nc), await jetstreamManager(sys.nc), sys.config.jetstream.streams.tx, txSubject(accountId));
  let n = 0;
  for await (const _ of log.read(1)) n++;
  return n;
}

/** Seq of the account's last log entry (seqs are stream-wide). */
async function headSeq(): Promise<number> {
  const jsm = await jetstreamManager(sys.nc);
  const last = await jsm.streams.getMessage(sys.config.jetstream.streams.tx, { last_by_subj: txSubject(accountId) });
  if (!last) throw new Error(`no entry on ${txSubject(accountId)}`);
  return last.seq;
}

async function subjects(): Promise<string[]> {
  const list = await sys.mailbox<{ items: Array<{ subject: string }> }>("listItems", { account: ACCOUNT, limit: 100 });
  return list.items.map((i) => i.subject).sort();
}

test("write path - a delivery whose append ack is lost answers OUTCOME_UNKNOWN (-32030); the account goes on and log and SQLite hold each message once", async () => {
  await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(0) });
  const before = await logEntries();

  stallAfterNextBlobPut("toClient");
  const lost = await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(1) }).then(
    (r) => ({ result: r }),
    (e: unknown) => ({ error: e }),
  );
  assert.ok("error" in lost, `a delivery without ack must not be answered as stored: ${JSON.stringify(lost)}`);
  assert.instance(lost.error, RpcError);
  const err = lost.error as RpcError;
  assert.is(err.appCode, "OUTCOME_UNKNOWN", `got ${err.code} ${err.appCode}: ${err.message}`);
  assert.is(err.code, -32030);
  await waitFor("the batch to reach the log", async () => (await logEntries()) >= before + 1);
  assert.is(await logEntries(), before + 1, "the batch did reach the log (once)");

  proxy.resume("toClient");
  const next = await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(2) });
  assert.type(next.itemId, "number");
  assert.equal(await subjects(), ["message 0", "message 1", "message 2"], "each message once; the unknown one is there because the log has it");
  assert.is(await logEntries(), before + 2);
  assert.is(node.store.replicaState(accountId)?.appliedSeq, await headSeq(), "SQLite applied the log to its head");
});

test("write path - a graceful stop while a batch is in flight answers its caller with success, and the message is in SQLite and in the log", async () => {
  const before = await logEntries();
  stallAfterNextBlobPut("toClient");
  const delivery = sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(3) }).then(
    (r) => ({ result: r }),
    (e: unknown) => ({ error: e }),
  );
  await waitFor("the batch to be stored (its ack held)", async () => (await logEntries()) === before + 1);
  const stopped = node.stop();
  proxy.resume("toClient");
  const out = await delivery;
  assert.ok("result" in out, `the caller of a stored write gets success: ${JSON.stringify(out)}`);
  await stopped;
  const store = sys.openStore(HOST);
  try {
    const items = store.listItems(accountId, { limit: 100 }).items.map((i) => i.subject);
    assert.ok(items.includes("message 3"), `the message is in SQLite: ${items.join(", ")}`);
    assert.is(store.replicaState(accountId)?.appliedSeq, await headSeq(), "SQLite applied the log to its head");
  } finally {
    store.close();
  }
  assert.is(await logEntries(), before + 1);
});

test.run();
