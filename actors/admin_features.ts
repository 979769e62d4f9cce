// Admin methods beyond the core ones, one list per feature; adminMethods() serves them all.
import type { NatsRpcContext, RpcMethod } from "../src/jsonrpc/index.js";
import type { SupervisorNode } from "./supervisor.js";
import { promotionMethods } from "./promotion_methods.js";

export function featureAdminMethods(node: SupervisorNode): RpcMethod<NatsRpcContext>[] {
  return [...promotionMethods(node)];
}
