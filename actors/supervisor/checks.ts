// The troubleshooting checks (docs/architecture.md, Replica control, licence, checks): `test` on mr.rpc.admin, `doctor` in the REPL.
// Each check says ok / warn / fail, what it saw, and the fix to apply:
//   nats       every mailstore (asked over mr.node.<host>.admin) and this supervisor reach
//              every given NATS endpoint (Carbonio's canConnectToKafka);
//   jetstream  every asset exists with the configured replicas, a leader and current peers;
//   heartbeat  every registered mailstore and every supervisor beats;
//   clock      each node's clock agrees with the supervisor's;
//   storage    centralized storage takes, returns and removes a probe object;
//   replica    per replica: status, lag, last error;
//   licence    valid and not over quota.
// A check group that hangs (a JetStream without leader) becomes one failed check after a
// bounded wait, so `test` always answers.
import { readTrustList } from "../../src/keys/index.js";
import { TrustList } from "../../src/envelope/index.js";
import type { KvEntry } from "@nats-io/kv";
import { defineMethod, rpcCall, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { probeStorage } from "../../src/blobs/storage_probe.js";
import { jsErrCode, JS_ERR } from "../../src/runtime/nats_failure.js";
import { listKeys } from "../../src/jetstream/kv_keys.js";
import { accountStatuses } from "./account_status.js";
import type { HeartbeatRecord } from "../shared/heartbeat.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";
import { PROBE_TIMEOUT_MS, normalizeNatsUrl, probeNatsServers, refuseUnconfiguredServers, type NatsProbe } from "../shared/nats_probe.js";
import type { SupervisorCore } from "./context.js";
import type { GrantKey } from "./grant_key.js";
import type { LicenceQuota } from "./licence.js";
import type { SupervisorOptions } from "./supervisor_options.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";

/** What the checks use of the supervisor. */
export interface ChecksContext extends Pick<SupervisorCore, "host" | "nc" | "assets" | "directory" | "clock"> {
  readonly opts: Pick<SupervisorOptions, "servers" | "natsAuth" | "keysDir" | "heartbeatMs">;
  readonly grantKey: GrantKey;
  readonly licence: LicenceQuota;
}

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** what was checked, e.g. "nats ms1.example.com -> nats://10.0.0.1:4222" */
  check: string;
  status: CheckStatus;
  detail: string;
  /** what to do; null when nothing is needed */
  fix: string | null;
}

export interface CheckReport {
  /** the worst status of all checks */
  status: CheckStatus;
  summary: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/** Clock skew between a node and the supervisor that is worth a warning / a failure, ms. */
export const SKEW_WARN_MS = 500;
export const SKEW_FAIL_MS = 2_000;
/** A replica this far behind is reported (warn). */
export const LAG_WARN_MS = 10_000;
export const LAG_WARN_EVENTS = 1_000;
/** Licence: warn when this close to the quantity or to the end of validity. */
const QUOTA_WARN_RATIO = 0.9;
const EXPIRY_WARN_MS = 30 * 24 * 3600_000;
/** At most this many per-replica checks are listed (the summary check counts them all). */
const MAX_REPLICA_CHECKS = 200;
const GROUP_TIMEOUT_MS = 15_000;
/** A stream peer not heard from for this long (ns) is reported unreachable. */
const PEER_UNSEEN_NS = 5e9;

const ok = (check: string, detail: string): CheckResult => ({ check, status: "ok", detail, fix: null });
const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: "warn", detail, fix });
const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: "fail", detail, fix });

const RANK: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };
const worst = (s: CheckStatus[]): CheckStatus => s.reduce<CheckStatus>((w, x) => (RANK[x] > RANK[w] ? x : w), "ok");

