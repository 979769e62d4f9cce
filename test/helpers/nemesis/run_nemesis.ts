// One nemesis run: builds the system, gives each simulated client its accounts (primaries
// spread over the three mailstores, replicas on the other two by priority), lets the clients
// write while the seeded schedule injects one fault per round, then heals everything, lets
// the replicas catch up and checks every copy. Used by scripts/nemesis.ts and
// test/nemesis.test.ts; docs/nemesis.md explains the output.
import { rpcCall } from "../../../src/jsonrpc/index.js";
import { RpcError } from "../../../src/jsonrpc/errors.js";
import { waitFor } from "../processes.js";
import { errorCode, prng } from "../workload.js";
import { AccountModel } from "./account_model.js";
import { checkPrimary, compareCopies, type Finding, type FindingKind } from "./checker.js";
import { FAULT_KINDS, planFault, runFault, type FaultKind, type FaultRecord } from "./faults.js";
import { MAILSTORES, NemesisSystem } from "./nemesis_system.js";
import { SimClient, type Contradiction } from "./sim_client.js";

export interface NemesisOptions {
  rounds: number;
  seed: number;
  /** simulated clients (default 3), each the only writer of `accountsPerClient` accounts (default 2) */
  clients?: number;
  accountsPerClient?: number;
  /** the fault kinds to draw from (default all) */
  faults?: FaultKind[];
  /** progress lines (default: none) */
  log?: (line: string) => void;
}

export interface NemesisReport {
  seed: number;
  rounds: number;
  /** the kinds drawn from, when --faults narrowed them */
  faultKinds: FaultKind[] | null;
  faults: Record<FaultKind, number>;
  faultLog: FaultRecord[];
  /** whether the mailbox methods took requestId (then every operation was retried to a definite outcome) */
  requestIds: boolean;
  operations: number;
  attempts: number;
  acknowledged: number;
  refused: number;
  uncertain: number;
  errors: Record<string, number>;
  lost: number;
  duplicated: number;
  divergent: number;
  unexpected: number;
  findings: Finding[];
  /** definite refusals of writes built on definite state (each a sign of a lost write) */
  contradictions: Contradiction[];
  /** rounds after which the clients got no write acknowledged within 60 s (an availability problem, not a loss) */
  stuckRounds: number[];
  /** processes that exited at start and were started again (JetStream still electing a leader) */
  startRetries: string[];
  /** what the checker looked at: messages the models expect on the primaries, replica copies compared */
  checked: { messages: number; copies: number };
  /** what verifyReplicas answered, in words */
  verifyReplicas: string;
  /** snapshots in MR_SNAP at the end, and account-log entries compaction removed from MR_TX */
  lifecycle: { snapshots: number; entriesRemoved: number };
  setupMs: number;
  roundMs: number[];
  finalMs: number;
  totalMs: number;
}

/** Whether the run found nothing wrong (a write refused although the model says it must succeed counts too). */
export function passed(r: NemesisReport): boolean {
  return r.lost === 0 && r.duplicated === 0 && r.divergent === 0 && r.unexpected === 0 && r.contradictions.length === 0;
}

