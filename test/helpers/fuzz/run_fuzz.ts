// Runs the JSON-RPC fuzzer: starts the system, sends `cases` seeded requests to every
// subject (a few in flight at once), checks each answer against what JSON-RPC 2.0 requires,
// watches for crashes and unescaped log lines, and ends with a normal write that must be
// acknowledged and replicated.
import { createInbox, type Subscription } from "@nats-io/transport-node";
import { makeCase, type CaseKind, type FuzzCase } from "./cases.js";
import { checkAnswer, expectedFor, type Seen } from "./oracle.js";
import { finalCheck, startFuzzSystem, type FuzzSystem } from "./fuzz_system.js";
import { runBounded } from "../../../src/runtime/bounded_pool.js";

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** only this case (replaying a failure); the set-up is the same */
  only?: number;
  /** requests in flight at once (default 4) */
  concurrency?: number;
  /** how long an answer may take (default 90 s: some methods wait up to 60 s by design) */
  answerTimeoutMs?: number;
  /** progress lines */
  log?: (line: string) => void;
}

export interface FuzzFailure {
  index: number;
  subject: string;
  kind: CaseKind;
  note: string;
  problems: string[];
  /** the request as sent (shortened when long) */
  request: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  sent: number;
  /** over NATS's max_payload: the client cannot send them */
  notSent: number;
  /** cases sent again because nothing served their subject (NATS answered "no responders") */
  resent: number;
  perSubject: Record<string, number>;
  perKind: Record<string, number>;
  codes: Record<string, number>;
  results: number;
  internalErrors: number;
  crashes: string[];
  /** log lines with a raw control character (a forged line could hide in them) */
  badLogLines: string[];
  failures: FuzzFailure[];
  finalCheck: string;
  finalOk: boolean;
  /** nats-server's warnings and errors during the run (slow consumers, disconnects), for context */
  natsWarnings: string[];
  ms: number;
}

/** Log lines must be one line each: every control character and line separator escaped. */
const RAW_CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;

const dec = new TextDecoder();

