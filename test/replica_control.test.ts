// removeAccountDestination, pauseReplicas / restartReplicas and do*Service module against a
// real system: nats-server, three mailstores with their SQLite files, a supervisor.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RpcError, rpcCall } from "../src/jsonrpc/index.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { sleep, waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning();
});
test.after(async () => {
  await sys?.stop();
});

const store = (host: string) => sys.inProcess.get(host)!.store;

async function status(name: string): Promise<any> {
  return (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
}

/** An account on `primary` with 2 messages and replicas on `replicas`, all caught up. */
async function account(name: string, primary: string, replicas: string[]): Promise<string> {
  const { id } = await sys.mailbox("createAccount", { name, mailHost: primary });
  for (let i = 0; i < 2; i++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  for (const [i, dest] of replicas.entries()) await sys.admin("setAccountDestination", { destination: dest, priority: 10 * (i + 1), accounts: name });
  await caughtUp(name, replicas.length);
  return id;
}

async function caughtUp(name: string, replicas: number): Promise<any> {
  return waitFor(`${name}: ${replicas} replicas available and caught up`, async () => {
    const a = await status(name);
    return a.replicas.length === replicas && a.replicas.every((r: any) => r.available && r.status === "available" && r.sequence === a.sequence) ? a : undefined;
  });
}

async function refused(p: Promise<unknown>, code: string | number): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, RpcError);
    const err = e as RpcError;
    if (typeof code === "number") assert.is(err.code, code, err.message);
    else assert.is(err.appCode, code, err.message);
    return err;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error("unreachable");
}

/** The directory records of these accounts, as stored. */
async function records(names: string[]): Promise<string> {
  const out = [];
  for (const n of names) out.push((await sys.supervisor!.directory.find(n))?.value);
  return JSON.stringify(out);
}

test("removeAccountDestination - refusals name what is wrong and change nothing", async () => {
  const id = await account("r1@example.com", MS1, [MS2]);
  await sys.mailbox("createAccount", { name: "r2@example.com", mailHost: MS1 });
  await sys.mailbox("createAccount", { name: "list@example.com", mailHost: MS1, type: "distributionList" });
  const before = await records(["r1@example.com", "r2@example.com"]);

  const unknownHost = await refused(
    sys.admin("removeAccountDestination", { destination: "nosuch.example.com", accounts: "r1@example.com" }),
    "MAILSTORE_UNKNOWN",
  );
  assert.match(unknownHost.message, /nosuch\.example\.com/);
  assert.match(unknownHost.message, /ms1\.example\.com/, "names the known mailstores");
  await refused(sys.admin("removeAccountDestination", { destination: MS2, accounts: "r*@example.com" }), "UNSUPPORTED_ACCOUNT_PATTERN");
  const ghost = await refused(sys.admin("removeAccountDestination", { destination: MS2, accounts: "r1@example.com,ghost@example.com" }), "ACCOUNT_UNKNOWN");
  assert.match(ghost.message, /ghost@example\.com/);
  await refused(sys.admin("removeAccountDestination", { destination: MS2, accounts: "list@example.com" }), "DISTRIBUTION_LIST_UNSUPPORTED");
  const notThere = await refused(sys.admin("removeAccountDestination", { destination: MS2, accounts: "r1@example.com,r2@example.com" }), "REPLICA_NOT_FOUND");
  assert.equal((notThere.data as any).accounts, ["r2@example.com"]);
  assert.match(notThere.message, /r2@example\.com/);
  const primary = await refused(sys.admin("removeAccountDestination", { destination: MS1, accounts: "r1@example.com" }), "REPLICA_NOT_FOUND");
  assert.match(primary.message, /ms1\.example\.com is its primary/);
  const missing = await refused(sys.admin("removeAccountDestination", { accounts: "r1@example.com" }), -32602);
  assert.match(missing.message, /destination/);

  assert.is(await records(["r1@example.com", "r2@example.com"]), before, "the directory did not change");
  await sleep(300);
  assert.ok(store(MS2).replicaState(id), "the destination kept its copy");
  assert.is(store(MS2).dumpAccount(id).items.length, 2);
});

