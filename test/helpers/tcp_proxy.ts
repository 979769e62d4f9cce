// A small TCP proxy for fault tests: sits between a NATS client (a mailstore, a test
// connection) and one nats-server, and can stall or cut the traffic of each direction on its
// own. That reproduces the *ambiguous* faults: a publish that reaches the server whose ack
// never comes back (stall "toClient"), or a request that waits on a dead link.
//
// - stall(dir): bytes in that direction are held (not lost) until resume(dir); the TCP
//   connection stays open, as with a congested or half-dead link.
// - drop(dir): bytes in that direction are thrown away until resume(dir): a lost reply.
// - cut(): every open connection is destroyed at once (new ones are still accepted).
// - block(): new connections are refused (closed at once) until unblock().
// - orphan() / releaseOrphans(): the client side of every open connection is closed (the
//   client reconnects, through the proxy, and its new connections flow), while the server side
//   stays open with the bytes held toward the server; releaseOrphans() delivers them late, then
//   closes. That is a request or publish that reaches the server long after its sender gave up.
import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "./processes.js";

export type Direction = "toServer" | "toClient";
type Mode = "flow" | "stall" | "drop";

interface Pair {
  client: Socket;
  server: Socket;
  held: Record<Direction, Buffer[]>;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private readonly orphans = new Set<Pair>();
  private readonly mode: Record<Direction, Mode> = { toServer: "flow", toClient: "flow" };
  private blocked = false;
  /** bytes forwarded per direction (for tests that want to see traffic moved) */
  readonly forwarded: Record<Direction, number> = { toServer: 0, toClient: 0 };
  /** bytes thrown away per direction while dropping (a test waits for them before resuming) */
  readonly dropped: Record<Direction, number> = { toServer: 0, toClient: 0 };

  private constructor(
    private readonly srv: Server,
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  /** Listens on a free loopback port and forwards to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const port = await freePort();
    const srv = createServer();
    const proxy = new TcpProxy(srv, port, { host: targetHost, port: targetPort });
    srv.on("connection", (c) => proxy.accept(c));
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** The URL a NATS client connects to instead of the server's own. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const server = connect(this.target.port, this.target.host);
    const pair: Pair = { client, server, held: { toServer: [], toClient: [] } };
    this.pairs.add(pair);
    client.setNoDelay(true);
    server.setNoDelay(true);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("data", (d) => this.forward(pair, "toServer", d));
    server.on("data", (d) => this.forward(pair, "toClient", d));
    client.on("close", close);
    server.on("close", close);
    client.on("error", close);
    server.on("error", close);
  }

  private forward(pair: Pair, dir: Direction, data: Buffer): void {
    const mode = this.mode[dir];
    if (mode === "drop") {
      this.dropped[dir] += data.length;
      return;
    }
    if (mode === "stall") {
      pair.held[dir].push(data);
      return;
    }
    this.forwarded[dir] += data.length;
    (dir === "toServer" ? pair.server : pair.client).write(data);
  }

  /** Holds every byte of `dir` (both directions when omitted) until resume(). */
  stall(dir?: Direction): void {
    for (const d of dirs(dir)) this.mode[d] = "stall";
  }

  /** Throws away every byte of `dir` (both when omitted) until resume(). */
  drop(dir?: Direction): void {
    for (const d of dirs(dir)) this.mode[d] = "drop";
  }

  /** Lets `dir` (both when omitted) flow again; held bytes are delivered first, in order. */
  resume(dir?: Direction): void {
    for (const d of dirs(dir)) {
      this.mode[d] = "flow";
      for (const p of this.pairs) {
        const held = p.held[d];
        p.held[d] = [];
        for (const b of held) this.forward(p, d, b);
      }
    }
  }

  /** Destroys every open connection (held bytes are lost); new connections are accepted. */
  cut(): void {
    for (const p of [...this.pairs]) {
      p.client.destroy();
      p.server.destroy();
      this.pairs.delete(p);
    }
  }

  /**
   * Closes the client side of every open connection but keeps its server side, with the bytes
   * held toward the server (stall("toServer") first to have some), until releaseOrphans().
   * Both directions flow again for the new connections.
   */
  orphan(): void {
    for (const p of [...this.pairs]) {
      this.pairs.delete(p);
      this.orphans.add(p);
      p.client.removeAllListeners();
      p.server.removeAllListeners("data");
      p.client.destroy();
    }
    this.mode.toServer = "flow";
    this.mode.toClient = "flow";
  }

  /** Delivers the held bytes of orphaned connections to the server, then closes them. */
  releaseOrphans(): void {
    for (const p of [...this.orphans]) {
      this.orphans.delete(p);
      for (const b of p.held.toServer) this.forwarded.toServer += b.length;
      p.server.end(Buffer.concat(p.held.toServer));
      p.held.toServer = [];
    }
  }

  /** Refuses new connections until unblock(). */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
  }

  async stop(): Promise<void> {
    for (const p of this.orphans) p.server.destroy();
    this.orphans.clear();
    this.cut();
    await new Promise<void>((r) => this.srv.close(() => r()));
  }
}

function dirs(dir: Direction | undefined): Direction[] {
  return dir ? [dir] : ["toServer", "toClient"];
}