export async function runNemesis(opts: NemesisOptions): Promise<NemesisReport> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const say = (line: string) => log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const rand = prng(opts.seed);
  const nClients = opts.clients ?? 3;
  const perClient = opts.accountsPerClient ?? 2;
  const sys = await NemesisSystem.start();
  const clients: SimClient[] = [];
  const findings: Finding[] = [];
  const faultLog: FaultRecord[] = [];
  const roundMs: number[] = [];
  const stuckRounds: number[] = [];
  let verify = "not run";
  let lifecycle = { snapshots: 0, entriesRemoved: 0 };
  const checked = { messages: 0, copies: 0 };
  let requestIds = false;
  let setupMs = 0;
  let finalStart = 0;
  try {
    say(`nats cluster up (${sys.natsNodes.map((n) => `${n.spec.name}:${n.spec.port}`).join(", ")}); starting mailstores and a supervisor`);
    // The first creates the JetStream assets; the others then start together.
    await sys.spawnMailstore(MAILSTORES[0]);
    await Promise.all(MAILSTORES.slice(1).map((h) => sys.spawnMailstore(h)));
    await sys.spawnSupervisor();
    say("mailstores and supervisor started; creating accounts and their replicas");

    const models: AccountModel[] = [];
    const total = nClients * perClient;
    for (let i = 0; i < total; i++) {
      const name = `nem${i}@example.com`;
      const mailHost = MAILSTORES[i % 3]!;
      const { id } = await rpcCall<{ id: string }>(sys.nc, "mr.rpc.mailbox", "createAccount", { name, mailHost }, { timeoutMs: 30_000 });
      models.push(new AccountModel(name, id));
    }
    await addReplicas(sys, models);
    requestIds = await acceptsRequestId(sys, models[0]!.account);
    say(
      `${total} accounts with replicas on the two other mailstores; requestId ${requestIds ? "accepted: not-definite writes are retried with it" : "refused by the server: not-definite writes count as maybe (at most once)"}`,
    );

    let started = 0;
    /** the start numbers of finished attempts, in the order they finished */
    const finished: number[] = [];
    const acked = () => clients.reduce((n, c) => n + c.stats.acknowledged, 0);
    for (let c = 0; c < nClients; c++) {
      const client = new SimClient({
        name: `c${c + 1}`,
        seed: (opts.seed + 7919 * (c + 1)) >>> 0,
        servers: sys.config.nats.servers,
        accounts: models.slice(c * perClient, (c + 1) * perClient),
        requestIds,
      });
      client.onAttemptStart = () => ++started;
      client.onAttempt = (startNo) => finished.push(startNo);
      clients.push(client);
    }
    await Promise.all(clients.map((c) => c.start()));
    // n attempts that started after this call have finished: a fault held this way met
    // requests sent while it was in place (those already in flight do not count).
    const attemptsDone = async (n: number, boundMs = 60_000): Promise<void> => {
      const after = started;
      const from = finished.length;
      const deadline = Date.now() + boundMs;
      while (finished.slice(from).filter((s) => s > after).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    };
    setupMs = Date.now() - t0;
    say(`setup done; ${opts.rounds} rounds`);

    for (let round = 1; round <= opts.rounds; round++) {
      const start = Date.now();
      const plan = planFault(rand, opts.faults);
      // Let some writes through before the fault, so each round hits a system at work.
      await attemptsDone(nClients * 2);
      say(
        `round ${round}: ${plan.kind} (${plan.kind === "kill-nats-leader" || plan.kind === "kill-supervisor" ? "" : `${plan.victim}, `}held for ${plan.holdAttempts} client attempts)`,
      );
      let detail: string;
      try {
        detail = await runFault({ sys, attempts: attemptsDone }, plan);
      } catch (e) {
        detail = `the fault could not be completed: ${(e as Error).message}`;
      }
      faultLog.push({ ...plan, round, detail });
      say(`round ${round}: ${detail}`);
      // The round ends when the clients get writes acknowledged again (bounded: a system that
      // stays stuck is reported by the final check, not by a hang).
      const before = acked();
      const deadline = Date.now() + 60_000;
      while (acked() < before + nClients && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      if (acked() < before + nClients) {
        stuckRounds.push(round);
        say(`round ${round}: writes did not resume within 60 s`);
      }
      roundMs.push(Date.now() - start);
    }

    finalStart = Date.now();
    say("healing: every proxy flows, every process runs; clients finish their current operation");
    await healAll(sys);
    await Promise.all(clients.map((c) => c.finish(60_000)));
    say(`clients done: ${acked()} writes acknowledged; waiting for every replica to catch up`);
    findings.push(...(await waitCaughtUp(sys, models)));
    say("replicas caught up; comparing the copies");
    findings.push(...(await checkCopies(sys, models, checked)));
    verify = await askVerifyReplicas(sys, findings);
    say(`checked; verifyReplicas: ${verify}`);
    lifecycle = await sys.lifecycle();
  } finally {
    await Promise.all(clients.map((c) => c.finish(0).catch(() => {})));
    await sys.shutdown();
    say("every process stopped");
  }
  const sum = (f: (c: SimClient) => number) => clients.reduce((n, c) => n + f(c), 0);
  const errors: Record<string, number> = {};
  for (const c of clients) for (const [k, v] of Object.entries(c.stats.errors)) errors[k] = (errors[k] ?? 0) + v;
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, faultLog.filter((f) => f.kind === k).length])) as Record<FaultKind, number>;
  const count = (k: FindingKind) => findings.filter((f) => f.kind === k).length;
  return {
    seed: opts.seed,
    rounds: opts.rounds,
    faultKinds: opts.faults ?? null,
    faults,
    faultLog,
    requestIds,
    operations: sum((c) => c.stats.operations),
    attempts: sum((c) => c.stats.attempts),
    acknowledged: sum((c) => c.stats.acknowledged),
    refused: sum((c) => c.stats.refused),
    uncertain: sum((c) => c.stats.uncertain),
    errors,
    lost: count("lost"),
    duplicated: count("duplicated"),
    divergent: count("divergent"),
    unexpected: count("unexpected"),
    findings,
    contradictions: clients.flatMap((c) => c.contradictions),
    checked,
    verifyReplicas: verify,
    lifecycle,
    startRetries: sys.restarts,
    stuckRounds,
    setupMs,
    roundMs,
    finalMs: finalStart ? Date.now() - finalStart : 0,
    totalMs: Date.now() - t0,
  };
}

