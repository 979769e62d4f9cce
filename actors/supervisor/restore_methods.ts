// restoreAccount on mr.rpc.admin (point-in-time restore): the account as of a log seq or a
// time, written into a new account `into` on the same primary. The new account is created
// like any other (createAccount on mr.rpc.mailbox), then the original's primary rebuilds the
// state from the newest snapshot at or before the point plus the log up to it and writes it
// into the new account as log entries (actors/mailstore/account_restore.ts).
import { AppError, defineMethod, rpcCall, RpcError, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { resolveAccounts } from "./admin_methods.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";
import { MAILBOX_SUBJECT, nodeAdminSubject } from "../../src/protocol/subjects.js";
import type { RestoredAccount } from "../../src/protocol/node_api.js";
import type { SupervisorCore } from "./context.js";

export type RestoreMethodsContext = Pick<SupervisorCore, "directory" | "nc">;

/** Rebuilding and writing a 100,000-item account takes tens of seconds. */
const RESTORE_TIMEOUT_MS = 600_000;

export function restoreMethods(node: RestoreMethodsContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "restoreAccount",
      params: ADMIN_METHODS.restoreAccount.params,
      handler: async (p) => {
        if ((p.seq === undefined) === (p.at === undefined)) {
          throw new RpcError(-32602, "restoreAccount takes exactly one of seq (a log sequence) and at (an ISO 8601 time such as 2026-11-30T08:00:00Z)", {
            params: ["seq", "at"],
          });
        }
        let at: number | undefined;
        if (p.at !== undefined) {
          at = Date.parse(p.at);
          if (!/^\d{4}-\d\d-\d\dT/.test(p.at) || Number.isNaN(at)) {
            throw new RpcError(-32602, `at ${JSON.stringify(p.at)} is not an ISO 8601 time; give e.g. 2026-11-30T08:00:00Z`, { param: "at" });
          }
        }
        const [rec] = await resolveAccounts(node, [p.account]);
        if ((await node.directory.find(p.into)) !== undefined) {
          throw new AppError(
            "ACCOUNT_EXISTS",
            `account ${p.into} exists; restoreAccount writes into a new account: name one that does not exist yet; nothing was changed`,
            {
              account: p.into,
            },
          );
        }
        const created = await rpcCall<{ id: string }>(node.nc, MAILBOX_SUBJECT, "createAccount", { name: p.into, mailHost: rec!.mailHost });
        let restored: RestoredAccount;
        try {
          restored = await rpcCall<RestoredAccount>(
            node.nc,
            nodeAdminSubject(rec!.mailHost),
            "restoreAccount",
            { source: rec!.id, target: created.id, ...(p.seq !== undefined ? { seq: p.seq } : { at }) },
            { timeoutMs: RESTORE_TIMEOUT_MS },
          );
        } catch (e) {
          // The new account exists and may hold part of the state: say so, the operator decides.
          if (e instanceof RpcError) {
            throw new RpcError(e.code, `${e.message}; account ${p.into} was created for the restore and holds what was written before this error`, e.data);
          }
          throw e;
        }
        return {
          account: rec!.name,
          accountId: rec!.id,
          into: p.into,
          intoId: created.id,
          mailHost: rec!.mailHost,
          sequence: restored.seq,
          at: restored.at,
          folders: restored.folders,
          items: restored.items,
          tags: restored.tags,
        };
      },
    }),
  ];
}
