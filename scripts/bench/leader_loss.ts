// Leader loss (issue "Production on a JetStream cluster", item 2): the write gap when the
// nats-server node leading MR_TX dies under a write load, on a 3-node cluster with every asset
// at 3 replicas. The gap is read from the log itself: the longest interval between two
// consecutive entries of the account's subject (the server's storage times) that ends after
// the fault. Every write is acknowledged only once its entry is stored, so this is how long no
// write could be acknowledged; a retried call answered from its requestId's first outcome
// (no new entry) does not hide it. The writers act like a
// careful MTA: a call gets 2 s, then is sent again with the same requestId (safe: the first
// outcome is returned, nothing is written twice). The raw baseline, in the same trial, is a
// plain JetStream publisher (expected-last-sequence, 250 ms per attempt, retried at once) on
// an R3 stream led by the same node, so it sees the same election.
// Each trial also records when the cluster reported a new MR_TX leader (the election).
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { localSystemConfig, localDataDir } from "../../src/dev/local_system.js";
import { mailstoreOptionsOf } from "../../actors/mailstore/options.js";
import { supervisorOptionsOf } from "../../actors/supervisor/supervisor_options.js";
import { MailstoreNode } from "../../actors/mailstore/node.js";
import { SupervisorNode } from "../../actors/supervisor/node.js";
import { rpcCall } from "../../src/jsonrpc/index.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { retryTransient } from "../../src/jetstream/transient.js";
import { natsServerPath, natsServerVersion } from "../../src/natsserver/binary.js";
import { startNatsCluster, waitClusterReady, type NatsCluster, type NatsNode } from "../../test/helpers/nats.js";
import { now, percentile, sleep, tempDir, waitFor } from "./util.js";

const MS = "ms1.leaderloss.example.com";
const RAW_STREAM = "BENCH_LEADER_RAW";
const RAW_SUBJECT = "bench.leader.raw";
/** a writer's wait for one call before it sends it again (same requestId) */
const CALL_TIMEOUT_MS = 2_000;
/** the raw publisher's wait per attempt, and for reading the stream head after a failure */
const RAW_ATTEMPT_MS = 250;

export type Fault = "kill -9" | "SIGTERM";

export interface LeaderLossTrial {
  fault: Fault;
  victim: string;
  /** longest time between two stored entries of the account's log that ends after the fault */
  gapS: number;
  /** the same for the raw publisher (NaN when its stream was not led by the victim) */
  rawGapS: number;
  /** from the fault until a surviving node logged that it leads MR_TX (the election) */
  electionS: number;
  /** mailbox calls that failed during the trial (each retried by its writer) */
  failedCalls: number;
}

export interface LeaderLossSummary {
  fault: Fault;
  trials: number;
  p50S: number;
  p99S: number;
  maxS: number;
  rawP99S: number;
  electionP50S: number;
  electionMaxS: number;
}

export interface LeaderLossResult {
  natsServer: string;
  writers: number;
  trials: LeaderLossTrial[];
  summary: LeaderLossSummary[];
  /** p99 over the kill -9 trials: the figure issue 8 asks for */
  leader_loss_write_gap_s: number;
}

export interface LeaderLossParams {
  killTrials: number;
  termTrials: number;
  writers: number;
}

/** Acknowledgement times of one load, and the calls that failed. */
class AckLog {
  readonly at: number[] = [];
  failed = 0;

  ackedAfter(t: number): boolean {
    return this.at.some((a) => a > t);
  }
}

/**
 * The longest interval between consecutive entries of `subject` from `fromSeq` on, among
 * those ending after `sinceWall` (server storage times, wall-clock ms), in seconds.
 */
async function storedGap(log: SubjectLog, fromSeq: number, sinceWall: number): Promise<number> {
  let prev: number | undefined;
  let max = 0;
  for await (const e of log.read(Math.max(1, fromSeq))) {
    if (prev !== undefined && e.time > sinceWall) max = Math.max(max, e.time - prev);
    prev = e.time;
  }
  return max / 1000;
}

/**
 * When a node other than `victim` logged "new stream leader" for `stream` after `sinceWall`
 * (wall-clock ms), read from the nodes' own log lines (local-time stamps, microseconds): the
 * server's election, not what a client sees of it.
 */
