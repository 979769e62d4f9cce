// Admin methods beyond the core ones, one list per feature; adminMethods() serves them all.
import type { NatsRpcContext, RpcMethod } from "../../src/jsonrpc/index.js";
import { promotionMethods, type PromotionMethodsContext } from "./promotion_methods.js";
import { replicaControlMethods, type ReplicaControlContext } from "./replica_control_methods.js";
import { licenceMethods, type LicenceMethodsContext } from "./licence_methods.js";
import { checkMethods, type ChecksContext } from "./checks.js";
import { serviceMethods, type ServiceMethodsContext } from "./service_methods.js";
import { verifyMethods, type VerifyMethodsContext } from "./verify_methods.js";
import { snapshotMethods, type SnapshotMethodsContext } from "./snapshot_methods.js";
import { restoreMethods, type RestoreMethodsContext } from "./restore_methods.js";

/** What the feature methods use of the supervisor: each list's context. */
export type FeatureAdminContext = PromotionMethodsContext &
  ReplicaControlContext &
  LicenceMethodsContext &
  ChecksContext &
  ServiceMethodsContext &
  VerifyMethodsContext &
  SnapshotMethodsContext &
  RestoreMethodsContext;

export function featureAdminMethods(node: FeatureAdminContext): RpcMethod<NatsRpcContext>[] {
  return [
    ...promotionMethods(node),
    ...replicaControlMethods(node),
    ...licenceMethods(node),
    ...checkMethods(node),
    ...serviceMethods(node),
    ...verifyMethods(node),
    ...snapshotMethods(node),
    ...restoreMethods(node),
  ];
}
