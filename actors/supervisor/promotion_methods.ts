// promoteAccounts on mr.rpc.admin: validates everything first (so a refusal changes nothing),
// then runs the promotion as an operation; `monitor` reports its progress, its end state, and
// the promoted and failed accounts.
import { ProtocolErrors, RpcError, defineMethod, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { resolveAccounts } from "./admin_methods.js";
import { requireKnownMailstore, type KnownMailstoresContext } from "./known_mailstores.js";
import type { OperationEndNotifier, SupervisorCore } from "./context.js";
import type { Operations } from "./operations.js";
import type { Promoter } from "./promotion.js";
import type { SupervisorOptions } from "./supervisor_options.js";
import type { AccountRecord } from "../../src/directory/types.js";
import type { OperationRecord } from "./operations.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";

/** What startPromotion uses of the supervisor. */
export interface StartPromotionContext extends Pick<SupervisorCore, "log">, OperationEndNotifier {
  readonly operations: Operations;
  readonly promoter: Promoter;
}

/** What promoteAccounts uses of the supervisor. */
export interface PromotionMethodsContext extends KnownMailstoresContext, StartPromotionContext {
  readonly opts: Pick<SupervisorOptions, "promotionThreads">;
}

export function promotionMethods(node: PromotionMethodsContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "promoteAccounts",
      params: ADMIN_METHODS.promoteAccounts.params,
      handler: async (p) => {
        if (p.accounts && p.source_mail_host) {
          throw new RpcError(ProtocolErrors.INVALID_PARAMS.code, "give either accounts or source_mail_host, not both", { param: "source_mail_host" });
        }
        for (const [param, host] of [
          ["source_mail_host", p.source_mail_host],
          ["destination", p.destination],
        ] as const) {
          if (host !== undefined) await requireKnownMailstore(node, host, param);
        }
        const recs = p.accounts
          ? await resolveAccounts(node, p.accounts)
          : (await node.directory.listAccounts()).filter(
              (r) => r.type === "account" && (p.source_mail_host ? r.mailHost === p.source_mail_host : r.replicas.length > 0),
            );
        const op = await startPromotion(node, recs, {
          threads: p.threads ?? node.opts.promotionThreads ?? 4,
          ...(p.destination ? { destination: p.destination } : {}),
          ...(p.source_mail_host ? { source_mail_host: p.source_mail_host } : {}),
        });
        return { operationId: op.operationId, state: op.state, total: recs.length };
      },
    }),
  ];
}

/** Creates the operation and runs it in the background; the Global Admin hears of its end. */
export async function startPromotion(
  node: StartPromotionContext,
  recs: AccountRecord[],
  opts: { threads: number; destination?: string; source_mail_host?: string; automatic?: boolean },
): Promise<OperationRecord> {
  const startEpochs = Object.fromEntries(recs.map((r) => [r.id, r.epoch]));
  const op = await node.operations.create("promoteAccounts", recs.length, {
    accountIds: recs.map((r) => r.id),
    startEpochs,
    accounts: recs.map((r) => r.name),
    threads: opts.threads,
    ...(opts.destination ? { destination: opts.destination } : {}),
    ...(opts.source_mail_host ? { source_mail_host: opts.source_mail_host } : {}),
    ...(opts.automatic ? { automatic: true } : {}),
  });
  void node.promoter
    .run(op, { accountIds: recs.map((r) => r.id), startEpochs, threads: opts.threads, ...(opts.destination ? { destination: opts.destination } : {}) })
    .then(async (done) => {
      if (done.state !== "running") await node.notifyOperationEnd(done, opts.automatic ? `automatic failover of ${opts.source_mail_host}` : "promotion");
    })
    .catch((e: Error) => node.log.error({ operationId: op.operationId, error: e.message }, "operation failed"));
  return op;
}