function electedAt(nodes: NatsNode[], victim: string, stream: string, sinceWall: number): number | undefined {
  const re = new RegExp(`(\\d{4})/(\\d\\d)/(\\d\\d) (\\d\\d:\\d\\d:\\d\\d\\.\\d{3})\\d* \\[INF\\] JetStream cluster new stream leader for '[^']*> ${stream}'`);
  let first: number | undefined;
  for (const n of nodes) {
    if (n.spec.name === victim) continue;
    for (const line of n.log.split("\n")) {
      const m = re.exec(line);
      if (!m) continue;
      const t = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}`).getTime();
      if (t > sinceWall && (first === undefined || t < first)) first = t;
    }
  }
  return first;
}

async function leaderOf(jsm: JetStreamManager, stream: string): Promise<string | undefined> {
  return (await jsm.streams.info(stream)).cluster?.leader;
}

/** Moves the raw stream's leader onto `node` by asking its leader to step down (random pick on 2.10). */
async function alignLeader(nc: NatsConnection, jsm: JetStreamManager, node: string): Promise<boolean> {
  for (let i = 0; i < 12; i++) {
    if ((await leaderOf(jsm, RAW_STREAM).catch(() => undefined)) === node) return true;
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${RAW_STREAM}`, "", { timeout: 5_000 }).catch(() => undefined);
    await waitFor("the raw stream to elect a leader", async () => (await leaderOf(jsm, RAW_STREAM).catch(() => undefined)) !== undefined, 30_000, 50);
  }
  return (await leaderOf(jsm, RAW_STREAM).catch(() => undefined)) === node;
}

/** Waits until MR_TX and the raw stream have a leader and every replica is current again. */
async function waitStreamsWhole(jsm: JetStreamManager, streams: string[]): Promise<void> {
  await waitFor(
    "every stream to have a leader and 2 current replicas",
    async () => {
      for (const s of streams) {
        const c = (await jsm.streams.info(s)).cluster;
        if (!c?.leader || (c.replicas ?? []).filter((r) => r.current && !r.offline).length !== 2) return false;
      }
      return true;
    },
    120_000,
    100,
  );
}

