// Writes to the tx stream in a loop while some server-side work runs, and reports the longest
// publish meanwhile: how much that work held up the stream's writers.
import { randomUUID } from "node:crypto";
import { txSubject } from "../../src/jetstream/assets.js";
import type { BenchEnv } from "./env.js";
import { now, sleep } from "./util.js";

export interface ProbeOptions {
  /** pause between two publishes (0: back to back) */
  pauseMs?: number;
  /** publishing before `work` starts, not counted in the maximum (the stream warmed up) */
  warmUpMs?: number;
}

/** Runs `work` while 200-byte entries are published to a subject of its own (purged after). */
export async function whilePublishing<T>(env: BenchEnv, work: () => Promise<T>, opts: ProbeOptions = {}): Promise<{ result: T; maxPublishMs: number }> {
  let publishing = true;
  let maxPublishMs = 0;
  const probe = txSubject(randomUUID());
  const publisher = (async () => {
    while (publishing) {
      const t = now();
      await env.js.publish(probe, new Uint8Array(200));
      maxPublishMs = Math.max(maxPublishMs, now() - t);
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  })();
  try {
    if (opts.warmUpMs) {
      await sleep(opts.warmUpMs);
      maxPublishMs = 0;
    }
    const result = await work();
    return { result, maxPublishMs };
  } finally {
    publishing = false;
    await publisher;
    await env.jsm.streams.purge(env.txStream, { filter: probe });
  }
}
