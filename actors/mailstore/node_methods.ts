// A mailstore's own admin endpoint, mr.node.<host>.admin: what only this mailstore knows
// (its SQLite state), asked by the supervisor for getAccountStatus and the like.
import { defineMethod, int, methodTable, str, strList, type MethodTable, type NatsRpcContext } from "../../src/jsonrpc/index.js";
import { promoteHere } from "./promotion_target.js";
import { readLogHead } from "./log_head.js";
import { nodeServiceMethods } from "./node_service_methods.js";
import { nodeDigestMethods } from "./node_digest_methods.js";
import type { MailstoreNode } from "./node.js";
import { accountIdParam, hostParam } from "../../src/directory/key_params.js";
import type { LocalAccountStatus } from "../../src/protocol/node_api.js";


export function nodeMethods(node: MailstoreNode): MethodTable<NatsRpcContext> {
  return methodTable<NatsRpcContext>([
    defineMethod({
      name: "ping",
      params: {},
      handler: () => ({ host: node.host, role: "mailstore", at: node.clock.now() }),
    }),
    defineMethod({
      // For `test`: this mailstore's signing key and trusted list, after reading changed key files.
      name: "keyStatus",
      params: {},
      handler: () => {
        node.reloadKeys();
        return { host: node.host, signingKid: node.keyring.signingKid, signingKeyTrusted: node.keyring.ownKeyTrusted(), trustDigest: node.keyring.trust.digest() };
      },
    }),
    defineMethod({
      name: "accountStatus",
      params: { accounts: strList({ required: true, minItems: 0, maxItems: 100_000 }) },
      handler: (p) => {
        const out: LocalAccountStatus[] = [];
        for (const id of p.accounts) {
          const s = node.store.accountSummary(id);
          const rs = s && node.store.replicaState(id);
          if (!rs) continue;
          out.push({
            accountId: id,
            role: rs.role,
            epoch: rs.epoch,
            appliedSeq: rs.appliedSeq,
            lastItemId: s.lastItemId ?? 0,
            mailboxId: s.mailboxId,
            status: rs.status,
            error: rs.error,
            appliedAt: rs.appliedAt,
          });
        }
        return { host: node.host, accounts: out };
      },
    }),
    defineMethod({
      name: "promote",
      // grant: the supervisor's signature over (account, epoch, this host), see src/envelope/grant.ts
      params: { account: accountIdParam({ required: true }), epoch: int({ required: true, min: 2 }), from: hostParam(), grant: str({ maxLength: 200 }) },
      handler: (p) => promoteHere(node, p.account, p.epoch, p.from, p.grant),
    }),
    defineMethod({
      name: "stopWriting",
      params: { account: accountIdParam({ required: true }), forMs: int({ min: 1_000, max: 600_000, default: 60_000 }) },
      handler: (p) => node.stopWriting(p.account, p.forMs),
    }),
    defineMethod({
      name: "resumeWriting",
      params: { account: accountIdParam({ required: true }) },
      handler: (p) => node.resumeWriting(p.account),
    }),
    defineMethod({
      name: "logHead",
      params: { account: accountIdParam({ required: true }) },
      handler: (p) => readLogHead(node, p.account),
    }),
    ...nodeServiceMethods(node),
    ...nodeDigestMethods(node),
  ]);
}
