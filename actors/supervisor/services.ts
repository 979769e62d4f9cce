// getServices: every mailstore and supervisor known, with liveness from the heartbeats.
import type { Directory } from "../../src/directory/directory.js";
import type { KV } from "@nats-io/kv";
import { readHeartbeats, type HeartbeatRecord } from "../shared/heartbeat.js";

export interface ServiceStatus {
  host: string;
  role: "mailstore" | "supervisor";
  /** a fresh heartbeat exists (the bucket's TTL removes stale ones) */
  alive: boolean;
  lastHeartbeatAt: number | null;
  startedAt: number | null;
  version: string | null;
  pid: number | null;
  /** Carbonio's shape for the replication service of the node */
  services: { module: { running: boolean; could_start: boolean; could_stop: boolean } };
  info?: Record<string, unknown>;
}

/** The replication module runs while the node beats and has not stopped it (doStopService). */
function moduleService(hb: HeartbeatRecord | undefined): ServiceStatus["services"]["module"] {
  const running = !!hb && hb.info?.moduleRunning !== false;
  return { running, could_start: !!hb && !running, could_stop: running };
}

export async function listServices(directory: Directory, nodes: KV): Promise<ServiceStatus[]> {
  const beats = new Map<string, HeartbeatRecord>();
  for (const hb of await readHeartbeats(nodes)) beats.set(`${hb.role}:${hb.host}`, hb);
  const out: ServiceStatus[] = [];
  const describe = (host: string, role: ServiceStatus["role"], hb: HeartbeatRecord | undefined): ServiceStatus => ({
    host,
    role,
    alive: !!hb,
    lastHeartbeatAt: hb?.at ?? null,
    startedAt: hb?.startedAt ?? null,
    version: hb?.version ?? null,
    pid: hb?.pid ?? null,
    services: { module: moduleService(hb) },
    ...(hb?.info ? { info: hb.info } : {}),
  });
  for (const m of await directory.listMailstores()) {
    out.push(describe(m.host, "mailstore", beats.get(`mailstore:${m.host}`)));
    beats.delete(`mailstore:${m.host}`);
  }
  for (const hb of beats.values()) out.push(describe(hb.host, hb.role, hb));
  return out.sort((a, b) => a.role.localeCompare(b.role) || a.host.localeCompare(b.host));
}

/** Hosts of mailstores with a fresh heartbeat. */
export async function aliveMailstores(nodes: KV): Promise<Set<string>> {
  return new Set((await readHeartbeats(nodes)).filter((h) => h.role === "mailstore").map((h) => h.host));
}