/** Each account gets replicas on the two other mailstores: the next one at priority 10, the one after at 20. */
async function addReplicas(sys: NemesisSystem, models: AccountModel[]): Promise<void> {
  for (const [offset, priority] of [
    [1, 10],
    [2, 20],
  ] as const) {
    for (let d = 0; d < 3; d++) {
      const destination = MAILSTORES[d]!;
      const accounts = models.filter((_, i) => (i + offset) % 3 === d).map((m) => m.account);
      if (accounts.length === 0) continue;
      const { operationId } = await sys.admin("setAccountDestination", { destination, priority, accounts });
      const m = await waitFor(
        `setAccountDestination ${destination} to end`,
        async () => {
          const s = await sys.admin("monitor", { operation_uuid: operationId }, 20_000);
          return s.state !== "running" ? s : undefined;
        },
        120_000,
        100,
      );
      if (m.state !== "successful")
        throw new Error(`nemesis setup: setAccountDestination ${destination} ${priority} ended ${m.state}: ${JSON.stringify(m).slice(0, 500)}`);
    }
  }
}

/**
 * Whether the mailbox methods take `requestId`: a createFolder with an invalid path and a
 * requestId is refused for the path when requestId is known, for requestId when it is not;
 * either way nothing is written.
 */
async function acceptsRequestId(sys: NemesisSystem, account: string): Promise<boolean> {
  try {
    await rpcCall(sys.nc, "mr.rpc.mailbox", "createFolder", { account, path: "", requestId: "nemesis.probe" }, { timeoutMs: 30_000 });
  } catch (e) {
    if (e instanceof RpcError && (e.data as { param?: unknown } | undefined)?.param === "requestId") return false;
    return true;
  }
  throw new Error("nemesis: createFolder with an empty path was accepted; the probe for requestId cannot tell");
}

/** Every proxy flows, every paused process runs, every killed process is back. */
async function healAll(sys: NemesisSystem): Promise<void> {
  for (const ps of sys.proxies.values()) for (const p of ps) p.resume();
  for (const key of [...sys.stopped]) sys.cont(key);
  for (const n of sys.natsNodes) if (!n.running) await n.start();
  for (const h of MAILSTORES) if (!sys.processes.has(h)) await sys.spawnMailstore(h);
  if (!sys.processes.has(sys.supervisorName)) await sys.spawnSupervisor();
}

/** Waits until every replica of every account is available at the log head; a replica that never gets there is a finding. */
async function waitCaughtUp(sys: NemesisSystem, models: AccountModel[]): Promise<Finding[]> {
  const names = models.map((m) => m.account);
  let last: any[] = [];
  const caughtUp = (a: any) => a.replicas.length === 2 && a.replicas.every((r: any) => r.available && r.sequence === a.sequence && r.lagEvents === 0);
  try {
    await waitFor(
      "every replica at its account's log head",
      async () => {
        last = (await sys.admin("getAccountStatus", { accounts: names }, 20_000)).accounts;
        return last.length === names.length && last.every(caughtUp);
      },
      120_000,
      250,
    );
    return [];
  } catch {
    return last
      .filter((a) => !caughtUp(a))
      .map((a) => ({
        kind: "divergent" as const,
        account: a.accountName,
        detail: `replicas did not catch up within 120 s: head ${a.sequence}, ${JSON.stringify(a.replicas.map((r: any) => ({ destination: r.destination, available: r.available, status: r.status, sequence: r.sequence, error: r.error })))}`,
      }));
  }
}