export async function benchLeaderLoss(p: LeaderLossParams, log: (line: string) => void): Promise<LeaderLossResult> {
  const root = tempDir("mr-bench-leader-");
  log("leader loss: starting a 3-node cluster");
  const cluster: NatsCluster = await startNatsCluster(3, { waitReady: true });
  const config = localSystemConfig({ root, servers: cluster.urls, replicas: 3, mailstores: [MS] });
  let ms: MailstoreNode | undefined;
  let sup: SupervisorNode | undefined;
  let nc: NatsConnection | undefined;
  let stop = false;
  const loads: Promise<unknown>[] = [];
  try {
    ms = await MailstoreNode.start({ ...mailstoreOptionsOf(config, MS, localDataDir(config, MS)), log: () => {} });
    // Account records are written by a supervisor (createAccount asks it).
    sup = await SupervisorNode.start({ ...supervisorOptionsOf(config, "sup.bench"), log: () => {} });
    nc = await connect({ servers: cluster.urls, name: "bench leader loss", maxReconnectAttempts: -1 });
    const client = nc;
    const jsm = await jetstreamManager(client);
    const js = jetstream(client);
    await jsm.streams.add({
      name: RAW_STREAM,
      subjects: [RAW_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: 3,
      max_msgs: 100_000,
    });
    const acct = await rpcCall<{ id: string }>(
      client,
      "mr.rpc.mailbox",
      "createAccount",
      { name: "leader.loss@example.com", mailHost: MS },
      { timeoutMs: 30_000 },
    );
    const raw = `From: a@example.org\r\nTo: leader.loss@example.com\r\nSubject: bench\r\nMessage-ID: <ll1@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n`;
    const item = await rpcCall<{ itemId: number }>(client, "mr.rpc.mailbox", "deliverMessage", { account: acct.id, raw }, { timeoutMs: 30_000 });

    // The loads: mailbox writers (each call retried at once with its requestId until
    // acknowledged, as an MTA would) and one raw publisher.
    const mr = new AckLog();
    const rawAcks = new AckLog();
    for (let w = 0; w < p.writers; w++) {
      loads.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            // A keyword new with every call: each write changes the item, so each one is an
            // append (a call that changes nothing is answered without touching the log).
            const params = { account: acct.id, ids: [item.itemId], flags: ["seen", `w${w}_${i}`], requestId: `ll-${w}-${i}` };
            for (;;) {
              try {
                await rpcCall(client, "mr.rpc.mailbox", "setFlags", params, { timeoutMs: CALL_TIMEOUT_MS });
                mr.at.push(now());
                break;
              } catch {
                mr.failed++;
                if (stop) return;
                await sleep(20);
              }
            }
          }
        })(),
      );
    }
    loads.push(
      (async () => {
        const data = randomBytes(300);
        const quick = await jetstreamManager(client, { timeout: RAW_ATTEMPT_MS });
        let last = (await jsm.streams.info(RAW_STREAM)).state.last_seq;
        while (!stop) {
          try {
            const ack = await js.publish(RAW_SUBJECT, data, { expect: { lastSequence: last }, timeout: RAW_ATTEMPT_MS });
            last = ack.seq;
            rawAcks.at.push(now());
          } catch {
            rawAcks.failed++;
            // An attempt may have been stored: learn the head before the next expectation.
            last = await quick.streams.info(RAW_STREAM).then(
              (i) => i.state.last_seq,
              () => last,
            );
            await sleep(5);
          }
        }
      })(),
    );

    const mrLog = new SubjectLog(js, jsm, "MR_TX", txSubject(acct.id));
    const rawLog = new SubjectLog(js, jsm, RAW_STREAM, RAW_SUBJECT);
    const trials: LeaderLossTrial[] = [];
    const plan: Fault[] = [...Array<Fault>(p.killTrials).fill("kill -9"), ...Array<Fault>(p.termTrials).fill("SIGTERM")];
    for (const [t, fault] of plan.entries()) {
      await waitStreamsWhole(jsm, ["MR_TX", RAW_STREAM]);
      const victimName = await leaderOf(jsm, "MR_TX");
      const victim: NatsNode | undefined = cluster.nodes.find((n) => n.spec.name === victimName);
      if (!victim) throw new Error(`MR_TX has no leader among the nodes (${victimName})`);
      const aligned = await alignLeader(client, jsm, victim.spec.name);
      // Steady load first, then the fault.
      const calm = now();
      await waitFor("a steady load", () => mr.at.filter((a) => a > calm).length >= 50 && now() - calm > 1_000, 60_000, 20);
      const failedBefore = mr.failed;
      const mrFrom = await mrLog.lastSeq();
      const rawFrom = await rawLog.lastSeq();
      const at = now();
      const atWall = Date.now();
      if (fault === "kill -9") await victim.kill9();
      else await victim.stop();
      const electedWall = await waitFor("a node to log MR_TX's new leader", () => electedAt(cluster.nodes, victim.spec.name, "MR_TX", atWall), 120_000, 50);
      const elected = at + (electedWall - atWall);
      await waitFor("mailbox writes to be acknowledged again", () => mr.ackedAfter(Math.max(at, elected)), 120_000, 20);
      if (aligned) await waitFor("raw publishes to be acknowledged again", () => rawAcks.ackedAfter(Math.max(at, elected)), 120_000, 20);
      await sleep(1_000);
      const trial: LeaderLossTrial = {
        fault,
        victim: victim.spec.name,
        // Reading creates a consumer: the meta leader may still be being elected (when the
        // victim led it too).
        gapS: await retryTransient(() => storedGap(mrLog, mrFrom, atWall), { deadlineMs: 60_000 }),
        rawGapS: aligned ? await retryTransient(() => storedGap(rawLog, rawFrom, atWall), { deadlineMs: 60_000 }) : NaN,
        electionS: (elected - at) / 1000,
        failedCalls: mr.failed - failedBefore,
      };
      trials.push(trial);
      log(
        `leader loss: trial ${t + 1}/${plan.length} (${fault} ${trial.victim}): gap ${trial.gapS.toFixed(2)} s, raw ${Number.isNaN(trial.rawGapS) ? "n/a" : `${trial.rawGapS.toFixed(2)} s`}, new leader after ${trial.electionS.toFixed(2)} s`,
      );
      await victim.restart();
      await waitClusterReady(cluster.nodes, 60_000);
    }
    stop = true;
    await Promise.all(loads);
    const summary = (["kill -9", "SIGTERM"] as Fault[])
      .map((fault): LeaderLossSummary | undefined => {
        const rows = trials.filter((r) => r.fault === fault);
        if (!rows.length) return undefined;
        const gaps = rows.map((r) => r.gapS).sort((a, b) => a - b);
        const raws = rows
          .map((r) => r.rawGapS)
          .filter((g) => !Number.isNaN(g))
          .sort((a, b) => a - b);
        const el = rows.map((r) => r.electionS).sort((a, b) => a - b);
        return {
          fault,
          trials: rows.length,
          p50S: percentile(gaps, 50),
          p99S: percentile(gaps, 99),
          maxS: gaps[gaps.length - 1]!,
          rawP99S: raws.length ? percentile(raws, 99) : NaN,
          electionP50S: percentile(el, 50),
          electionMaxS: el[el.length - 1]!,
        };
      })
      .filter((s): s is LeaderLossSummary => s !== undefined);
    return {
      natsServer: natsServerVersion(natsServerPath()) ?? "unknown",
      writers: p.writers,
      trials,
      summary,
      leader_loss_write_gap_s: summary.find((s) => s.fault === "kill -9")?.p99S ?? NaN,
    };
  } finally {
    stop = true;
    await Promise.race([Promise.allSettled(loads), sleep(15_000)]);
    await sup?.stop().catch(() => {});
    await ms?.stop().catch(() => {});
    await nc?.close().catch(() => {});
    await cluster.stop();
  }
}
