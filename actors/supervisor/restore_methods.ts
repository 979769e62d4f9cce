// restoreAccount on mr.rpc.admin (point-in-time restore): the account as of a log seq or a
// time, written into a new account `into` on the same primary. The new account is created
// like any other (createAccount on mr.rpc.mailbox), then the original's primary rebuilds the
// state from the newest snapshot at or before the point plus the log up to it and writes it
// into the new account as log entries (actors/mailstore/account_restore.ts). With overwrite the
// account is restored over itself: its primary writes the difference between its state now and
// the point's into its own log as new entries; nothing is ever rewritten.
import { AppError, defineMethod, rpcCall, RpcError, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { resolveAccounts } from "./admin_methods.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";
import { MAILBOX_SUBJECT, nodeAdminSubject } from "../../src/protocol/subjects.js";
import type { RestoredAccount, RestoredOver } from "../../src/protocol/node_api.js";
import type { AccountRecord } from "../../src/directory/types.js";
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
        const point = p.seq !== undefined ? { seq: p.seq } : { at: at! };
        const into = p.into !== undefined ? (await node.directory.find(p.into))?.value : undefined;
        if (p.overwrite === true) {
          if (p.into !== undefined && into?.id !== rec!.id) {
            throw new RpcError(
              -32602,
              `overwrite restores ${rec!.name} over itself, but into names ${p.into}; leave into out (or name ${rec!.name}), or leave overwrite out to restore into a new account`,
              { params: ["overwrite", "into"] },
            );
          }
          return restoreOver(node, rec!, point);
        }
        if (p.into === undefined) {
          throw new RpcError(
            -32602,
            `restoreAccount needs into (a new account that receives the restored state), or overwrite true to restore ${rec!.name} over itself`,
            { params: ["into", "overwrite"] },
          );
        }
        if (into?.id === rec!.id) {
          throw new AppError(
            "ACCOUNT_EXISTS",
            `into names ${rec!.name} itself: restoring over the live account needs overwrite true (CLI: restoreAccount ${rec!.name} seq N overwrite true), which writes the difference to the point into its log as new entries; nothing was changed`,
            { account: p.into, param: "overwrite" },
          );
        }
        if (into !== undefined) {
          throw new AppError(
            "ACCOUNT_EXISTS",
            `account ${p.into} exists; restoreAccount writes into a new account: name one that does not exist yet (or restore ${rec!.name} over itself with overwrite true); nothing was changed`,
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
            { source: rec!.id, target: created.id, ...point },
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
          overwrite: false,
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

/** restoreAccount with overwrite: the account's primary restores it over itself. */
async function restoreOver(node: RestoreMethodsContext, rec: AccountRecord, point: { seq: number } | { at: number }) {
  const r = await rpcCall<RestoredOver>(
    node.nc,
    nodeAdminSubject(rec.mailHost),
    "restoreAccount",
    { source: rec.id, target: rec.id, overwrite: true, ...point },
    { timeoutMs: RESTORE_TIMEOUT_MS },
  );
  return {
    account: rec.name,
    accountId: rec.id,
    into: rec.name,
    intoId: rec.id,
    mailHost: rec.mailHost,
    overwrite: true,
    sequence: r.seq,
    at: r.at,
    folders: r.folders,
    items: r.items,
    tags: r.tags,
    changes: r.changes,
    passes: r.passes,
  };
}
