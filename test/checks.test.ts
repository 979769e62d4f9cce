// `test` (the REPL's doctor): the troubleshooting checks against a real system, healthy and
// then with things broken one at a time.
import { test } from "uvu";
import { createServer } from "node:net";
import * as assert from "uvu/assert";
import { RpcError, rpcCall } from "../src/jsonrpc/index.js";
import { SupervisorNode } from "../actors/supervisor/node.js";
import { localSystemConfig } from "../src/dev/local_system.js";
import { supervisorOptionsOf } from "../actors/supervisor/supervisor_options.js";
import { FAST_TIMING, TestSystem, rawMessage } from "./helpers/system.js";
import { startNatsCluster } from "./helpers/nats.js";
import { freePort, tempDir, waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.startRunning();
  await sys.mailbox("createAccount", { name: "c1@example.com", mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: "c1@example.com", raw: rawMessage(1) });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "c1@example.com" });
  await waitFor("c1 replica caught up", async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: "c1@example.com" })).accounts[0];
    return a.replicas[0].available && a.replicas[0].sequence === a.sequence;
  });
});
test.after(async () => {
  await sys?.stop();
});

interface Check {
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix: string | null;
}

const find = (checks: Check[], name: string): Check => {
  const c = checks.find((x) => x.check === name);
  assert.ok(c, `no check named ${name}; got: ${checks.map((x) => x.check).join(" | ")}`);
  return c!;
};

