// A mailstore in its own process, driven by the benchmark over IPC, so its memory and CPU
// time can be read alone: `stats` answers process.cpuUsage(), process.memoryUsage() (after
// two full GCs when run with --expose-gc) and the replica agent's counters.
import { MailstoreNode, type MailstoreOptions } from "../../actors/mailstore/node.js";

type Request =
  { id: number; cmd: "start"; opts: Omit<MailstoreOptions, "log" | "clock"> } | { id: number; cmd: "stats"; gc?: boolean } | { id: number; cmd: "stop" };

let node: MailstoreNode | undefined;

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