test("removeAccountDestination - drops the replica from the directory and the copy from the destination's SQLite", async () => {
  const id = await account("r3@example.com", MS1, [MS2, MS3]);
  const res = await sys.admin("removeAccountDestination", { destination: MS2, accounts: "r3@example.com" });
  assert.type(res.operationId, "string");
  assert.is(res.state, "successful");
  assert.is(res.total, 1);
  assert.is(res.removed, 1);
  assert.equal(res.accounts, [{ account: "r3@example.com", accountId: id, destination: MS2, priority: 10, removed: true }]);

  const a = await status("r3@example.com");
  assert.equal(
    a.replicas.map((r: any) => r.destination),
    [MS3],
  );
  // Read the destination's file itself, not the running node's view of it.
  const file = sys.openStore(MS2);
  try {
    assert.is(file.replicaState(id), undefined);
    assert.is(file.dumpAccount(id).account, null);
    assert.is(file.dumpAccount(id).items.length, 0);
  } finally {
    file.close();
  }
  const m = await sys.admin("monitor", { operation_uuid: res.operationId });
  assert.is(m.state, "successful");
  assert.is(m.kind, "removeAccountDestination");
  assert.is(m.results[0].removed, true);

  // The remaining replica keeps following; the removed destination stays without a copy.
  await sys.mailbox("deliverMessage", { account: "r3@example.com", raw: rawMessage(5) });
  await caughtUp("r3@example.com", 1);
  assert.is(store(MS2).replicaState(id), undefined);
});

test("removeAccountDestination - without accounts removes every replica on the destination; a down destination drops its copies when it returns", async () => {
  const a4 = await account("r4@example.com", MS1, [MS3]);
  const a5 = await account("r5@example.com", MS2, [MS3, MS1]);
  const onMs3 = (await sys.admin("getAccountStatus", { replicaServer: MS3 })).accounts.map((a: any) => a.accountName).sort();
  assert.ok(onMs3.includes("r3@example.com") && onMs3.includes("r4@example.com") && onMs3.includes("r5@example.com"), onMs3.join(","));

  await sys.inProcess.get(MS3)!.stop();
  sys.inProcess.delete(MS3);
  const res = await sys.admin("removeAccountDestination", { destination: MS3 });
  assert.is(res.state, "successful");
  assert.equal(res.accounts.map((a: any) => a.account).sort(), onMs3);
  for (const a of res.accounts) {
    assert.is(a.removed, false);
    assert.match(a.reason, /ms3\.example\.com is down/);
  }
  assert.is((await sys.admin("getAccountStatus", { replicaServer: MS3 })).accounts.length, 0);
  assert.equal(
    (await status("r5@example.com")).replicas.map((r: any) => r.destination),
    [MS1],
  );

  await sys.startMailstore(MS3);
  await waitFor("ms3 dropped the copies it no longer replicates", () => !store(MS3).replicaState(a4) && !store(MS3).replicaState(a5));
  assert.is(store(MS3).dumpAccount(a4).items.length, 0);
});

test("pauseReplicas / restartReplicas - paused replicas apply nothing; restart seeds them again from the log and they catch up", async () => {
  const id = await account("p1@example.com", MS1, [MS2]);
  const paused = await sys.admin("pauseReplicas", { accounts: "p1@example.com" });
  assert.equal(paused.replicas, [
    { account: "p1@example.com", accountId: id, destination: MS2, status: "paused", state: "paused", generation: 0, changed: true },
  ]);

  const st = await waitFor("getAccountStatus shows it paused", async () => {
    const a = await status("p1@example.com");
    return a.paused && a.replicas[0].status === "paused" ? a : undefined;
  });
  assert.is(st.replicas[0].available, false);
  const filtered = (await sys.admin("getAccountStatus", { accountStatus: "paused" })).accounts.map((a: any) => a.accountName);
  assert.ok(filtered.includes("p1@example.com"));
  await waitFor("the destination marks it paused", () => store(MS2).replicaState(id)?.status === "paused");

  const items = store(MS2).dumpAccount(id).items.length;
  const appliedBefore = store(MS2).replicaState(id)!.appliedSeq;
  await sys.mailbox("deliverMessage", { account: "p1@example.com", raw: rawMessage(20) });
  await sys.mailbox("deliverMessage", { account: "p1@example.com", raw: rawMessage(21) });
  await sleep(1_000);
  assert.is(store(MS2).dumpAccount(id).items.length, items, "writes during the pause are not applied");
  assert.is(store(MS2).replicaState(id)!.appliedSeq, appliedBefore);
  const lagging = await status("p1@example.com");
  assert.is(lagging.replicas[0].lagEvents, 2);

  const again = await sys.admin("pauseReplicas", { accounts: "p1@example.com" });
  assert.is(again.replicas[0].changed, false, "pausing a paused replica changes nothing");

  const restarted = await sys.admin("restartReplicas", { accounts: "p1@example.com" });
  assert.equal(restarted.replicas, [
    { account: "p1@example.com", accountId: id, destination: MS2, status: "initializing", state: "active", generation: 1, changed: true },
  ]);
  const back = await caughtUp("p1@example.com", 1);
  assert.is(back.paused, false);
  assert.is(JSON.stringify(store(MS2).dumpAccount(id)), JSON.stringify(store(MS1).dumpAccount(id)), "re-seeded copy equals the primary");
  assert.is(store(MS2).replicaState(id)!.generation, 1);
});

