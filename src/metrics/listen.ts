// The metrics endpoint's address (`metrics.listen`): `host:port`, read once here for the
// config schema and the HTTP server alike, so what the schema accepts is what binds.
import { isIP } from "node:net";

/** What `metrics.listen` accepts, as the config error says it. */
export const LISTEN_ALLOWED =
  "host:port, the host an IPv4 address, a host name or [IPv6] and the port 1-65535 (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for every interface)";

export interface ListenAddress {
  /** as node:http's listen wants it (an IPv6 address without brackets) */
  host: string;
  port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `s` as an address, or why it is not one. */
export function parseListen(s: string): ListenAddress | { problem: string } {
  const shown = JSON.stringify(s);
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(s);
  if (!m) return { problem: `got ${shown}, not host:port` };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return { problem: `got ${shown}, port ${port} is out of range` };
  let host = m[1]!;
  if (host.startsWith("[")) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return { problem: `got ${shown}, ${JSON.stringify(host)} is not an IPv6 address` };
  } else if (host === "") {
    return { problem: `got ${shown}, no host (give 0.0.0.0 for every interface)` };
  } else if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    return { problem: `got ${shown}, ${JSON.stringify(host)} is neither an IP address nor a host name` };
  }
  return { host, port };
}

/** Why `s` is not a usable `metrics.listen`, or undefined. */
export function listenProblem(s: string): string | undefined {
  const r = parseListen(s);
  return "problem" in r ? r.problem : undefined;
}

/** `host:port` as printed (IPv6 in brackets). */
export function formatListen(a: ListenAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
