// A nats-server with JetStream for the benchmark: the test harness's NatsNode (free loopback
// ports, a temporary store folder, removed at exit) plus the monitoring endpoints and /proc
// figures the bench reads.
import { readFileSync } from "node:fs";
import { natsServerPath, natsServerVersion } from "../../src/natsserver/binary.js";
import { startNatsServer, type NatsNode } from "../../test/helpers/nats.js";

export class BenchNats {
  private constructor(
    private readonly node: NatsNode,
    readonly version: string,
  ) {}

  get url(): string {
    return this.node.url;
  }

  get port(): number {
    return this.node.spec.port;
  }

  get httpPort(): number {
    return this.node.spec.httpPort;
  }

  get pid(): number {
    return this.node.proc!.pid!;
  }

  static async start(): Promise<BenchNats> {
    return new BenchNats(await startNatsServer("bench"), natsServerVersion(natsServerPath()) ?? "unknown");
  }

  /** A monitoring endpoint's JSON, e.g. varz or jsz?consumers=true. */
  async monitor<T = any>(path: string): Promise<T> {
    const r = await fetch(`http://127.0.0.1:${this.httpPort}/${path}`);
    if (!r.ok) throw new Error(`GET /${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  }

  /** The server's resident memory (bytes) and CPU time (ms, user + system) from /proc. */
  procStats(): { rss: number; cpuMs: number } {
    return procStats(this.pid);
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}

const CLK_TCK = 100;
const PAGE = 4096;

/** RSS and CPU time of a process from /proc (Linux); NaN elsewhere. */
export function procStats(pid: number): { rss: number; cpuMs: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after "(comm) ": state is f[0]; utime f[11], stime f[12], rss f[21] (pages)
    return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK, rss: Number(f[21]) * PAGE };
  } catch {
    return { rss: NaN, cpuMs: NaN };
  }
}