/** The primary's copy against the model, each replica's against the primary's, read from the SQLite files. */
async function checkCopies(sys: NemesisSystem, models: AccountModel[], checked: { messages: number; copies: number }): Promise<Finding[]> {
  const out: Finding[] = [];
  const status = (await sys.admin("getAccountStatus", { accounts: models.map((m) => m.account) }, 20_000)).accounts as any[];
  for (const model of models) {
    const a = status.find((x) => x.accountId === model.accountId);
    if (!a) {
      out.push({ kind: "lost", account: model.account, detail: "getAccountStatus does not know the account" });
      continue;
    }
    const primary = a.accountMailHost as string;
    const primaryDump = sys.withStore(primary, (s) => s.dumpAccount(model.accountId));
    out.push(...checkPrimary(model, primary, primaryDump));
    checked.messages += [...model.items.values()].filter((i) => i.present === "yes").length;
    for (const r of a.replicas as Array<{ destination: string }>) {
      const replicaDump = sys.withStore(r.destination, (s) => s.dumpAccount(model.accountId));
      const d = compareCopies(model.account, primary, primaryDump, r.destination, replicaDump);
      checked.copies++;
      if (d) out.push(d);
    }
  }
  return out;
}

/**
 * verifyReplicas (admin JSON-RPC), when the supervisor has it: every copy it calls unequal is
 * a finding unless the SQLite comparison already reported that account and replica.
 */
async function askVerifyReplicas(sys: NemesisSystem, findings: Finding[]): Promise<string> {
  let r: any;
  try {
    r = await sys.admin("verifyReplicas", {}, 60_000);
  } catch (e) {
    const code = errorCode(e);
    return code === "rpc -32601"
      ? "not available on this supervisor (method not found); copies compared from SQLite only"
      : `failed: ${code} ${(e as Error).message}`;
  }
  for (const a of r.accounts ?? []) {
    for (const rep of a.replicas ?? []) {
      if (rep.equal === true) continue;
      const already = findings.some((f) => f.kind === "divergent" && f.account === a.account && f.detail.includes(rep.destination));
      if (!already)
        findings.push({
          kind: "divergent",
          account: a.account,
          detail: `verifyReplicas: the copy on ${rep.destination} is ${rep.equal === false ? "not equal" : "not compared"} (${JSON.stringify(rep.firstDifference ?? rep.error ?? null)})`,
        });
    }
  }
  return `total ${r.total}, equal ${r.equal}, different ${r.different}, unverified ${r.unverified}`;
}

/** The one summary a run prints. */
export function formatReport(r: NemesisReport): string {
  const lines: string[] = [];
  const avg = r.roundMs.length ? r.roundMs.reduce((a, b) => a + b, 0) / r.roundMs.length : 0;
  lines.push(
    `nemesis seed ${r.seed}: ${r.rounds} rounds in ${(r.totalMs / 1000).toFixed(1)} s (setup ${(r.setupMs / 1000).toFixed(1)} s, a round ${(avg / 1000).toFixed(1)} s on average, heal and check ${(r.finalMs / 1000).toFixed(1)} s)`,
  );
  lines.push(
    `faults: ${Object.entries(r.faults)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  lines.push(
    `writes: ${r.operations} operations in ${r.attempts} attempts; ${r.acknowledged} acknowledged, ${r.uncertain} outcome unknown, ${r.refused} refused; requestId ${r.requestIds ? "used (retried to a definite outcome)" : "not accepted by the server (unknown outcomes checked as at most once)"}`,
  );
  lines.push(
    `failed attempts by code: ${
      Object.entries(r.errors)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none"
    }`,
  );
  lines.push(`checked: ${r.checked.messages} messages that must be on their primary, ${r.checked.copies} replica copies compared with their primary's`);
  lines.push(`verifyReplicas: ${r.verifyReplicas}`);
  lines.push(`snapshots stored: ${r.lifecycle.snapshots}; account-log entries removed by compaction: ${r.lifecycle.entriesRemoved}`);
  if (r.stuckRounds.length) lines.push(`writes did not resume within 60 s after round(s) ${r.stuckRounds.join(", ")}`);
  lines.push(
    `lost ${r.lost}, duplicated ${r.duplicated}, divergent ${r.divergent}, unexpected ${r.unexpected}, refused unexpectedly ${r.contradictions.length}`,
  );
  for (const s of r.startRetries) lines.push(`  start retried: ${s}`);
  for (const f of r.faultLog) lines.push(`  round ${f.round}: ${f.kind}: ${f.detail}`);
  for (const f of r.findings) lines.push(`  ${f.kind.toUpperCase()} ${f.account}: ${f.detail}`);
  for (const c of r.contradictions) lines.push(`  REFUSED ${c.account} (client ${c.client}): ${c.call}: ${c.code} ${c.message}`);
  lines.push(
    passed(r)
      ? "PASS"
      : `FAIL: reproduce with npm run nemesis -- --rounds ${r.rounds} --seed ${r.seed}${r.faultKinds ? ` --faults ${r.faultKinds.join(",")}` : ""}`,
  );
  return lines.join("\n");
}