function message(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/** Runs a group of checks; a throw or a hang becomes one failed check named after the group. */
async function group(name: string, fix: string, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => resolve([fail(name, `the check did not finish within ${GROUP_TIMEOUT_MS / 1000} s`, fix)]), GROUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([run().catch((e) => [fail(name, `the check itself failed: ${message(e)}`, fix)]), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `test` on mr.rpc.admin (the REPL's `doctor` sends it too). */
export function checkMethods(node: ChecksContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "test",
      params: ADMIN_METHODS.test.params,
      handler: (p) => {
        if (p.servers) refuseUnconfiguredServers(p.servers, node.opts.servers, `supervisor ${node.host}`);
        return runChecks(node, (p.servers ?? node.opts.servers).map(normalizeNatsUrl), p.servers !== undefined);
      },
    }),
  ];
}

/** `explicit`: the caller named the servers; otherwise each mailstore probes its own configured ones. */
export async function runChecks(node: ChecksContext, servers: string[], explicit = false): Promise<CheckReport> {
  const natsFix = "check the NATS servers run (nats-server, JetStream on) and are reachable; the endpoints are nats.servers (MR_SERVERS)";
  const groups = await Promise.all([
    group("nats", natsFix, () => natsChecks(node, servers, explicit)),
    group("jetstream", natsFix, () => jetstreamChecks(node)),
    group("heartbeat", natsFix, () => heartbeatChecks(node)),
    group("storage mr_blobs", `check the ${node.assets.opts.blobsBucket} object store: nats stream info OBJ_${node.assets.opts.blobsBucket}`, () =>
      storageChecks(node),
    ),
    group("replicas", "check the mailstores run (getServices) and retry", () => replicaChecks(node)),
    group("licence", "check the licence file (licence.file) and getLicenseInfo", () => licenceChecks(node)),
    group("keys", "check trusted-signers.json in every node's keys folder (docs/operations.md, Keys)", () => keyChecks(node)),
  ]);
  const checks = groups.flat();
  const summary: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return { status: worst(checks.map((c) => c.status)), summary, checks };
}

// ---------------------------------------------------------------- NATS endpoints

function reachCheck(who: string, p: NatsProbe): CheckResult {
  const name = `nats ${who} -> ${p.server}`;
  if (!p.ok) {
    return fail(
      name,
      `cannot connect from ${who}: ${p.error}`,
      `make ${p.server} reachable from ${who} (is nats-server running there? DNS, firewall, port, TLS), or correct nats.servers (MR_SERVERS)`,
    );
  }
  const what = `connected in ${p.ms} ms${p.serverName ? ` to ${p.serverName}` : ""}${p.version ? ` (nats-server ${p.version})` : ""}`;
  if (!p.jetstream)
    return warn(name, `${what}, but JetStream is not enabled there`, `enable JetStream on that server (nats-server -js, or jetstream {} in its configuration)`);
  return ok(name, what);
}

async function natsChecks(node: ChecksContext, servers: string[], explicit: boolean): Promise<CheckResult[]> {
  const [own, mailstores, alive] = await Promise.all([
    probeNatsServers(servers, PROBE_TIMEOUT_MS, node.opts.natsAuth),
    node.directory.listMailstores(),
    liveHeartbeats(node),
  ]);
  const out = own.map((p) => reachCheck(`supervisor ${node.host}`, p));
  const perHost = await Promise.all(
    mailstores.map(async ({ host }): Promise<CheckResult[]> => {
      if (!alive.has(`mailstore:${host}`)) {
        return [
          fail(
            `nats ${host}`,
            `${host} is down (no heartbeat), so its NATS connectivity cannot be checked`,
            `start the mailstore (mailreplica mailstore --host ${host}) and run test again`,
          ),
        ];
      }
      try {
        const r = await rpcCall<{ probes: NatsProbe[] }>(node.nc, nodeAdminSubject(host), "probeNats", explicit ? { servers } : {}, {
          timeoutMs: PROBE_TIMEOUT_MS + 3_000,
        });
        return r.probes.map((p) => reachCheck(host, p));
      } catch (e) {
        return [
          fail(
            `nats ${host}`,
            `${host} did not answer the probe on ${nodeAdminSubject(host)}: ${message(e)}`,
            `check the mailstore runs and has the same version as the supervisor (getServices)`,
          ),
        ];
      }
    }),
  );
  return [...out, ...perHost.flat()];
}

// ---------------------------------------------------------------- JetStream assets

async function jetstreamChecks(node: ChecksContext): Promise<CheckResult[]> {
  const o = node.assets.opts;
  const assets: Array<[string, string]> = [
    [o.txStream, "account logs"],
    [o.notifyStream, "notifications"],
    [`KV_${o.directoryBucket}`, "directory"],
    [`KV_${o.nodesBucket}`, "heartbeats"],
    [`OBJ_${o.blobsBucket}`, "centralized storage"],
    [`OBJ_${o.uploadsBucket}`, "message uploads"],
  ];
  return Promise.all(
    assets.map(async ([name, what]): Promise<CheckResult> => {
      const check = `jetstream ${name}`;
      let info;
      try {
        info = await node.assets.jsm.streams.info(name);
      } catch (e) {
        const notFound = jsErrCode(e) === JS_ERR.STREAM_NOT_FOUND;
        return notFound
          ? fail(
              check,
              `the ${what} stream ${name} does not exist`,
              "start any mailstore or supervisor: they create the assets at start (names in jetstream.* of the configuration)",
            )
          : fail(check, `stream info of ${name} failed: ${message(e)}`, "check the JetStream cluster: nats server report jetstream");
      }
      const replicas = info.config.num_replicas;
      const cluster = info.cluster;
      const peers = cluster?.replicas ?? [];
      const head = `${info.state.messages} message${info.state.messages === 1 ? "" : "s"}, ${replicas} replica${replicas === 1 ? "" : "s"}`;
      if (replicas > 1 && !cluster?.leader) {
        return fail(
          check,
          `${head}, no leader: nothing can be written to the ${what}`,
          "a majority of the stream's servers must run: start the missing nats-servers (nats server report jetstream)",
        );
      }
      // The group marks a peer offline only after a while; one not heard from for a few
      // seconds is as good as gone for the operator.
      const gone = peers.filter((p) => p.offline || p.active > PEER_UNSEEN_NS);
      const behind = peers.filter((p) => !gone.includes(p) && !p.current).map((p) => `${p.name} (lag ${p.lag ?? "?"})`);
      if (gone.length) {
        const names = gone.map((p) => p.name);
        return warn(
          check,
          `${head}, leader ${cluster?.leader}; peer${gone.length > 1 ? "s" : ""} unreachable: ${gone.map((p) => `${p.name} (${p.offline ? "offline" : `not seen for ${Math.round(p.active / 1e9)} s`})`).join(", ")}`,
          `start the nats-server${names.length > 1 ? "s" : ""} ${names.join(", ")} or repair ${names.length > 1 ? "their" : "its"} network: one more loss may stop the ${what}`,
        );
      }
      if (behind.length) {
        // nats-server 2.15 keeps a dead peer's `active` fresh on a stream that takes writes:
        // it shows only as not current with a growing lag, so the fix names it too.
        const names = peers.filter((p) => !gone.includes(p) && !p.current).map((p) => p.name);
        return warn(
          check,
          `${head}, leader ${cluster?.leader}; peers not current: ${behind.join(", ")}`,
          `usually transient (catching up); if it stays or the lag grows, make sure the nats-server${names.length > 1 ? "s" : ""} ${names.join(", ")} run${names.length > 1 ? "" : "s"}, then check ${names.length > 1 ? "their" : "its"} disk and network`,
        );
      }
      if (replicas !== o.replicas) {
        return warn(
          check,
          `${head}, but jetstream.replicas is ${o.replicas}`,
          `nats stream edit ${name} --replicas ${o.replicas} (or set jetstream.replicas to ${replicas})`,
        );
      }
      return ok(
        check,
        `${head}${cluster?.leader ? `, leader ${cluster.leader}` : ""}${peers.length ? `, peers current: ${peers.map((p) => p.name).join(", ")}` : ""}`,
      );
    }),
  );
}

// ---------------------------------------------------------------- heartbeats and clocks

interface Beat {
  hb: HeartbeatRecord;
  /** the server's time when the heartbeat was stored */
  stored: number;
}

/** Every heartbeat with the server's store time, by `role:host`. */
async function readBeats(node: ChecksContext): Promise<Map<string, Beat>> {
  const kv = node.assets.nodes;
  const keys = await listKeys(kv);
  const entries = await Promise.all(keys.map((k) => kv.get(k)));
  const out = new Map<string, Beat>();
  for (const e of entries as Array<KvEntry | null>) {
    if (!e || e.operation !== "PUT" || e.length === 0) continue;
    try {
      const hb = JSON.parse(new TextDecoder().decode(e.value)) as HeartbeatRecord;
      if (typeof hb.host === "string" && typeof hb.at === "number") out.set(`${hb.role}:${hb.host}`, { hb, stored: e.created.getTime() });
    } catch {
      /* not a heartbeat */
    }
  }
  return out;
}
// ---------------------------------------------------------------- signing keys

/**
 * Each running mailstore is asked (keyStatus, after it re-read its key files) whether its own
 * signing key is trusted (one that is not writes nothing) and what its trusted list holds (a
 * digest: every node must hold the same list). This supervisor checks it can sign promotion
 * grants with a key its own list gives it as a supervisor key.
 */
async function keyChecks(node: ChecksContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const hosts = [...(await readBeats(node)).values()]
    .filter((b) => b.hb.role === "mailstore")
    .map((b) => b.hb.host)
    .sort();
  const copyFix = (host: string, role = "") =>
    `add ${host}'s public key to trusted-signers.json (mailreplica keys trust --host ${host}${role}) and copy that file to every node's keys folder; running nodes read it within seconds`;
  const own = node.opts.keysDir ? readTrustList(node.opts.keysDir) : undefined;
  const mine = own && !own.missing ? new TrustList(own.entries).digest() : undefined;
  const differ: string[] = [];
  const statuses = await Promise.all(
    hosts.map((host) =>
      rpcCall<{ signingKid: string; signingKeyTrusted: boolean; trustDigest: string }>(
        node.nc,
        nodeAdminSubject(host),
        "keyStatus",
        {},
        { timeoutMs: 3_000 },
      ).then(
        (s) => ({ host, s, error: undefined }),
        (e: unknown) => ({ host, s: undefined, error: message(e) }),
      ),
    ),
  );
  for (const { host, s, error } of statuses) {
    const check = `signing key mailstore ${host}`;
    if (!s) {
      out.push(warn(check, `could not ask ${host} (${error})`, `check ${host} runs the same mailreplica release and answers (getServices)`));
      continue;
    }
    if (s.signingKeyTrusted) out.push(ok(check, `key ${s.signingKid} is a trusted mailstore key`));
    else
      out.push(
        fail(
          check,
          `key ${s.signingKid} is not in that mailstore's trusted-signers.json: it writes no account (SIGNER_NOT_TRUSTED) and every other node refuses its entries`,
          copyFix(host),
        ),
      );
    if (mine !== undefined && s.trustDigest !== mine) differ.push(host);
  }
  // A key one node trusts and another does not splits them (a rotation activated too early, a copy forgotten).
  if (mine !== undefined) {
    const fix = "copy one trusted-signers.json (the newest, after checking it) to the keys folder of every node, then run test again";
    if (differ.length > 0)
      out.push(
        fail(
          "trusted signers",
          `${differ.join(", ")} hold${differ.length === 1 ? "s" : ""} another trusted-signers.json than ${own!.file} on supervisor ${node.host} (digest ${mine})`,
          fix,
        ),
      );
    else out.push(ok("trusted signers", `every running mailstore holds the same trusted-signers.json as this supervisor (digest ${mine})`));
  }
  const check = `grant key supervisor ${node.host}`;
  try {
    const signer = node.grantKey.signer();
    const listed = own?.entries.find((e) => e.kid === signer.kid);
    if (!listed || listed.role !== "supervisor" || listed.retiredAt !== undefined) {
      out.push(
        fail(
          check,
          `key ${signer.kid} is not a trusted supervisor key in ${own?.file ?? "trusted-signers.json"}: mailstores refuse the promotions it grants`,
          copyFix(node.host, " --role supervisor"),
        ),
      );
    } else {
      out.push(ok(check, `key ${signer.kid} signs promotion grants`));
    }
  } catch (e) {
    out.push(fail(check, message(e), `mailreplica keys init --host ${node.host} --role supervisor, then copy trusted-signers.json to every node`));
  }
  return out;
}

async function liveHeartbeats(node: ChecksContext): Promise<Set<string>> {
  return new Set((await readBeats(node)).keys());
}

async function heartbeatChecks(node: ChecksContext): Promise<CheckResult[]> {
  const [beats, mailstores] = await Promise.all([readBeats(node), node.directory.listMailstores()]);
  const now = node.clock.now();
  const ttl = node.assets.opts.nodeTtlMs;
  const lateMs = Math.max(3 * node.opts.heartbeatMs, 0.75 * ttl);
  // Offsets are measured against the NATS server's store time, so a node's skew relative to
  // the supervisor does not depend on how long ago it beat: skew = (at - stored) of the node
  // minus the same for the supervisor's own heartbeat.
  const own = beats.get(`supervisor:${node.host}`);
  const ownOffset = own ? own.hb.at - own.stored : 0;
  const serverNow = now - ownOffset;
  const out: CheckResult[] = [];
  const all = [...beats.values()];
  const describe = (b: Beat) => `last beat ${Math.max(0, serverNow - b.stored)} ms ago (pid ${b.hb.pid}, version ${b.hb.version})`;
  const beatCheck = (role: string, host: string, b: Beat | undefined, startFix: string): void => {
    const check = `heartbeat ${role} ${host}`;
    if (!b) {
      out.push(fail(check, `no heartbeat in the last ${ttl} ms: ${host} is down or cannot reach NATS`, startFix));
      return;
    }
    const age = serverNow - b.stored;
    if (age > lateMs)
      out.push(
        warn(
          check,
          `${describe(b)}; expected every ${node.opts.heartbeatMs} ms`,
          `${host} is slow or its NATS connection struggles: check its load and its log`,
        ),
      );
    else out.push(ok(check, describe(b)));
  };
  for (const { host } of mailstores) {
    const b = beats.get(`mailstore:${host}`);
    beatCheck(
      "mailstore",
      host,
      b,
      `start it (mailreplica mailstore --host ${host} --data DIR) or check its log and its NATS connection; its accounts can be promoted away meanwhile (promoteAccounts source_mail_host ${host})`,
    );
    beats.delete(`mailstore:${host}`);
  }
  for (const b of [...beats.values()].filter((x) => x.hb.role === "supervisor").sort((a, c) => a.hb.host.localeCompare(c.hb.host))) {
    beatCheck("supervisor", b.hb.host, b, "");
  }
  // Clocks: every node with a heartbeat, against this supervisor. A mailstore is asked its
  // time directly (NTP-style, the best of a few round trips), which bounds the error; other
  // supervisors have no endpoint, so their heartbeat gives the estimate.
  const others = all.filter((b) => !(b.hb.role === "supervisor" && b.hb.host === node.host)).sort((a, c) => a.hb.host.localeCompare(c.hb.host));
  const clocks = await Promise.all(
    others.map(async (b) => {
      const measured = b.hb.role === "mailstore" ? await pingOffset(node, b.hb.host) : undefined;
      return { b, skew: measured?.skew ?? b.hb.at - b.stored - ownOffset, error: measured?.error };
    }),
  );
  for (const { b, skew, error } of clocks) {
    const check = `clock ${b.hb.role} ${b.hb.host}`;
    const detail = `${b.hb.host}'s clock is ${Math.abs(skew)} ms ${skew >= 0 ? "ahead of" : "behind"} the supervisor's${error !== undefined ? ` (±${error} ms)` : " (from its heartbeat)"}`;
    const fix = `synchronize the clocks of ${b.hb.host} and ${node.host} (NTP: chrony or systemd-timesyncd); lag times and logs are compared across nodes`;
    // Only what the measurement is sure of counts: a slow round trip is not a skew.
    const sure = Math.max(0, Math.abs(skew) - (error ?? 0));
    if (sure >= SKEW_FAIL_MS) out.push(fail(check, detail, fix));
    else if (sure >= SKEW_WARN_MS) out.push(warn(check, detail, fix));
    else out.push(ok(check, detail));
  }
  return out;
}

/** A mailstore's clock minus this supervisor's, and the error bound, from the best of 3 pings. */
async function pingOffset(node: ChecksContext, host: string): Promise<{ skew: number; error: number } | undefined> {
  let best: { skew: number; error: number } | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = node.clock.now();
    let at: number;
    try {
      at = (await rpcCall<{ at: number }>(node.nc, nodeAdminSubject(host), "ping", {}, { timeoutMs: 2_000 })).at;
    } catch {
      return best;
    }
    const t2 = node.clock.now();
    const sample = { skew: Math.round(at - (t0 + t2) / 2), error: Math.ceil((t2 - t0) / 2) };
    if (!best || sample.error < best.error) best = sample;
  }
  return best;
}

// ---------------------------------------------------------------- centralized storage

async function storageChecks(node: ChecksContext): Promise<CheckResult[]> {
  const bucket = node.assets.opts.blobsBucket;
  const check = `storage ${bucket}`;
  const fix = `check the ${bucket} object store and its JetStream stream OBJ_${bucket} (nats stream info OBJ_${bucket}); mailboxes cannot store or read message bodies meanwhile`;
  const r = await probeStorage(node.assets.blobs, bucket);
  if (!r.ok) return [fail(check, `${r.step === "write" ? "writing" : "reading back"} a probe object failed: ${r.message}`, fix)];
  if (!r.removed) return [warn(check, `the probe object ${r.name} could not be removed`, `remove it by hand: nats object del ${bucket} ${r.name}`)];
  return [ok(check, `wrote, read back and removed a 1 KiB probe object in ${r.ms} ms`)];
}

// ---------------------------------------------------------------- replicas

async function replicaChecks(node: ChecksContext): Promise<CheckResult[]> {
  const recs = (await node.directory.listAccounts()).filter((r) => r.type === "account" && r.replicas.length > 0);
  if (recs.length === 0) return [ok("replicas", "no account has a replica")];
  const alive = new Set([...(await readBeats(node)).values()].filter((b) => b.hb.role === "mailstore").map((b) => b.hb.host));
  const views = await accountStatuses(node.assets, recs, alive, () => node.clock.now());
  const counts = { available: 0, lagging: 0, initializing: 0, paused: 0, unavailable: 0, unreachable: 0 };
  const problems: CheckResult[] = [];
  for (const a of views) {
    for (const r of a.replicas) {
      const check = `replica ${a.accountName} on ${r.destination}`;
      const restart = `restartReplicas accounts ${a.accountName} destination ${r.destination} (seeds it again from the log)`;
      const lag = `${r.lagEvents} event${r.lagEvents === 1 ? "" : "s"} (${Math.round(r.lagMs / 1000)} s) behind`;
      if (r.status === "unreachable") {
        counts.unreachable++;
        problems.push(
          fail(
            check,
            `mailstore ${r.destination} does not answer${r.error ? `: ${r.error}` : ""}`,
            `start ${r.destination}; it catches up from its applied sequence`,
          ),
        );
      } else if (r.status === "unavailable") {
        counts.unavailable++;
        problems.push(fail(check, `unavailable: ${r.error ?? "no reason recorded"}`, restart));
      } else if (r.status === "paused") {
        counts.paused++;
        problems.push(warn(check, `paused: nothing is applied (${lag})`, `restartReplicas accounts ${a.accountName} destination ${r.destination}`));
      } else if (r.status === "initializing") {
        counts.initializing++;
        problems.push(warn(check, `seeding from the log, ${lag}`, "wait for it to catch up; getAccountStatus shows its progress"));
      } else if (
        // A lagged replica is behind by its delay on purpose (any number of entries): only lag beyond it is one.
        r.delay > 0 ? r.lagMs - r.delay * 1_000 > LAG_WARN_MS : r.lagMs > LAG_WARN_MS || r.lagEvents > LAG_WARN_EVENTS
      ) {
        counts.lagging++;
        problems.push(
          warn(
            check,
            `available but ${lag}`,
            `check ${r.destination}'s load and log, and that its replication module runs (getServices; doStartService module host ${r.destination}); ${restart}`,
          ),
        );
      } else {
        counts.available++;
      }
    }
  }
  const total = Object.values(counts).reduce((x, y) => x + y, 0);
  const detail = `${total} replica${total === 1 ? "" : "s"} of ${views.length} account${views.length === 1 ? "" : "s"}: ${Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ")}`;
  const status = worst(problems.map((p) => p.status));
  const listed = problems.slice(0, MAX_REPLICA_CHECKS);
  const more = problems.length - listed.length;
  const summary: CheckResult =
    status === "ok"
      ? ok("replicas", detail)
      : {
          check: "replicas",
          status,
          detail: `${detail}${more > 0 ? `; ${more} more problem replicas not listed` : ""}`,
          fix: "see the replica checks below; getAccountStatus replicaStatus unavailable lists the unavailable ones",
        };
  return [summary, ...listed];
}

// ---------------------------------------------------------------- licence

async function licenceChecks(node: ChecksContext): Promise<CheckResult[]> {
  const st = node.licence.state();
  const enabled = (await node.licence.enabledAccounts()).size;
  const source = st.source === "default" ? "default quota (no licence file)" : `licence file ${st.file}`;
  const installFix =
    "install a valid licence file (licence.file / MR_LICENCE_FILE) signed by the licence issuer pinned in mailreplica; existing replicas keep working, new ones are refused until then";
  if (!st.valid) return [fail("licence", `${source} is not valid: ${st.reason}; ${enabled} accounts have replicas`, installFix)];
  const head = `${source}: ${enabled} of ${st.quantity} accounts with replicas${st.validUntil ? `, valid until ${st.validUntil}` : ""}`;
  if (enabled > st.quantity)
    return [fail("licence", `${head}: over quota`, "remove destinations (removeAccountDestination) or install a licence with a higher quantity")];
  const out: CheckResult[] = [];
  if (st.validUntil && Date.parse(st.validUntil) - node.clock.now() < EXPIRY_WARN_MS)
    out.push(warn("licence", `${head}: expires soon`, "renew the licence before it expires; then no new replicas can be enabled"));
  else if (st.quantity > 0 && enabled >= QUOTA_WARN_RATIO * st.quantity)
    out.push(warn("licence", `${head}: nearly used up`, "raise the quantity before new accounts need replicas"));
  else out.push(ok("licence", head));
  return out;
}
