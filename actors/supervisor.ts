// The supervisor process (`mailreplica supervisor`): serves the admin JSON-RPC on
// mr.rpc.admin, runs long operations, and tells the Global Admin when they end.
import { hostname } from "node:os";
import { connect, type NatsConnection } from "nats";
import { systemClock, type Clock } from "../src/runtime/clock.js";
import { ensureAssets, type AssetOptions, type Assets } from "../src/jetstream/assets.js";
import { Directory } from "../src/directory/directory.js";
import { serveJsonRpc, type JsonRpcService } from "../src/jsonrpc/index.js";
import { VERSION } from "../src/version.js";
import { adminMethods } from "./admin_methods.js";
import { Heartbeat } from "./heartbeat.js";
import { LicenceQuota } from "./licence.js";
import { Notifier } from "./notifier.js";
import { Operations, type OperationRecord } from "./operations.js";
import { ReplicaInitializer } from "./replica_init.js";

export const ADMIN_SUBJECT = "mr.rpc.admin";

export interface SupervisorOptions {
  /** name of this supervisor (default: the machine's hostname) */
  host?: string;
  servers: string[];
  assets: AssetOptions;
  heartbeatMs: number;
  licenceQuota: number;
  /** how long setAccountDestination waits for a replica to catch up; default 10 min */
  initTimeoutMs?: number;
  clock?: Clock;
  log?: (line: string) => void;
}

export class SupervisorNode {
  readonly host: string;
  readonly clock: Clock;
  readonly directory: Directory;
  readonly operations: Operations;
  readonly notifier: Notifier;
  readonly licence: LicenceQuota;
  readonly replicaInit: ReplicaInitializer;
  private services: JsonRpcService[] = [];
  private heartbeat: Heartbeat | undefined;
  private stopping: Promise<void> | undefined;
  /** set by stop(): background operation loops end at their next step */
  stopped = false;

  private constructor(
    readonly opts: SupervisorOptions,
    readonly nc: NatsConnection,
    readonly assets: Assets,
  ) {
    this.host = opts.host ?? hostname();
    this.clock = opts.clock ?? systemClock();
    this.directory = new Directory(assets.directory);
    this.operations = new Operations(assets.directory, this.host, () => this.clock.now());
    this.notifier = new Notifier(assets.js, this.host, this.log);
    this.licence = new LicenceQuota(this.directory, opts.licenceQuota);
    this.replicaInit = new ReplicaInitializer(this, { timeoutMs: opts.initTimeoutMs ?? 600_000, pollMs: 200 });
  }

  readonly log = (line: string): void => {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`[supervisor ${this.opts.host ?? hostname()}] ${line}`);
  };

  static async start(opts: SupervisorOptions): Promise<SupervisorNode> {
    const nc = await connect({ servers: opts.servers, name: `supervisor ${opts.host ?? hostname()}`, maxReconnectAttempts: -1 });
    try {
      const assets = await ensureAssets(nc, opts.assets);
      const node = new SupervisorNode(opts, nc, assets);
      await node.run();
      return node;
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  private async run(): Promise<void> {
    this.services.push(serveJsonRpc(this.nc, ADMIN_SUBJECT, adminMethods(this), { queue: "mr-admin" }));
    this.heartbeat = new Heartbeat(this.assets.nodes, this.clock, { host: this.host, role: "supervisor", version: VERSION }, this.opts.heartbeatMs);
    await this.heartbeat.start();
    await this.nc.flush();
    this.log(`supervisor ${this.host} started (NATS ${this.opts.servers.join(",")})`);
  }

  /** Tells the Global Admin that an operation ended (MR_NOTIFY). */
  async notifyOperationEnd(op: OperationRecord, what: string): Promise<void> {
    await this.notifier.publish("operation.completed", {
      operationId: op.operationId,
      operation: op.kind,
      state: op.state,
      total: op.total,
      done: op.done,
      failed: op.failed,
      summary: `${what}: ${op.state} (${op.done} of ${op.total} done, ${op.failed} failed)`,
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      await Promise.allSettled(this.services.map((s) => s.stop()));
      await this.heartbeat?.stop();
      await this.nc.drain().catch(() => {});
      this.log(`supervisor ${this.host} stopped`);
    })();
    return this.stopping;
  }
}
