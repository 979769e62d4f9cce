// Prometheus metrics (docs/metrics.md): a mailstore and the supervisor scraped while
// replication runs; off by default; a bad or taken metrics.listen refused clearly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:net";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { freePort, waitFor } from "./helpers/processes.js";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { MetricsError } from "../src/metrics/index.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const ACCOUNT = "metered@example.com";

let sys: TestSystem;
const url: Record<string, string> = {};

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2, MS3] });
  // createAccount needs a running supervisor: it first.
  url.sup = (await sys.startSupervisor("sup1", { metricsListen: `127.0.0.1:${await freePort()}`, metricsRefreshMs: 100 })).metrics!.url;
  url[MS1] = (await sys.startMailstore(MS1, { metricsListen: `127.0.0.1:${await freePort()}` })).metrics!.url;
  url[MS2] = (await sys.startMailstore(MS2, { metricsListen: `127.0.0.1:${await freePort()}` })).metrics!.url;
});
test.after(async () => {
  await sys?.stop();
});

async function scrape(target: string): Promise<string> {
  const res = await fetch(target);
  assert.is(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  return res.text();
}

/** The value of the series `name` whose labels include `labels`, summed over matches; undefined when none. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

async function metric(target: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return value(await scrape(target), name, labels);
}

test("metrics - a mailstore and the supervisor expose the named series, and the applied counter moves while replication runs", async () => {
  await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 });
  for (let i = 0; i < 3; i++) await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(i) });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: [ACCOUNT] });
  const applied = await waitFor("ms2 counts applied entries", async () => {
    const n = (await metric(url[MS2]!, "mailreplica_entries_applied_total", { host: MS2 })) ?? 0;
    return n > 0 ? n : undefined;
  });
  await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(10) });
  await waitFor("the applied counter moves with a new write", async () => ((await metric(url[MS2]!, "mailreplica_entries_applied_total")) ?? 0) > applied);

  const ms1 = await scrape(url[MS1]!);
  for (const name of [
    "mailreplica_info",
    "mailreplica_entries_applied_total",
    "mailreplica_entries_skipped_total",
    "mailreplica_fenced_writes_total",
    "mailreplica_actor_restarts_total",
    "mailreplica_mailbox_depth",
    "mailreplica_primary_accounts",
    "mailreplica_replicated_accounts",
    "mailreplica_nats_reconnects_total",
    "mailreplica_nats_disconnects_total",
    "process_cpu_user_seconds_total",
    "nodejs_eventloop_lag_seconds",
  ]) {
    assert.ok(value(ms1, name) !== undefined, `ms1 exposes ${name}`);
  }
  assert.is(value(ms1, "mailreplica_info", { role: "mailstore", host: MS1 }), 1);
  assert.ok((value(ms1, "mailreplica_append_duration_seconds_count", { outcome: "stored" }) ?? 0) >= 4, "ms1's appends are timed");
  assert.ok((value(ms1, "mailreplica_group_commit_size_count") ?? 0) >= 4, "ms1's group commits are measured");
  assert.ok((value(ms1, "mailreplica_primary_accounts") ?? 0) >= 1);
  const ms2 = await scrape(url[MS2]!);
  assert.is(value(ms2, "mailreplica_replicated_accounts"), 1);
  // Mailbox calls reach either mailstore (queue group) and are routed to the primary.
  const delivered =
    (value(ms1, "mailreplica_rpc_requests_total", { method: "deliverMessage", code: "ok" }) ?? 0) +
    (value(ms2, "mailreplica_rpc_requests_total", { method: "deliverMessage", code: "ok" }) ?? 0);
  assert.ok(delivered >= 4, `deliverMessage answers counted (${delivered})`);

  const sup = await waitFor("the supervisor measured the replica", async () => {
    const text = await scrape(url.sup!);
    return value(text, "mailreplica_replicas", { destination: MS2, status: "available" }) === 1 ? text : undefined;
  });
  assert.is(value(sup, "mailreplica_supervisor_active", { host: "sup1" }), 1);
  assert.is(value(sup, "mailreplica_replica_unavailable", { destination: MS2 }), 0);
  assert.ok(value(sup, "mailreplica_replica_lag_events", { destination: MS2 }) !== undefined);
  assert.ok(value(sup, "mailreplica_replica_lag_seconds", { destination: MS2 }) !== undefined);
  assert.ok((value(sup, "mailreplica_lag_refresh_timestamp_seconds") ?? 0) > 0);
  assert.ok((value(sup, "mailreplica_rpc_requests_total", { method: "setAccountDestination", code: "ok" }) ?? 0) >= 1);
  for (const name of ["mailreplica_nats_reconnects_total", "mailreplica_lag_refresh_errors_total", "process_resident_memory_bytes"])
    assert.ok(value(sup, name) !== undefined, `supervisor exposes ${name}`);
});

test("metrics - lag series rise while a replica is paused and fall back when it catches up; promotions and RPC errors are counted", async () => {
  const id = (await sys.admin("getAccountStatus", { accounts: ACCOUNT })).accounts[0].accountId as string;
  const ms2 = sys.inProcess.get(MS2)!;
  await sys.admin("pauseReplicas", { accounts: ACCOUNT, destination: MS2 });
  await waitFor("ms2 pauses the replica", () => ms2.store.replicaState(id)?.status === "paused");
  await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(20) });
  await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(21) });
  const text = await waitFor("the supervisor reports the lag", async () => {
    const t = await scrape(url.sup!);
    return (value(t, "mailreplica_replica_lag_events", { destination: MS2 }) ?? 0) >= 2 ? t : undefined;
  });
  assert.is(value(text, "mailreplica_replica_account_lag_events", { destination: MS2, account: ACCOUNT }), 2);
  assert.ok((value(text, "mailreplica_replica_account_lag_seconds", { destination: MS2, account: ACCOUNT }) ?? -1) >= 0);
  assert.ok((value(text, "mailreplica_replica_lag_seconds", { destination: MS2 }) ?? -1) >= 0);
  assert.is(value(text, "mailreplica_replicas", { destination: MS2, status: "paused" }), 1);

  const applied = (await metric(url[MS2]!, "mailreplica_entries_applied_total")) ?? 0;
  await sys.admin("restartReplicas", { accounts: ACCOUNT, destination: MS2 });
  const after = await waitFor("the lag is gone", async () => {
    const t = await scrape(url.sup!);
    return value(t, "mailreplica_replica_lag_events", { destination: MS2 }) === 0 &&
      value(t, "mailreplica_replicas", { destination: MS2, status: "available" }) === 1
      ? t
      : undefined;
  });
  assert.is(value(after, "mailreplica_replica_account_lag_events", { account: ACCOUNT }), undefined, "a replica without lag has no account series");
  assert.ok(((await metric(url[MS2]!, "mailreplica_entries_applied_total")) ?? 0) > applied, "ms2 applied the entries it had missed");

  // A refused call is counted under its application code.
  await sys.mailbox("deliverMessage", { account: "nobody@example.com", raw: rawMessage(30) }).catch(() => undefined);
  const errors = await Promise.all(
    [url[MS1]!, url[MS2]!].map(
      async (u) =>
        (await scrape(u))
          .split("\n")
          .filter((l) => l.startsWith("mailreplica_rpc_requests_total{") && l.includes('method="deliverMessage"') && !l.includes('code="ok"')).length,
    ),
  );
  assert.ok(errors[0]! + errors[1]! >= 1, "the refused deliverMessage is counted with its error code");

  // A planned switchover to ms2: one promotion counted, with its duration.
  const promoted = await sys.admin("promoteAccounts", { accounts: [ACCOUNT], destination: MS2 });
  await waitFor(
    "the promotion ends",
    async () => ((await sys.admin("monitor", { operation_uuid: promoted.operationId })).state !== "running" ? true : undefined),
    60_000,
  );
  const sup = await scrape(url.sup!);
  assert.is(value(sup, "mailreplica_promotions_total", { outcome: "promoted" }), 1);
  assert.is(value(sup, "mailreplica_promotion_duration_seconds_count", { outcome: "promoted" }), 1);
});

test("metrics - only GET /metrics is served; other paths are 404", async () => {
  const res = await fetch(url[MS1]!.replace(/\/metrics$/, "/other"));
  assert.is(res.status, 404);
  await res.text();
});

test("metrics - off by default: the configuration has no address and a mailstore without one opens no port", async () => {
  assert.is(loadConfig({ env: {}, systemFile: null }).metrics.listen, undefined);
  const ms3 = await sys.startMailstore(MS3);
  assert.is(ms3.metrics, undefined);
  await ms3.stop();
  sys.inProcess.delete(MS3);
});

test("metrics - a bad metrics.listen is refused, naming the key, the variable and the allowed form", () => {
  for (const bad of ["9464", "localhost:99999", ":9464", "http://127.0.0.1:9464", "bad host:9464"]) {
    let err: unknown;
    try {
      loadConfig({ env: { MR_METRICS_LISTEN: bad }, systemFile: null });
    } catch (e) {
      err = e;
    }
    assert.instance(err, ConfigError, `${bad} is refused`);
    const msg = (err as ConfigError).message;
    assert.ok(msg.includes("metrics.listen (from environment variable MR_METRICS_LISTEN)"), msg);
    assert.ok(msg.includes("allowed: host:port"), msg);
  }
  assert.is(loadConfig({ env: { MR_METRICS_LISTEN: "[::1]:9464" }, systemFile: null }).metrics.listen, "[::1]:9464");
  assert.is(loadConfig({ env: { MR_METRICS_LISTEN: "0.0.0.0:9464" }, systemFile: null }).metrics.listen, "0.0.0.0:9464");
});

test("metrics - a port in use stops the start with METRICS_LISTEN_FAILED naming the key and the address", async () => {
  const port = await freePort();
  const holder: Server = await new Promise((resolve) => {
    const s = createServer();
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
  try {
    let err: unknown;
    await sys.startMailstore(MS3, { metricsListen: `127.0.0.1:${port}` }).catch((e: unknown) => (err = e));
    assert.instance(err, MetricsError);
    assert.is((err as MetricsError).code, "METRICS_LISTEN_FAILED");
    assert.ok((err as Error).message.includes(`metrics.listen 127.0.0.1:${port}`), (err as Error).message);
    assert.ok((err as Error).message.includes("already in use"), (err as Error).message);
  } finally {
    await new Promise<void>((r) => holder.close(() => r()));
  }
});

test.run();
