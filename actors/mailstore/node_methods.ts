// A mailstore's own admin endpoint, mr.node.<host>.admin: what only this mailstore knows
// (its SQLite state), asked by the supervisor for getAccountStatus and the like.
import { defineMethod, RpcError, bool, int, methodTable, objList, str, strList, type MethodTable, type NatsRpcContext } from "../../src/jsonrpc/index.js";
import { promoteHere, type PromotionTargetContext } from "./promotion_target.js";
import { promoteMany } from "./promotion_batch.js";
import { readLogHead, type LogHeadContext } from "./log_head.js";
import { nodeServiceMethods, type NodeServiceContext } from "./node_service_methods.js";
import { nodeDigestMethods, type NodeDigestContext } from "./node_digest_methods.js";
import { accountIdParam, hostParam } from "../../src/directory/key_params.js";
import { PROMOTE_MANY_MAX, type LocalAccountStatus } from "../../src/protocol/node_api.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { SnapshotTaker } from "./snapshot_taker.js";
import { restoreInto, restoreOver, type RestoreContext } from "./account_restore.js";
import type { RestoredAccount, RestoredOver, TakenSnapshot } from "../../src/protocol/node_api.js";

/** What the admin methods of this file use of the mailstore themselves. */
interface AdminContext {
  host: string;
  clock: Pick<Clock, "now">;
  keyring: EnvelopeKeyring;
  store: Pick<MetadataStore, "accountSummary" | "replicaState">;
  /** reads changed key files; true when something changed */
  reloadKeys(): boolean;
  stopWriting(accountId: string, forMs: number): Promise<{ host: string; stopped: boolean; seq: number }>;
  snapshotter: Pick<SnapshotTaker, "take">;
  resumeWriting(accountId: string): { host: string; resumed: boolean };
}

/**
 * What the whole admin endpoint uses: its own methods' needs and those of the modules it
 * serves. MailstoreNode passes itself (the promotion, service and digest modules keep state
 * per context object).
 */
export type NodeMethodsContext = AdminContext & RestoreContext & PromotionTargetContext & LogHeadContext & NodeServiceContext & NodeDigestContext;

/** promote's params, and those of each account of promoteMany. grant: the supervisor's signature over (account, epoch, this host), see src/envelope/grant.ts */
const PROMOTE_PARAMS = {
  account: accountIdParam({ required: true }),
  epoch: int({ required: true, min: 2 }),
  from: hostParam(),
  grant: str({ maxLength: 200 }),
};

export function nodeMethods(node: NodeMethodsContext): MethodTable<NatsRpcContext> {
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
        return {
          host: node.host,
          signingKid: node.keyring.signingKid,
          signingKeyTrusted: node.keyring.ownKeyTrusted(),
          trustDigest: node.keyring.trust.digest(),
        };
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
      // snapshotAccounts: a snapshot of an account this mailstore is primary of, now.
      name: "snapshotAccount",
      params: { account: accountIdParam({ required: true }) },
      handler: async (p): Promise<TakenSnapshot> => node.snapshotter.take(p.account),
    }),
    defineMethod({
      // restoreAccount: `source` as of seq or at (ms since the epoch), written into the new account `target`,
      // or with overwrite (target = source) over the account itself (primary here).
      name: "restoreAccount",
      params: {
        source: accountIdParam({ required: true }),
        target: accountIdParam({ required: true }),
        seq: int({ min: 1 }),
        at: int({ min: 0 }),
        overwrite: bool(),
      },
      handler: async (p): Promise<RestoredAccount | RestoredOver> => {
        if ((p.seq === undefined) === (p.at === undefined)) {
          throw new RpcError(-32602, "restoreAccount takes exactly one of seq and at (ms since the epoch)");
        }
        if ((p.overwrite === true) !== (p.target === p.source)) {
          throw new RpcError(
            -32602,
            "restoreAccount writes over the account itself only with overwrite true and target = source, else into another, new account",
          );
        }
        const point = p.seq !== undefined ? { seq: p.seq } : { at: p.at! };
        return p.overwrite ? restoreOver(node, p.source, point) : restoreInto(node, p.source, p.target, point);
      },
    }),
    defineMethod({
      name: "promote",
      params: PROMOTE_PARAMS,
      handler: (p) => promoteHere(node, p.account, p.epoch, p.from, p.grant),
    }),
    defineMethod({
      // Many accounts promoted here in one call, each as promote would (promotion_batch.ts); one
      // outcome per account, in the order asked: promote's answer or the error it would answer.
      name: "promoteMany",
      params: {
        accounts: objList(PROMOTE_PARAMS, { required: true, minItems: 1, maxItems: PROMOTE_MANY_MAX }),
      },
      handler: (p) => {
        const seen = new Set<string>();
        p.accounts.forEach((a, i) => {
          if (seen.has(a.account))
            throw new RpcError(-32602, `promoteMany: param "accounts": item ${i} names account ${a.account} again; name each account once`);
          seen.add(a.account);
        });
        return promoteMany(node, p.accounts);
      },
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
