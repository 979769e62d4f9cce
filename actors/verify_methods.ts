// verifyReplicas on mr.rpc.admin: which accounts to verify (named, all with a replica, or
// those replicated onto one mailstore), refused before anything is asked when a name or a
// host is unknown; the comparison itself is in verify_replicas.ts.
import { defineMethod, strOrList, type NatsRpcContext, type RpcMethod } from "../src/jsonrpc/index.js";
import { resolveAccounts } from "./admin_methods.js";
import { requireKnownMailstore } from "./known_mailstores.js";
import { verifyReplicas } from "./verify_replicas.js";
import type { SupervisorNode } from "./supervisor.js";
import { ACCOUNT_REF_ITEM, hostParam } from "../src/directory/key_params.js";

export function verifyMethods(node: SupervisorNode): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "verifyReplicas",
      params: { accounts: strOrList({ maxItems: 100_000, item: ACCOUNT_REF_ITEM }), replicaServer: hostParam() },
      handler: async (p) => {
        if (p.replicaServer !== undefined) await requireKnownMailstore(node, p.replicaServer, "replicaServer");
        let recs = p.accounts ? await resolveAccounts(node, p.accounts) : (await node.directory.listAccounts()).filter((r) => r.type === "account" && r.replicas.length > 0);
        if (p.replicaServer !== undefined) recs = recs.filter((r) => r.replicas.some((x) => x.destination === p.replicaServer));
        recs.sort((a, b) => a.name.localeCompare(b.name));
        return verifyReplicas(node, recs, p.replicaServer);
      },
    }),
  ];
}
