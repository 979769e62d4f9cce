// Free loopback TCP ports for the route and monitoring listeners of dev's nats-server nodes:
// asked of the kernel all at once (so they differ), then released for the servers to bind.
import { createServer, type Server } from "node:net";

function listenAnywhere(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

/** `count` different free ports on 127.0.0.1, none of them in `exclude`. */
export async function freeLoopbackPorts(count: number, exclude: ReadonlySet<number> = new Set()): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const srv = await listenAnywhere();
      held.push(srv); // kept open until all are chosen, so the kernel cannot hand one out twice
      const port = (srv.address() as { port: number }).port;
      if (!exclude.has(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return ports;
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * `count` ports from `base` up that can be listened on at `host` now (a taken one is passed
 * over, so a second dev or another program on 9464 does not stop this one).
 */
export async function nextFreePorts(host: string, base: number, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let port = base; out.length < count && port <= 65535; port++) if (await canListen(host, port)) out.push(port);
  return out;
}
