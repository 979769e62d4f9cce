// Which mailstores are alive, as one promotion run sees them: the heartbeat bucket is read at
// most once per ALIVE_MAX_AGE_MS and the answer shared by every account promoted meanwhile.
// Reading it per account listed the bucket (a consumer created and deleted on the server) for
// each of 10,000 accounts. Liveness only chooses the target and whether to ask the old primary
// to stop: the log's expected-seq append fences a primary wrongly seen dead, whatever we read.
import type { KV } from "@nats-io/kv";
import { aliveMailstores } from "./services.js";

/** How old a read of the heartbeats may be when an account uses it (heartbeats beat every ~1 s, expire after several). */
export const ALIVE_MAX_AGE_MS = 1_000;

export class AliveMailstores {
  private last: { at: number; hosts: Promise<Set<string>> } | undefined;

  constructor(
    private readonly nodes: KV,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Hosts with a fresh heartbeat, read at most ALIVE_MAX_AGE_MS ago (concurrent callers share one read). */
  get(): Promise<Set<string>> {
    const t = this.now();
    if (this.last === undefined || t - this.last.at > ALIVE_MAX_AGE_MS) {
      const hosts = aliveMailstores(this.nodes);
      const read = { at: t, hosts };
      this.last = read;
      // A failed read is not kept: the next account reads again.
      hosts.catch(() => {
        if (this.last === read) this.last = undefined;
      });
    }
    return this.last.hosts;
  }
}