function shown(body: Uint8Array): string {
  const text = dec.decode(body);
  const safe = JSON.stringify(text);
  return safe.length > 2_000 ? `${safe.slice(0, 2_000)}... (${body.length} bytes)` : safe;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const badLogLines: string[] = [];
  const crashes: string[] = [];
  const inFlight = new Set<number>();
  // A throw nobody catches would end a mailstore process: here it is counted as a crash.
  const onCrash = (what: string) => (e: unknown) =>
    crashes.push(`${what} while cases ${[...inFlight].join(",")} were in flight: ${(e as Error)?.stack ?? String(e)}`);
  const onUncaught = onCrash("uncaught exception");
  const onRejection = onCrash("unhandled rejection");
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);
  const nodeLog = (line: string) => {
    if (RAW_CONTROL.test(line) && badLogLines.length < 20) badLogLines.push(JSON.stringify(line).slice(0, 300));
  };
  let f: FuzzSystem | undefined;
  const report: FuzzReport = {
    seed: opts.seed,
    cases: 0,
    sent: 0,
    notSent: 0,
    resent: 0,
    perSubject: {},
    perKind: {},
    codes: {},
    results: 0,
    internalErrors: 0,
    crashes,
    badLogLines,
    failures: [],
    finalCheck: "",
    finalOk: false,
    natsWarnings: [],
    ms: 0,
  };
  let sub: Subscription | undefined;
  try {
    f = await startFuzzSystem(nodeLog);
    const { sys, targets, pool } = f;
    log(`system up: ${targets.map((t) => `${t.subject} (${t.methods.length} methods)`).join(", ")}`);
    const methodsOf = new Map(targets.map((t) => [t.subject, new Set(t.methods.map((m) => m.name))]));
    const prefix = createInbox("_FUZZ");
    // A NATS status message (503 "no responders": nothing subscribed to the subject then) is
    // not the service's answer; it comes back as undefined text.
    const waiting = new Map<number, (text: string | undefined) => void>();
    const lateAnswers: { index: number; text: string }[] = [];
    sub = sys.nc.subscribe(`${prefix}.>`, {
      callback: (err, msg) => {
        if (err) return;
        const index = Number(msg.subject.slice(prefix.length + 1));
        const status = msg.headers?.code ?? 0;
        const text = status >= 300 && msg.data.length === 0 ? undefined : msg.string();
        const w = waiting.get(index);
        if (w) w(text);
        else if (text !== undefined && lateAnswers.length < 100) lateAnswers.push({ index, text: text.slice(0, 1_000) });
      },
    });
    await sys.nc.flush();
    const timeoutMs = opts.answerTimeoutMs ?? 90_000;
    const maxPayload = sys.nc.info?.max_payload ?? 1024 * 1024;
    // Only notifications are kept (shortly described) until the end: an answer to one may come late.
    const notifications = new Map<number, Omit<FuzzFailure, "problems">>();

    /** Whether `subject` has a responder again within 60 s (a ping-like call answered at all). */
    const servedAgain = async (subject: string): Promise<boolean> => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        try {
          await sys.nc.request(subject, '{"jsonrpc":"2.0","method":"rpc.fuzz-probe","id":0}', { timeout: 5_000 });
          return true;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      return false;
    };

    const runCase = async (index: number): Promise<void> => {
      const c: FuzzCase = makeCase(opts.seed, index, targets, pool);
      report.cases++;
      report.perSubject[c.subject] = (report.perSubject[c.subject] ?? 0) + 1;
      report.perKind[c.kind] = (report.perKind[c.kind] ?? 0) + 1;
      if (c.body.length + c.subject.length + prefix.length + 64 > maxPayload) {
        report.notSent++;
        return;
      }
      const want = expectedFor(c.body, methodsOf.get(c.subject)!);
      const seen: Seen = { codes: [], results: 0 };
      let answer: string | undefined;
      if (want.kind === "none") {
        // Notifications: nothing may come back; an answer that comes later is caught below.
        notifications.set(index, { index, subject: c.subject, kind: c.kind, note: c.note, request: shown(c.body) });
        sys.nc.publish(c.subject, c.body, { reply: `${prefix}.${index}` });
        await sys.nc.flush();
      } else {
        inFlight.add(index);
        const ask = () =>
          new Promise<{ text: string | undefined; noResponder: boolean }>((resolve) => {
            const timer = setTimeout(() => {
              waiting.delete(index);
              resolve({ text: undefined, noResponder: false });
            }, timeoutMs);
            waiting.set(index, (text) => {
              clearTimeout(timer);
              waiting.delete(index);
              resolve({ text, noResponder: text === undefined });
            });
            sys.nc.publish(c.subject, c.body, { reply: `${prefix}.${index}` });
          });
        let got = await ask();
        if (got.noResponder) {
          // Nothing served the subject at that moment (a supervisor between leases): wait until
          // it is served again, then send the case once more. Never served again is a failure.
          report.resent++;
          const back = await servedAgain(c.subject);
          got = back ? await ask() : got;
          if (!back || got.noResponder) {
            report.failures.push({
              index,
              subject: c.subject,
              kind: c.kind,
              note: c.note,
              problems: [`nothing served ${c.subject} for 60 s (no responders)`],
              request: shown(c.body),
            });
            inFlight.delete(index);
            return;
          }
        }
        answer = got.text;
        inFlight.delete(index);
      }
      report.sent++;
      const problems = checkAnswer(answer, want, seen);
      for (const code of seen.codes) report.codes[code] = (report.codes[code] ?? 0) + 1;
      report.results += seen.results;
      report.internalErrors += seen.codes.filter((x) => x.startsWith("-32603")).length;
      if (problems.length) {
        report.failures.push({ index, subject: c.subject, kind: c.kind, note: c.note, problems, request: shown(c.body) });
        log(`FAILED case ${index} (${c.kind}) on ${c.subject}: ${problems.join("; ").slice(0, 500)}`);
      }
    };

    const indexes = opts.only !== undefined ? [opts.only] : Array.from({ length: opts.cases }, (_, i) => i);
    const every = Math.max(100, Math.floor(indexes.length / 20));
    await runBounded(indexes, opts.concurrency ?? 4, async (i) => {
      await runCase(i);
      if ((i + 1) % every === 0)
        log(`${i + 1} cases, ${report.failures.length} failures, ${crashes.length} crashes, ${Math.round((Date.now() - started) / 1000)} s`);
    });

    for (const [host, node] of sys.inProcess) if (node.nc.isClosed()) crashes.push(`mailstore ${host}: its NATS connection is closed`);
    if (sys.supervisor?.nc.isClosed()) crashes.push("supervisor: its NATS connection is closed");
    try {
      report.finalCheck = await finalCheck(f);
      report.finalOk = true;
    } catch (e) {
      report.finalCheck = `FAILED: ${(e as Error).message}`;
    }
    // Anything answered to a notification arrived by now (the final check took many round trips).
    await sys.nc.flush();
    for (const late of lateAnswers) {
      const n = notifications.get(late.index);
      if (n) report.failures.push({ ...n, problems: [`an answer to notifications only: ${late.text.slice(0, 300)}`] });
    }
    // The last 4,000 characters nats-server printed; an error there means it dropped a connection.
    report.natsWarnings = sys.nats.log
      .split("\n")
      .filter((l) => /\[(WRN|ERR)\]|slow consumer/i.test(l))
      .slice(-10);
  } finally {
    sub?.unsubscribe();
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onRejection);
    await f?.sys.stop().catch(() => {});
  }
  report.failures.sort((a, b) => a.index - b.index);
  report.ms = Date.now() - started;
  return report;
}

