// A Prometheus counter that follows a running total kept elsewhere (a component's stats that
// only ever grow): read at each scrape, the counter moves by what the total gained since.
import { Counter } from "prom-client";
import type { ProcessMetrics } from "./process_metrics.js";

export function followingCounter(p: ProcessMetrics, name: string, help: string, read: () => number): Counter {
  let seen = 0;
  return new Counter({
    name,
    help,
    registers: [p.registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = Math.max(seen, now);
    },
  });
}
