// getLicenseInfo on mr.rpc.admin: Carbonio's shape (`carbonio core getLicenseInfo`: a ZxHA
// block with quantity and licensed, a feature ha_basic with quantity and enabled), plus what
// an operator needs to act: accounts enabled, validity, where the licence comes from and,
// when it is not valid, why.
import { defineMethod, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import type { LicenceQuota } from "./licence.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";

/** What getLicenseInfo uses of the supervisor. */
export interface LicenceMethodsContext {
  readonly licence: LicenceQuota;
}

export function licenceMethods(node: LicenceMethodsContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "getLicenseInfo",
      params: ADMIN_METHODS.getLicenseInfo.params,
      handler: () => node.licence.info(),
    }),
  ];
}