test("pauseReplicas / restartReplicas - destination narrows the change; refusals change nothing", async () => {
  const id = await account("p2@example.com", MS1, [MS2, MS3]);
  await refused(sys.admin("pauseReplicas", { destination: "nosuch.example.com" }), "MAILSTORE_UNKNOWN");
  await refused(sys.admin("pauseReplicas", { accounts: "p2@example.com,nobody@example.com" }), "ACCOUNT_UNKNOWN");
  await sys.mailbox("createAccount", { name: "p3@example.com", mailHost: MS1 });
  const none = await refused(sys.admin("restartReplicas", { accounts: "p2@example.com,p3@example.com" }), "REPLICA_NOT_FOUND");
  assert.equal((none.data as any).accounts, ["p3@example.com"]);
  await refused(sys.admin("restartReplicas", { accounts: "r1@example.com", destination: MS3 }), "REPLICA_NOT_FOUND");
  await refused(sys.admin("pauseReplicas", { accounts: "p2@example.com", destination: MS2, extra: 1 }), -32602);
  const unchanged = await status("p2@example.com");
  assert.ok(unchanged.replicas.every((r: any) => r.status === "available"));
  assert.is(store(MS2).replicaState(id)!.generation, 0);

  const res = await sys.admin("pauseReplicas", { accounts: "p2@example.com", destination: MS3 });
  assert.equal(
    res.replicas.map((r: any) => [r.destination, r.status]),
    [[MS3, "paused"]],
  );
  const a = await waitFor("only ms3 paused", async () => {
    const s = await status("p2@example.com");
    return s.replicas.find((r: any) => r.destination === MS3).status === "paused" ? s : undefined;
  });
  assert.is(a.paused, false, "an account is paused only when all its replicas are");
  assert.is(a.replicas.find((r: any) => r.destination === MS2).status, "available");

  const all = await sys.admin("restartReplicas", { destination: MS3 });
  assert.ok(all.replicas.every((r: any) => r.destination === MS3 && r.status === "initializing"));
  assert.ok(all.replicas.some((r: any) => r.account === "p2@example.com"));
  await caughtUp("p2@example.com", 2);
  assert.is(store(MS2).replicaState(id)!.generation, 0, "the ms2 replica was not restarted");
  assert.is(store(MS3).replicaState(id)!.generation, 1);
});

test("doStopService / doStartService module - a stopped module applies nothing; started again it catches up", async () => {
  const id = await account("s1@example.com", MS1, [MS2]);
  await refused(sys.admin("doStopService", { service_name: "mta" }), -32602).then((e) => assert.match(e.message, /"module"/));
  await refused(sys.admin("doStopService", { service_name: "module", host: "nosuch.example.com" }), "MAILSTORE_UNKNOWN");

  const stopped = await sys.admin("doStopService", { service_name: "module", host: MS2 });
  assert.equal(stopped, {
    service_name: "module",
    ok: true,
    hosts: [{ host: MS2, service: "module", running: false, changed: true, message: "service stopped" }],
  });
  const st = await rpcCall<any>(sys.nc, `mr.node.${MS2}.admin`, "serviceStatus", {});
  assert.equal(st.services.module, { running: false, could_start: true, could_stop: false });
  const twice = await sys.admin("doStopService", { service_name: "module", host: MS2 });
  assert.is(twice.hosts[0].changed, false);

  const applied = store(MS2).replicaState(id)!.appliedSeq;
  await sys.mailbox("deliverMessage", { account: "s1@example.com", raw: rawMessage(30) });
  await sys.mailbox("setFlags", { account: "s1@example.com", ids: [257], flags: ["seen"] });
  await sleep(1_000);
  assert.is(store(MS2).replicaState(id)!.appliedSeq, applied, "nothing applied while the module is stopped");
  const behind = (await status("s1@example.com")).replicas[0];
  assert.is(behind.status, "available", "the replica's status stays as it was");
  assert.is(behind.lagEvents, 2);

  const started = await sys.admin("doStartService", { service_name: "module", host: MS2 });
  assert.equal(started.hosts, [{ host: MS2, service: "module", running: true, changed: true, message: "service started" }]);
  await caughtUp("s1@example.com", 1);
  assert.is(JSON.stringify(store(MS2).dumpAccount(id)), JSON.stringify(store(MS1).dumpAccount(id)));

  // Live again: new entries keep arriving.
  await sys.mailbox("deliverMessage", { account: "s1@example.com", raw: rawMessage(31) });
  await caughtUp("s1@example.com", 1);

  const restarted = await sys.admin("doRestartService", { service_name: "module" });
  assert.equal(
    restarted.hosts.map((h: any) => [h.host, h.running, h.message]).sort(),
    [MS1, MS2, MS3].map((h) => [h, true, "service restarted"]),
  );
  await sys.mailbox("deliverMessage", { account: "s1@example.com", raw: rawMessage(32) });
  await caughtUp("s1@example.com", 1);
});

test.run();