export function passed(r: FuzzReport): boolean {
  return r.failures.length === 0 && r.crashes.length === 0 && r.internalErrors === 0 && r.badLogLines.length === 0 && r.finalOk && natsErrors(r) === 0;
}

/** nats-server errors (it dropped a connection: a subject over max_control_line, a slow consumer). */
function natsErrors(r: FuzzReport): number {
  return r.natsWarnings.filter((l) => /\[ERR\]/.test(l)).length;
}

/** The summary: one line CI can read, then the details. */
export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  const secs = (r.ms / 1000).toFixed(1);
  lines.push(
    `fuzz ${passed(r) ? "PASSED" : "FAILED"}: seed ${r.seed}, ${r.cases} cases (${r.sent} sent, ${r.notSent} over max_payload, ${r.resent} sent again after "no responders"), ${r.failures.length} failed, ${r.crashes.length} crashes, ${r.internalErrors} internal errors, ${r.badLogLines.length} unescaped log lines, ${natsErrors(r)} nats-server errors, final check ${r.finalOk ? "ok" : "FAILED"}, ${secs} s`,
  );
  const byProblem = new Map<string, number>();
  for (const fl of r.failures) {
    const key = `${fl.subject} ${(fl.problems[0] ?? "").replace(/[:(].*$/, "").slice(0, 80)}`;
    byProblem.set(key, (byProblem.get(key) ?? 0) + 1);
  }
  if (byProblem.size)
    lines.push(
      `failures by kind: ${[...byProblem]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} x${v}`)
        .join(", ")}`,
    );
  lines.push(
    `per subject: ${Object.entries(r.perSubject)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  lines.push(
    `per kind: ${Object.entries(r.perKind)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  lines.push(
    `answers: ${r.results} results; errors: ${
      Object.entries(r.codes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} x${v}`)
        .join(", ") || "none"
    }`,
  );
  lines.push(`final check: ${r.finalCheck}`);
  for (const w of r.natsWarnings) lines.push(`nats-server: ${w}`);
  for (const c of r.crashes.slice(0, 5)) lines.push(`CRASH: ${c}`);
  for (const l of r.badLogLines.slice(0, 5)) lines.push(`UNESCAPED LOG LINE: ${l}`);
  for (const fl of r.failures.slice(0, 10)) {
    lines.push(`FAILED case ${fl.index} (${fl.kind}, ${fl.note}) on ${fl.subject}: ${fl.problems.join("; ")}`);
    lines.push(`  reproduce: npm run fuzz -- --seed ${r.seed} --case ${fl.index}`);
    lines.push(`  request: ${fl.request}`);
  }
  if (r.failures.length > 10) lines.push(`... and ${r.failures.length - 10} more failed cases`);
  return lines.join("\n");
}
