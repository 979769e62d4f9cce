// A mailstore in its own process, driven by the benchmark over IPC, so its memory and CPU
// time can be read alone: `stats` answers process.cpuUsage(), process.memoryUsage() (after
// two full GCs when run with --expose-gc) and the replica agent's counters; `states` the
// applied seq of accounts; `track` / `applies` record when each log entry was applied here (wallMs)
// (instrumentation only, for the lag of the contract section).
import { MailstoreNode, type MailstoreOptions } from "../../actors/mailstore/node.js";
import type { TxBatch } from "../../src/mail/index.js";
import { wallMs } from "./machine_clock.js";

type Request =
  | { id: number; cmd: "start"; opts: Omit<MailstoreOptions, "log" | "clock"> }
  | { id: number; cmd: "stats"; gc?: boolean }
  | { id: number; cmd: "states"; accounts: string[] }
  | { id: number; cmd: "track" }
  | { id: number; cmd: "applies" }
  | { id: number; cmd: "stop" };

let node: MailstoreNode | undefined;

/** [accountId, seq, wallMs()] of each entry applied while tracking */
let applied: Array<[string, number, number]> | undefined;

const reply = (id: number, body: Record<string, unknown>): void => {
  process.send?.({ id, ...body });
};

async function gc(): Promise<void> {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return;
  for (let i = 0; i < 3; i++) {
    g();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wraps the store's applyBatch (the primary's after its append is acknowledged, the agent's on a replica). */
function track(n: MailstoreNode): void {
  applied = [];
  const orig = n.store.applyBatch.bind(n.store);
  n.store.applyBatch = (accountId: string, seq: number, batch: TxBatch) => {
    const out = orig(accountId, seq, batch);
    applied?.push([accountId, seq, wallMs()]);
    return out;
  };
}

function untrack(n: MailstoreNode): Array<[string, number, number]> {
  delete (n.store as { applyBatch?: unknown }).applyBatch; // back to the prototype's method
  const out = applied ?? [];
  applied = undefined;
  return out;
}

process.on("message", (m: Request) => {
  void (async () => {
    try {
      switch (m.cmd) {
        case "start":
          node = await MailstoreNode.start({ ...m.opts, log: () => {} });
          reply(m.id, { ok: true });
          return;
        case "stats": {
          if (m.gc) await gc();
          const cpu = process.cpuUsage();
          reply(m.id, {
            ok: true,
            cpuMs: (cpu.user + cpu.system) / 1000,
            mem: process.memoryUsage(),
            agent: node ? { ...node.agent.stats } : undefined,
            primaryActors: node?.primaryActorCount ?? 0,
            replicated: node?.agent.replicatedCount ?? 0,
          });
          return;
        }
        case "states": {
          const states = m.accounts.map((a) => {
            const s = node?.store.replicaState(a);
            return s ? { role: s.role, status: s.status, appliedSeq: s.appliedSeq } : null;
          });
          reply(m.id, { ok: true, states });
          return;
        }
        case "track":
          track(node!);
          reply(m.id, { ok: true });
          return;
        case "applies":
          reply(m.id, { ok: true, applies: untrack(node!) });
          return;
        case "stop":
          await node?.stop();
          reply(m.id, { ok: true });
          setTimeout(() => process.exit(0), 10);
          return;
      }
    } catch (e) {
      reply(m.id, { ok: false, error: (e as Error).stack ?? String(e) });
    }
  })();
});
// The benchmark went away: do not outlive it.
process.on("disconnect", () => process.exit(1));
