// The faults of the nemesis, each injected by a real process signal or by a mailstore's TCP
// proxies, held while the clients make progress (a number of finished attempts, never a
// sleep), then healed. Which fault, which victim and how long it is held all come from the
// seeded PRNG, so a seed names one schedule.
import { intIn, pick, type Rand } from "../workload.js";
import { waitFor } from "../processes.js";
import type { Direction } from "../tcp_proxy.js";
import { MAILSTORES, type NemesisSystem } from "./nemesis_system.js";

export const FAULT_KINDS = [
  "kill-mailstore",
  "stall-then-kill-mailstore",
  "crash-restart-mailstore",
  "kill-nats-leader",
  "pause-mailstore",
  "kill-supervisor",
  "stall-replies",
  "drop-replies",
  "stall-requests",
  "late-requests",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  kind: FaultKind;
  /** the mailstore (or, for kill-nats-leader, chosen at injection) the fault hits */
  victim: string;
  /** client attempts to let finish while the fault holds */
  holdAttempts: number;
  /** for late-requests: client attempts between the victim's reconnect and the late delivery */
  lateAfter: number;
}

export interface FaultRecord extends FaultPlan {
  round: number;
  /** what was done, in words (the nats node killed, the promotion's result, ...) */
  detail: string;
}

/** The next fault, drawn from `kinds` (default every kind). */
export function planFault(rand: Rand, kinds: readonly FaultKind[] = FAULT_KINDS): FaultPlan {
  return { kind: pick(rand, kinds), victim: pick(rand, MAILSTORES), holdAttempts: intIn(rand, 3, 8), lateAfter: intIn(rand, 0, 3) };
}

export interface FaultContext {
  sys: NemesisSystem;
  /** resolves when `n` more client attempts have finished (or the bound passed: a stuck system must not hang the run) */
  attempts(n: number, boundMs?: number): Promise<void>;
}

/** Injects the fault, holds it, heals it; returns what it did. */
export async function runFault(ctx: FaultContext, plan: FaultPlan): Promise<string> {
  const { sys } = ctx;
  switch (plan.kind) {
    case "kill-mailstore": {
      await sys.kill9(plan.victim);
      await waitSeenDead(sys, plan.victim);
      const outcome = await promoteFrom(sys, plan.victim);
      await ctx.attempts(plan.holdAttempts);
      await sys.spawnMailstore(plan.victim);
      return `killed -9 ${plan.victim}; promoteAccounts source_mail_host ${plan.victim}: ${outcome}; restarted it`;
    }
    case "stall-then-kill-mailstore": {
      // The primary dies with acks and replies in flight: appends JetStream stored whose
      // acknowledgement it never saw, writes whose callers never got an answer.
      for (const p of sys.proxies.get(plan.victim)!) p.stall("toClient");
      await ctx.attempts(plan.holdAttempts);
      await sys.kill9(plan.victim);
      for (const p of sys.proxies.get(plan.victim)!) {
        p.cut();
        p.resume("toClient");
      }
      await waitSeenDead(sys, plan.victim);
      const outcome = await promoteFrom(sys, plan.victim);
      await sys.spawnMailstore(plan.victim);
      return `stalled replies to ${plan.victim} for ${plan.holdAttempts} client attempts, then killed -9 it; promoteAccounts source_mail_host: ${outcome}; restarted it`;
    }
    case "crash-restart-mailstore": {
      // No promotion: the mailstore comes back as the primary it was, and must serve (and its
      // SQLite must hold) every write it acknowledged before the kill.
      await sys.kill9(plan.victim);
      await ctx.attempts(plan.holdAttempts);
      await sys.spawnMailstore(plan.victim);
      return `killed -9 ${plan.victim} and restarted it without a promotion`;
    }
    case "kill-nats-leader": {
      const leader = await waitFor("MR_TX to have a leader", () => sys.txLeader(), 30_000, 100);
      await leader.kill9();
      await ctx.attempts(plan.holdAttempts);
      await leader.start();
      return `killed -9 nats-server ${leader.spec.name} (MR_TX leader); restarted it`;
    }
    case "pause-mailstore":
      sys.stop(plan.victim);
      await ctx.attempts(plan.holdAttempts);
      sys.cont(plan.victim);
      return `SIGSTOP ${plan.victim}, then SIGCONT`;
    case "kill-supervisor": {
      const old = sys.supervisorName;
      await sys.kill9(old);
      await ctx.attempts(plan.holdAttempts);
      await sys.spawnSupervisor();
      return `killed -9 supervisor ${old}; started ${sys.supervisorName}`;
    }
    case "stall-replies":
      return proxyFault(ctx, plan, "stall", "toClient");
    case "drop-replies":
      return proxyFault(ctx, plan, "drop", "toClient");
    case "stall-requests":
      return proxyFault(ctx, plan, "stall", "toServer");
    case "late-requests": {
      // What the mailstore sends (appends, replies) is held on its connection; that connection
      // is then abandoned by the mailstore (it reconnects) but delivered to nats-server later:
      // appends and replies whose sender already gave up land after newer ones.
      const proxies = sys.proxies.get(plan.victim)!;
      for (const p of proxies) p.stall("toServer");
      await ctx.attempts(plan.holdAttempts);
      for (const p of proxies) p.orphan();
      await waitFor(`${plan.victim} to reconnect`, () => proxies.some((p) => p.connections > 0), 30_000, 25);
      await ctx.attempts(plan.lateAfter);
      for (const p of proxies) p.releaseOrphans();
      return `held what ${plan.victim} sent for ${plan.holdAttempts} client attempts, made it reconnect, delivered the held bytes ${plan.lateAfter} attempts later`;
    }
  }
}

/** Waits until getServices no longer shows the mailstore alive (its heartbeat expired). */
async function waitSeenDead(sys: NemesisSystem, host: string): Promise<void> {
  await waitFor(
    `${host} to be seen dead`,
    async () => {
      const s = (await sys.admin("getServices", {}, 20_000)).services.find((x: { host: string }) => x.host === host);
      return !!s && !s.alive;
    },
    30_000,
    100,
  );
}

/** promoteAccounts source_mail_host, followed to its end; the outcome in words. */
async function promoteFrom(sys: NemesisSystem, host: string): Promise<string> {
  let operationId: string;
  try {
    ({ operationId } = await sys.admin("promoteAccounts", { source_mail_host: host }));
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
  const m = await waitFor(
    `promotion ${operationId} to end`,
    async () => {
      const s = await sys.admin("monitor", { operation_uuid: operationId }, 20_000);
      return s.state !== "running" ? s : undefined;
    },
    90_000,
    100,
  );
  const failed = Array.isArray(m.failed) ? m.failed : [];
  return `${m.state}, ${Array.isArray(m.promoted) ? m.promoted.length : 0} promoted${failed.length ? `, failed: ${failed.map((f: { account: string; code?: string }) => `${f.account} ${f.code ?? ""}`).join("; ")}` : ""}`;
}

async function proxyFault(ctx: FaultContext, plan: FaultPlan, mode: "stall" | "drop", dir: Direction): Promise<string> {
  const proxies = ctx.sys.proxies.get(plan.victim)!;
  for (const p of proxies) mode === "stall" ? p.stall(dir) : p.drop(dir);
  try {
    await ctx.attempts(plan.holdAttempts);
  } finally {
    for (const p of proxies) p.resume(dir);
  }
  return `${mode} ${dir} on ${plan.victim}'s proxies for ${plan.holdAttempts} client attempts, then resumed`;
}