test("test - every check is ok on a healthy system", async () => {
  const r = await sys.admin("test");
  const bad = r.checks.filter((c: Check) => c.status !== "ok");
  assert.equal(bad, [], JSON.stringify(bad, null, 2));
  assert.is(r.status, "ok");
  assert.is(r.summary.fail, 0);
  assert.is(r.summary.ok, r.checks.length);
  const url = sys.nats.url;
  for (const who of ["supervisor sup1", MS1, MS2, MS3]) assert.match(find(r.checks, `nats ${who} -> ${url}`).detail, /connected in \d+ ms/);
  for (const a of ["MR_TX", "MR_NOTIFY", "KV_mr_directory", "KV_mr_nodes", "OBJ_mr_blobs"]) find(r.checks, `jetstream ${a}`);
  for (const h of [MS1, MS2, MS3]) {
    find(r.checks, `heartbeat mailstore ${h}`);
    assert.match(find(r.checks, `clock mailstore ${h}`).detail, /ms (ahead of|behind) the supervisor's/);
  }
  find(r.checks, "heartbeat supervisor sup1");
  assert.match(find(r.checks, "storage mr_blobs").detail, /wrote, read back and removed/);
  assert.match(find(r.checks, "replicas").detail, /1 replica of 1 account: 1 available/);
  assert.match(find(r.checks, "licence").detail, /default quota.*1 of 100 accounts/);
  for (const c of r.checks as Check[]) assert.is(c.fix, null, `an ok check needs no fix: ${c.check}`);
});

test("test - servers: a configured endpoint nobody serves fails with a fix; one that is not configured is refused and never probed; a malformed one is refused", async () => {
  // Nothing serves `dead`; a listener there tells whether anything tried to connect.
  const dead = `nats://127.0.0.1:${await freePort()}`;
  let knocks = 0;
  const listener = createServer((sock) => {
    knocks++;
    sock.destroy();
  });
  const other = `nats://127.0.0.1:${await freePort()}`;
  await new Promise<void>((r) => listener.listen(Number(new URL(other).port), "127.0.0.1", r));
  try {
    await sys.admin("test", { servers: `${sys.nats.url},${other}` });
    assert.unreachable("a server that is not configured was probed");
  } catch (e) {
    assert.instance(e, RpcError);
    assert.is((e as RpcError).appCode, "PROBE_NOT_CONFIGURED");
    assert.match((e as RpcError).message, new RegExp(`not configured: ${other.replace(/[.:/]/g, "\\$&")}`));
    assert.match((e as RpcError).message, /nats\.servers/);
  }
  // A mailstore asked directly refuses the same way.
  try {
    await rpcCall(sys.nc, `mr.node.${MS1}.admin`, "probeNats", { servers: [other] });
    assert.unreachable("a mailstore probed a server that is not configured");
  } catch (e) {
    assert.is((e as RpcError).appCode, "PROBE_NOT_CONFIGURED");
  }
  await new Promise<void>((r) => listener.close(() => r()));
  assert.is(knocks, 0, "nothing was probed");

  // A supervisor configured with an endpoint nobody serves reports it, with a fix.
  await sys.startSupervisor("sup1", { servers: [sys.nats.url, dead] });
  const r = await sys.admin("test");
  assert.is(r.status, "fail");
  assert.is(find(r.checks, `nats supervisor sup1 -> ${sys.nats.url}`).status, "ok");
  const c = find(r.checks, `nats supervisor sup1 -> ${dead}`);
  assert.is(c.status, "fail");
  assert.match(c.detail, /cannot connect/);
  assert.match(c.fix!, /reachable/);
  for (const who of [MS1, MS2, MS3])
    assert.is(find(r.checks, `nats ${who} -> ${sys.nats.url}`).status, "ok", "each mailstore probes its own configured servers");
  await sys.startSupervisor();

  const bare = await sys.admin("test", { servers: [sys.nats.url.replace("nats://", "")] });
  assert.is(find(bare.checks, `nats ${MS1} -> ${sys.nats.url}`).status, "ok", "host:port is read as nats://host:port");
  try {
    await sys.admin("test", { servers: "http://example.com/x" });
    assert.unreachable("a URL that is not NATS is refused");
  } catch (e) {
    assert.instance(e, RpcError);
    assert.is((e as RpcError).code, -32602);
    assert.match((e as RpcError).message, /servers.*NATS URLs such as nats:\/\/host:4222/);
  }
});

test("test - a clock far from the supervisor's fails the clock check", async () => {
  // A heartbeat as a supervisor on a host whose clock is 10 s behind would write it.
  const hb = { host: "skewed.example.com", role: "supervisor", pid: 1, startedAt: Date.now() - 20_000, at: Date.now() - 10_000, version: "test", info: {} };
  await sys.supervisor!.assets.nodes.put("supervisor.skewed.example.com", JSON.stringify(hb));
  const r = await sys.admin("test");
  const c = find(r.checks, "clock supervisor skewed.example.com");
  assert.is(c.status, "fail");
  assert.match(c.detail, /1\d{4} ms behind|9\d{3} ms behind/);
  assert.match(c.fix!, /NTP/);
  await sys.supervisor!.assets.nodes.delete("supervisor.skewed.example.com");
});

test("test - a paused replica warns with the command that resumes it", async () => {
  await sys.admin("pauseReplicas", { accounts: "c1@example.com" });
  const r = await waitFor("paused replica reported", async () => {
    const x = await sys.admin("test");
    return x.checks.some((c: Check) => c.check === `replica c1@example.com on ${MS2}` && c.status === "warn") ? x : undefined;
  });
  const c = find(r.checks, `replica c1@example.com on ${MS2}`);
  assert.match(c.detail, /paused/);
  assert.is(c.fix, `restartReplicas accounts c1@example.com destination ${MS2}`);
  assert.is(find(r.checks, "replicas").status, "warn");
  assert.is(r.status, "warn");
  await sys.admin("restartReplicas", { accounts: "c1@example.com" });
});

test("test - a stopped mailstore fails its heartbeat check with the fix, and its replicas are unreachable", async () => {
  await sys.inProcess.get(MS2)!.stop();
  sys.inProcess.delete(MS2);
  const r = await sys.admin("test");
  assert.is(r.status, "fail");
  const hb = find(r.checks, `heartbeat mailstore ${MS2}`);
  assert.is(hb.status, "fail");
  assert.match(hb.detail, /no heartbeat/);
  assert.match(hb.fix!, /mailreplica mailstore --host ms2\.example\.com/);
  assert.is(find(r.checks, `nats ${MS2}`).status, "fail");
  assert.is(find(r.checks, `replica c1@example.com on ${MS2}`).status, "fail");
  assert.is(find(r.checks, `heartbeat mailstore ${MS1}`).status, "ok", "the others are still fine");

  // do*Service reports the host that cannot answer instead of failing for all.
  const svc = await sys.admin("doStopService", { service_name: "module" });
  assert.is(svc.ok, false);
  const down = svc.hosts.find((h: any) => h.host === MS2);
  assert.is(down.code, "UNAVAILABLE");
  assert.is(down.running, null);
  assert.is(svc.hosts.find((h: any) => h.host === MS1).running, false);
  await sys.admin("doStartService", { service_name: "module" });
});

test("test - in a 3-node JetStream cluster every asset has a leader and current peers; a lost server is named with the fix", async () => {
  const cluster = await startNatsCluster(3);
  const config = localSystemConfig({ root: tempDir("mr-checks-cluster-"), servers: [cluster.urls[0]!], replicas: 3, ...FAST_TIMING });
  let sup: SupervisorNode | undefined;
  try {
    // A cluster just started may not place R3 assets yet ("no suitable peers for placement,
    // peer offline", seconds on a loaded machine): retry.
    sup = await waitFor(
      "the supervisor starts on the new cluster",
      () => SupervisorNode.start({ ...supervisorOptionsOf(config, "sup-cluster"), log: () => {} }),
      60_000,
      500,
    );
    const call = () => rpcCall<any>(sup!.nc, "mr.rpc.admin", "test", {}, { timeoutMs: 30_000 });
    const assets = ["MR_TX", "MR_NOTIFY", "KV_mr_directory", "KV_mr_nodes", "OBJ_mr_blobs"];
    // Fresh assets have peers that are briefly not current: wait for the steady state.
    const healthy = await waitFor(
      "every asset ok",
      async () => {
        const r = await call();
        const js = assets.map((a) => find(r.checks, `jetstream ${a}`));
        return js.every((c) => c.status === "ok") ? js : undefined;
      },
      30_000,
      300,
    );
    for (const c of healthy) assert.match(c.detail, /3 replicas, leader n\d, peers current: n\d, n\d/);
    await cluster.nodes[2]!.kill9();
    // Every asset names n3: unreachable (not seen for a while), or, on nats-server 2.15 for an
    // asset that takes writes (it keeps a dead peer's `active` fresh), not current with a lag.
    const degraded = await waitFor(
      "every asset reports n3 lost",
      async () => {
        const r = await call();
        const js = assets.map((a) => find(r.checks, `jetstream ${a}`));
        return js.every((c) => c.status === "warn" && /(unreachable|not current): n3/.test(c.detail)) ? js : undefined;
      },
      60_000,
      500,
    );
    for (const c of degraded) assert.match(c.fix!, /(start|make sure) the nats-server n3/);
    assert.ok(
      degraded.some((c) => /unreachable: n3/.test(c.detail)),
      "an idle asset reports n3 unreachable",
    );
  } finally {
    await sup?.stop();
    await cluster.stop();
  }
});

test.run();
