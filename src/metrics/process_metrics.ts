// What every mailreplica process exposes, whatever its role: prom-client's default process
// metrics, its identity, its NATS connection's reconnects, and its JSON-RPC answers.
// One registry per process object (not prom-client's global one): several nodes in one test
// process then never share or collide on a series, and each scrape shows one process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { startMetricsServer, type MetricsServer } from "./server.js";

/** An answer's code label: "ok", the application code (NOT_PRIMARY, ...), or the JSON-RPC number. */
export function answerCode(error: { code: number; data?: unknown } | undefined): string {
  if (!error) return "ok";
  const data = error.data as { code?: unknown } | undefined;
  // Application codes are a fixed table (src/jsonrpc/codes.ts), so the label stays bounded.
  if (data && typeof data === "object" && typeof data.code === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(data.code)) return data.code;
  return String(error.code);
}

/** Something that reports connection status changes, as a NatsConnection does. */
export interface StatusSource {
  status(): AsyncIterable<{ type: string }>;
}

export class ProcessMetrics {
  readonly registry = new Registry();
  private readonly rpc: Counter<"method" | "code">;
  private readonly reconnects: Counter;
  private readonly disconnects: Counter;

  /**
   * `host` labels every series of this registry: Prometheus' `instance` is an address, the
   * host is what the operator knows the process by (and what the lag metrics name).
   */
  constructor(opts: { role: "mailstore" | "supervisor"; host: string; version: string }) {
    this.registry.setDefaultLabels({ host: opts.host });
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "mailreplica_info",
      help: "Always 1; labels say what this process is (role, version)",
      labelNames: ["role", "version"],
      registers: [this.registry],
    }).set({ role: opts.role, version: opts.version }, 1);
    this.rpc = new Counter({
      name: "mailreplica_rpc_requests_total",
      help: "JSON-RPC calls answered, by method (one of the served table's, else (unknown)) and code (ok, the application error code, or the JSON-RPC error number)",
      labelNames: ["method", "code"],
      registers: [this.registry],
    });
    this.reconnects = new Counter({
      name: "mailreplica_nats_reconnects_total",
      help: "Times the NATS connection was re-established after a loss",
      registers: [this.registry],
    });
    this.disconnects = new Counter({ name: "mailreplica_nats_disconnects_total", help: "Times the NATS connection was lost", registers: [this.registry] });
  }

  /** Counts one answered call (the JSON-RPC server's onAnswer hook). */
  readonly rpcAnswer = (method: string | undefined, error: { code: number; data?: unknown } | undefined): void => {
    this.rpc.inc({ method: method ?? "(unknown)", code: answerCode(error) });
  };

  /** Follows the connection's status until it closes. */
  watchNats(nc: StatusSource): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "reconnect") this.reconnects.inc();
        else if (s.type === "disconnect") this.disconnects.inc();
      }
    })().catch(() => {
      /* the connection closed: nothing more to count */
    });
  }
}

/** A process's registry and its endpoint, bound before the process starts anything else. */
export interface BoundMetrics {
  process: ProcessMetrics;
  server: MetricsServer;
}

/**
 * Binds `listen` for a new registry: a bad or taken address fails here, before the process
 * connects or opens anything.
 */
export async function bindMetrics(listen: string, opts: ConstructorParameters<typeof ProcessMetrics>[0]): Promise<BoundMetrics> {
  const process = new ProcessMetrics(opts);
  return { process, server: await startMetricsServer(listen, process.registry) };
}
