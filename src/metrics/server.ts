// The metrics endpoint: a small node:http server answering GET /metrics with one registry's
// text exposition, 404 elsewhere. One per process, on the address of metrics.listen.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { MetricsError } from "./errors.js";
import { formatListen, parseListen, type ListenAddress } from "./listen.js";

export interface MetricsServer {
  /** the bound address (the port the OS chose when 0 was asked, in tests) */
  readonly address: ListenAddress;
  /** `http://host:port/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/** Why a bind failed, in the operator's words. */
function bindProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "EADDRINUSE":
      return "the port is already in use (another mailreplica process or another program listens there)";
    case "EADDRNOTAVAIL":
      return "that address is not one of this machine's";
    case "EACCES":
      return "no permission to listen there (ports below 1024 need privileges)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve";
    default:
      return err.message;
  }
}

/**
 * Binds `listen` (`host:port`) and serves `registry`. Rejects with METRICS_LISTEN_FAILED
 * naming the key, the address and what to do; nothing stays open then.
 */
export async function startMetricsServer(listen: string, registry: Registry): Promise<MetricsServer> {
  const parsed = parseListen(listen);
  if ("problem" in parsed) throw new MetricsError("METRICS_LISTEN_FAILED", `metrics.listen: ${parsed.problem}; give host:port, e.g. 127.0.0.1:9464`);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found: metrics are at GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "Content-Type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end(`collecting metrics failed: ${(err as Error)?.message ?? String(err)}\n`);
      },
    );
  });
  // A scrape must never keep a stopping process alive.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new MetricsError(
          "METRICS_LISTEN_FAILED",
          `metrics.listen ${formatListen(parsed)}: cannot listen there: ${bindProblem(err)}; choose another address (config metrics.listen, env MR_METRICS_LISTEN) or leave it unset to run without metrics`,
          { cause: err },
        ),
      ),
    );
    server.listen(parsed.port, parsed.host, () => resolve());
  });
  const bound = server.address();
  const address: ListenAddress = typeof bound === "object" && bound !== null ? { host: parsed.host, port: bound.port } : parsed;
  server.unref();
  return {
    address,
    url: `http://${formatListen(address)}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
