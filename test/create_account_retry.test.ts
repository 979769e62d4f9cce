// createAccount is idempotent by name: a retry (same name, mailHost and type) returns the same
// account, and writes its account.created when the first attempt's entry never landed; another
// mailHost or type is still ACCOUNT_EXISTS.
import { randomUUID } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { rpcCall } from "../src/jsonrpc/index.js";
import type { AccountRecord } from "../src/directory/types.js";
import { directoryOfSystem } from "./helpers/promotion.js";
import { TestSystem } from "./helpers/system.js";
import { rpcFailure } from "./helpers/refused.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2] });
});
test.after(async () => {
  await sys?.stop();
});

test("createAccount - a retry after success returns the same account; another mailHost or type is ACCOUNT_EXISTS", async () => {
  const first = await sys.mailbox("createAccount", { name: "ann@example.com", mailHost: MS1 });
  const again = await sys.mailbox("createAccount", { name: "Ann@Example.com", mailHost: MS1 });
  assert.equal(again, first);
  const other = await rpcFailure(sys.mailbox("createAccount", { name: "ann@example.com", mailHost: MS2 }));
  assert.is(other.appCode, "ACCOUNT_EXISTS");
  const otherType = await rpcFailure(sys.mailbox("createAccount", { name: "ann@example.com", mailHost: MS1, type: "distributionList" }));
  assert.is(otherType.appCode, "ACCOUNT_EXISTS");
  assert.is((await sys.mailbox("listFolders", { account: "ann@example.com" })).folders.length, 5);
  // One account.created in the log, however often it was asked for.
  const store = sys.inProcess.get(MS1)!.store;
  assert.is(store.account(first.id)?.name, "ann@example.com");
  assert.is(store.replicaState(first.id)?.appliedSeq !== undefined, true);
});

test("createAccount - a retry after a lost reply returns the same account", async () => {
  // The client talks to NATS through a proxy; its reply is held back while the mailstore
  // completes the creation, so the client sees a timeout: an unknown outcome.
  const proxy = await TcpProxy.start(sys.nats.spec.port);
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: proxy.url });
    await nc.flush();
    const params = { name: "lost@example.com", mailHost: MS1 };
    const directory = await directoryOfSystem(sys);
    // Requests reach NATS; nothing comes back to this client until resume.
    proxy.stall("toClient");
    const call = rpcCall<{ id: string }>(nc, "mr.rpc.mailbox", "createAccount", params, { timeoutMs: 3_000 }).then(
      () => "answered",
      (e: unknown) => (e as Error).message,
    );
    const rec = await waitFor("directory record of the new account", async () => (await directory.find("lost@example.com"))?.value);
    await waitFor("account created on its primary", () => sys.inProcess.get(MS1)!.store.account(rec.id));
    const outcome = await call;
    proxy.resume("toClient");
    assert.is.not(outcome, "answered", "the client must not have seen the answer");
    const retry = await rpcCall<{ id: string }>(nc, "mr.rpc.mailbox", "createAccount", params, { timeoutMs: 15_000 });
    assert.is(retry.id, rec.id);
    assert.is((await sys.mailbox("listFolders", { account: "lost@example.com" })).folders.length, 5);
  } finally {
    await nc?.close().catch(() => {});
    await proxy.stop();
  }
});

test("createAccount - a directory record whose account.created never landed is completed by the retry", async () => {
  // What a mailstore crash between the directory write and the log append leaves behind.
  const directory = await directoryOfSystem(sys);
  const rec: AccountRecord = { id: randomUUID(), name: "half@example.com", type: "account", mailHost: MS1, epoch: 1, replicas: [], createdAt: Date.now() };
  await directory.createAccount(rec);
  await waitFor("mailstore sees the record", () => sys.inProcess.get(MS1)!.accounts.get(rec.id));
  const retry = await sys.mailbox("createAccount", { name: "half@example.com", mailHost: MS1 });
  assert.is(retry.id, rec.id);
  assert.is(sys.inProcess.get(MS1)!.store.account(rec.id)?.name, "half@example.com");
  const folders = await sys.mailbox("listFolders", { account: "half@example.com" });
  assert.is(folders.folders.length, 5);
  // The directory still names it.
  assert.is((await directory.get("half@example.com")).value.id, rec.id);
});

test.run();
