// A JSON-RPC service of this process, registered with the NATS services framework: its
// endpoints are served by serveJsonRpc (which counts each request and error answer in the
// endpoint's stats) and the instance answers $SRV.PING/INFO/STATS (src/micro). The KV
// heartbeats stay what liveness and failover read; this is for operators' tools.
import type { NatsConnection } from "@nats-io/transport-node";
import {
  internalErrorFields,
  serveJsonRpc,
  type JsonRpcService,
  type ServeJsonRpcOptions,
  type MethodTable,
  type NatsRpcContext,
} from "../../src/jsonrpc/index.js";
import { MicroService } from "../../src/micro/index.js";
import type { ServiceName } from "../../src/protocol/service_names.js";
import { VERSION } from "../../src/version.js";
import type { LogLevel, Logger } from "../../src/log/index.js";
import type { JsonRpcErrorObject } from "../../src/jsonrpc/index.js";

export interface RpcEndpointSpec {
  /** the endpoint's name in INFO and STATS */
  name: string;
  subject: string;
  /** queue group, as the subject is served today; none: every instance answers */
  queue?: string;
  methods: MethodTable<NatsRpcContext>;
}

export interface RpcServiceSpec {
  name: ServiceName;
  description: string;
  host: string;
  role: "mailstore" | "supervisor";
  endpoints: RpcEndpointSpec[];
  /** told about every answer the endpoints send (metrics) */
  onAnswer?: ServeJsonRpcOptions["onAnswer"];
  /**
   * where a refused request (level `refusals`) and an internal error (level error) are logged;
   * an internal error with its own code (errCode: ENOENT...) and message (error) as fields
   */
  log?: Logger;
  /** the level refused requests are logged at: debug for clients' calls, warn where a refusal means a misbehaving peer. Default debug. */
  refusals?: LogLevel;
}

const INTERNAL_RPC_CODE = -32603;

/** Logs each refused request with its code; the answer's message may quote request values, so it is a field. */
function refusalLogger(log: Logger, level: LogLevel, subject: string): (method: string | undefined, error: JsonRpcErrorObject | undefined) => void {
  return (method, error) => {
    // An internal error is logged once, with its stack, by onInternalError.
    if (!error || error.code === INTERNAL_RPC_CODE || !log.isLevelEnabled(level)) return;
    const data = error.data && typeof error.data === "object" ? (error.data as { code?: unknown; cause?: unknown }) : {};
    const code = typeof data.code === "string" ? data.code : String(error.code);
    // APP_ERROR's specific reason (LOG_BAD_PROMOTION...) travels as data.cause.
    const cause = typeof data.cause === "string" ? { cause: data.cause } : {};
    log[level]({ subject, ...(method !== undefined ? { method } : {}), code, ...cause, rpcCode: error.code, error: error.message }, "request refused");
  };
}

const SEMVER = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;

/** Serves the endpoints and registers the service; `stop` leaves discovery first, then drains the endpoints. */
export async function serveRpcService(nc: NatsConnection, spec: RpcServiceSpec): Promise<JsonRpcService> {
  const micro = new MicroService(nc, {
    name: spec.name,
    // The protocol wants a semantic version; package.json's is one unless it could not be read.
    version: SEMVER.test(VERSION) ? VERSION : "0.0.0",
    description: spec.description,
    metadata: { host: spec.host, role: spec.role, version: VERSION },
  });
  const served: JsonRpcService[] = [];
  for (const ep of spec.endpoints) {
    const stats = micro.addEndpoint({ name: ep.name, subject: ep.subject, ...(ep.queue ? { queueGroup: ep.queue } : {}) });
    const log = spec.log;
    const refused = log ? refusalLogger(log, spec.refusals ?? "debug", ep.subject) : undefined;
    const onAnswer =
      spec.onAnswer && refused
        ? (m: string | undefined, e: JsonRpcErrorObject | undefined) => (spec.onAnswer!(m, e), refused(m, e))
        : (spec.onAnswer ?? refused);
    served.push(
      serveJsonRpc(nc, ep.subject, ep.methods, {
        ...(ep.queue ? { queue: ep.queue } : {}),
        stats,
        ...(onAnswer ? { onAnswer } : {}),
        ...(log
          ? {
              onInternalError: (err: unknown, method: string) =>
                log.error({ subject: ep.subject, method, code: "INTERNAL", ...internalErrorFields(err), err }, "request failed unexpectedly"),
            }
          : {}),
      }),
    );
  }
  await micro.start();
  return {
    async stop(): Promise<void> {
      // Gone from `nats micro ls` before it stops answering, so nothing lists a dead endpoint.
      await micro.stop();
      await Promise.allSettled(served.map((s) => s.stop()));
    },
  };
}
