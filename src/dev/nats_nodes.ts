// Which client addresses the nodes of a local dev cluster listen on, from the configured NATS
// servers: three URLs name one node each; one URL gives its port and the next two.
import { DevError } from "./errors.js";

export interface NatsNodeAddress {
  /** `n1`, `n2`, `n3`: also the node's store folder and (as `nats-n1`) its process and log name. */
  name: string;
  host: string;
  port: number;
  /** What clients connect to. */
  url: string;
}

function hostPort(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DevError("DEV_NATS_ADDRESSES", `${JSON.stringify(url)} is not a NATS URL; give nats://127.0.0.1:PORT`);
  }
  return { host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port: u.port === "" ? 4222 : Number(u.port) };
}

function urlOf(host: string, port: number): string {
  return `nats://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * The three node addresses for `servers` (config nats.servers). Throws DevError
 * DEV_NATS_ADDRESSES for any other count, a repeated address, or a port above 65535.
 */
export function clusterNodeAddresses(servers: readonly string[]): NatsNodeAddress[] {
  let addrs: Array<{ host: string; port: number }>;
  if (servers.length === 1) {
    const { host, port } = hostPort(servers[0]!);
    if (port + 2 > 65535)
      throw new DevError(
        "DEV_NATS_ADDRESSES",
        `three nodes need ports ${port}..${port + 2}, beyond 65535; give a lower port, e.g. --servers nats://127.0.0.1:4222`,
      );
    addrs = [0, 1, 2].map((i) => ({ host, port: port + i }));
  } else if (servers.length === 3) {
    addrs = servers.map(hostPort);
  } else {
    throw new DevError(
      "DEV_NATS_ADDRESSES",
      `--nats-nodes 3 needs one NATS address (its port and the next two are used) or three (one per node), but ${servers.length} are configured (${servers.join(",")}); ` +
        `set MR_SERVERS or --servers to e.g. nats://127.0.0.1:4222`,
    );
  }
  const seen = new Set<string>();
  for (const a of addrs) {
    const key = `${a.host}:${a.port}`;
    if (seen.has(key))
      throw new DevError("DEV_NATS_ADDRESSES", `the three nodes need three different addresses, but ${key} is given twice (${servers.join(",")})`);
    seen.add(key);
  }
  return addrs.map((a, i) => ({ name: `n${i + 1}`, host: a.host, port: a.port, url: urlOf(a.host, a.port) }));
}
