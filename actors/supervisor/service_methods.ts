// doStartService / doStopService / doRestartService on mr.rpc.admin (carbonio-reference
// §5.8): forwarded to each mailstore's own admin endpoint, where the service runs
// (node_service_methods.ts). The only service is `module`, the replication module.
import { defineMethod, rpcCall, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";
import type { ServiceOutcome } from "../../src/protocol/node_api.js";
import { requireKnownMailstore, type KnownMailstoresContext } from "./known_mailstores.js";
import type { SupervisorCore } from "./context.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";

/** Stopping waits for catch-ups in flight to end; give it more than a plain call. */
const SERVICE_CALL_TIMEOUT_MS = 15_000;

type HostOutcome = ServiceOutcome | { host: string; service: string; running: null; changed: false; code: string; message: string };

const ACTIONS = [
  ["doStartService", "serviceStart"],
  ["doStopService", "serviceStop"],
  ["doRestartService", "serviceRestart"],
] as const;

/** What the service methods use of the supervisor. */
export interface ServiceMethodsContext extends KnownMailstoresContext, Pick<SupervisorCore, "nc"> {}

export function serviceMethods(node: ServiceMethodsContext): RpcMethod<NatsRpcContext>[] {
  return ACTIONS.map(([name, nodeMethod]) =>
    defineMethod({
      name,
      params: ADMIN_METHODS[name].params,
      handler: async (p) => {
        if (p.host !== undefined) await requireKnownMailstore(node, p.host, "host");
        const hosts = p.host !== undefined ? [p.host] : (await node.directory.listMailstores()).map((m) => m.host);
        const results = await Promise.all(
          hosts.map(async (host): Promise<HostOutcome> => {
            try {
              return await rpcCall<ServiceOutcome>(
                node.nc,
                nodeAdminSubject(host),
                nodeMethod,
                { service_name: p.service_name },
                { timeoutMs: SERVICE_CALL_TIMEOUT_MS },
              );
            } catch (e) {
              const err = e as { appCode?: string; code?: unknown; message?: string };
              const code = err.appCode ?? (typeof err.code === "string" ? err.code : "APP_ERROR");
              const down = code === "NO_RESPONDER" || code === "TIMEOUT";
              return {
                host,
                service: p.service_name,
                running: null,
                changed: false,
                code: down ? "UNAVAILABLE" : code,
                message: down
                  ? `${host} does not answer on ${nodeAdminSubject(host)}; start the mailstore process (mailreplica mailstore --host ${host})`
                  : (err.message ?? String(e)),
              };
            }
          }),
        );
        const failed = results.filter((r) => r.running === null).length;
        node.log.info(
          {
            service: p.service_name,
            hosts: results.map((r) => (r.running === null ? { host: r.host, code: (r as { code: string }).code } : { host: r.host, message: r.message })),
          },
          `${name}: done`,
        );
        return { service_name: p.service_name, ok: failed === 0, hosts: results };
      },
    }),
  );
}
