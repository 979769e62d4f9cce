// verifyReplicas on mr.rpc.admin: which accounts to verify (named, all with a replica, or
// those replicated onto one mailstore), refused before anything is asked when a name or a
// host is unknown; the comparison itself is in verify_replicas.ts.
import { defineMethod, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { resolveAccounts } from "./admin_methods.js";
import { requireKnownMailstore, type KnownMailstoresContext } from "./known_mailstores.js";
import { verifyReplicas, type VerifyContext } from "./verify_replicas.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";

/** What verifyReplicas (the method) uses of the supervisor. */
export interface VerifyMethodsContext extends KnownMailstoresContext, VerifyContext {}

export function verifyMethods(node: VerifyMethodsContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "verifyReplicas",
      params: ADMIN_METHODS.verifyReplicas.params,
      handler: async (p) => {
        if (p.replicaServer !== undefined) await requireKnownMailstore(node, p.replicaServer, "replicaServer");
        let recs = p.accounts
          ? await resolveAccounts(node, p.accounts)
          : (await node.directory.listAccounts()).filter((r) => r.type === "account" && r.replicas.length > 0);
        if (p.replicaServer !== undefined) recs = recs.filter((r) => r.replicas.some((x) => x.destination === p.replicaServer));
        recs.sort((a, b) => a.name.localeCompare(b.name));
        return verifyReplicas(node, recs, p.replicaServer);
      },
    }),
  ];
}
