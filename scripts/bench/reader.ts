// A plain JetStream reader in its own process, driven by the benchmark over IPC: it creates
// the consumers it is given, reads them live (no decoding, no acks: ordered-consumer config)
// (durables with explicit acks are acked per message, as the replica agent does)
// and reports how many messages it read and its CPU time, so its cost per entry can be
// compared with the replica agent's, measured the same way in the mailstore's process.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, type ConsumerConfig, type ConsumerMessages } from "@nats-io/jetstream";
import { runBounded } from "../../src/runtime/bounded_pool.js";

type Request =
  { id: number; cmd: "open"; servers: string[]; stream: string; configs: ConsumerConfig[] } | { id: number; cmd: "stats" } | { id: number; cmd: "close" };

let nc: NatsConnection | undefined;
let stream = "";
const names: string[] = [];
const loops: ConsumerMessages[] = [];
let count = 0;

const reply = (id: number, body: Record<string, unknown>): void => {
  process.send?.({ id, ...body });
};

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

process.on("message", (m: Request) => {
  void (async () => {
    try {
      switch (m.cmd) {
        case "open": {
          nc = await connect({ servers: m.servers, name: "bench reader" });
          stream = m.stream;
          const jsm = await jetstreamManager(nc);
          const js = jetstream(nc);
          const t0 = performance.now();
          await runBounded(m.configs, 16, async (cfg) => void (await jsm.consumers.add(stream, cfg)));
          const createMs = performance.now() - t0;
          for (const cfg of m.configs) {
            names.push(cfg.name!);
            const c = await js.consumers.get(stream, cfg.name!);
            const messages = await c.consume({ max_messages: 1_000 });
            loops.push(messages);
            // A durable with explicit acks is acked per message, as the replica agent does.
            const ack = cfg.ack_policy === AckPolicy.Explicit;
            void (async () => {
              for await (const msg of messages) {
                count++;
                if (ack) msg.ack();
              }
            })();
          }
          reply(m.id, { ok: true, createMs, openMs: performance.now() - t0 });
          return;
        }
        case "stats":
          reply(m.id, { ok: true, count, cpuMs: cpuMs(), rss: process.memoryUsage().rss });
          return;
        case "close": {
          for (const l of loops) l.stop();
          const jsm = await jetstreamManager(nc!);
          const t0 = performance.now();
          await runBounded(names, 16, async (n) => void (await jsm.consumers.delete(stream, n).catch(() => {})));
          const deleteMs = performance.now() - t0;
          await nc!.close();
          reply(m.id, { ok: true, deleteMs });
          setTimeout(() => process.exit(0), 10);
          return;
        }
      }
    } catch (e) {
      reply(m.id, { ok: false, error: (e as Error).stack ?? String(e) });
    }
  })();
});
process.on("disconnect", () => process.exit(1));
