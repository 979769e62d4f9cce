// Liveness: a process puts `node.<host>` into the mr_nodes KV every heartbeatMs; the bucket's
// TTL removes it when the process stops beating, so "alive" = "has a fresh entry".
import type { KV } from "@nats-io/kv";
import type { Clock, TimerHandle } from "../../src/runtime/clock.js";
import { listKeys } from "../../src/jetstream/kv_keys.js";

export type NodeRole = "mailstore" | "supervisor";

export interface HeartbeatRecord {
  host: string;
  role: NodeRole;
  pid: number;
  startedAt: number;
  /** sender's clock when written (compared with the reader's clock for skew checks) */
  at: number;
  version: string;
  /** extra facts the process wants others to see (counts, leadership...) */
  info?: Record<string, unknown>;
}

export function heartbeatKey(role: NodeRole, host: string): string {
  return role === "mailstore" ? `node.${host}` : `supervisor.${host}`;
}

export class Heartbeat {
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly clock: Clock,
    private readonly rec: { host: string; role: NodeRole; version: string },
    private readonly everyMs: number,
    private readonly info: () => Record<string, unknown> = () => ({}),
  ) {
    this.startedAt = clock.now();
  }

  async start(): Promise<void> {
    await this.beat();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      this.beat()
        .catch(() => {
          /* NATS is down: the next beat retries; others see us as missing meanwhile */
        })
        .finally(() => this.schedule());
    }, this.everyMs);
  }

  async beat(): Promise<void> {
    const rec: HeartbeatRecord = { ...this.rec, pid: process.pid, startedAt: this.startedAt, at: this.clock.now(), info: this.info() };
    await this.kv.put(heartbeatKey(this.rec.role, this.rec.host), JSON.stringify(rec));
  }

  /** Stops beating and removes the entry, so others see the stop at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    await this.kv.delete(heartbeatKey(this.rec.role, this.rec.host)).catch(() => {});
  }
}

/** Every fresh heartbeat in the bucket. */
export async function readHeartbeats(kv: KV): Promise<HeartbeatRecord[]> {
  const out: HeartbeatRecord[] = [];
  for (const k of await listKeys(kv)) {
    const e = await kv.get(k);
    if (e && e.operation === "PUT" && e.length > 0) {
      try {
        out.push(JSON.parse(new TextDecoder().decode(e.value)) as HeartbeatRecord);
      } catch {
        /* not a heartbeat (e.g. the supervisor lease); skipped */
      }
    }
  }
  return out;
}
