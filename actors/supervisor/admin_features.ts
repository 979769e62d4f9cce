// Admin methods beyond the core ones, one list per feature; adminMethods() serves them all.
import type { NatsRpcContext, RpcMethod } from "../../src/jsonrpc/index.js";
import type { SupervisorNode } from "./node.js";
import { promotionMethods } from "./promotion_methods.js";
import { replicaControlMethods } from "./replica_control_methods.js";
import { licenceMethods } from "./licence_methods.js";
import { checkMethods } from "./checks.js";
import { serviceMethods } from "./service_methods.js";
import { verifyMethods } from "./verify_methods.js";

export function featureAdminMethods(node: SupervisorNode): RpcMethod<NatsRpcContext>[] {
  return [...promotionMethods(node), ...replicaControlMethods(node), ...licenceMethods(node), ...checkMethods(node), ...serviceMethods(node), ...verifyMethods(node)];
}
