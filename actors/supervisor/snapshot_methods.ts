// snapshotAccounts on mr.rpc.admin: each named account (default: all) is snapshotted by its
// primary now (mr.node.<primary>.admin snapshotAccount), and with `compact` its log compacted
// below the snapshot as retention.keepDays allows (log_compactor.ts). One account's failure
// (its primary down, nothing written yet) is reported in its entry; the others go on.
import { defineMethod, rpcCall, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { resolveAccounts } from "./admin_methods.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";
import type { TakenSnapshot } from "../../src/protocol/node_api.js";
import type { AccountRecord } from "../../src/directory/types.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import type { SupervisorCore } from "./context.js";
import type { LogCompactor } from "./log_compactor.js";

export interface SnapshotMethodsContext extends Pick<SupervisorCore, "directory" | "nc"> {
  readonly compactor: Pick<LogCompactor, "compactAccount">;
}

interface AccountSnapshotOutcome {
  account: string;
  accountId: string;
  primary: string;
  sequence: number | null;
  items: number | null;
  bytes: number | null;
  existing: boolean | null;
  compactedTo: number | null;
  entriesRemoved: number | null;
  error: string | null;
}

/** A snapshot of a large account takes a few seconds on its primary. */
const SNAPSHOT_TIMEOUT_MS = 120_000;

export function snapshotMethods(node: SnapshotMethodsContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "snapshotAccounts",
      params: ADMIN_METHODS.snapshotAccounts.params,
      handler: async (p) => {
        const recs = p.accounts ? await resolveAccounts(node, p.accounts) : (await node.directory.listAccounts()).filter((r) => r.type === "account");
        recs.sort((a, b) => a.name.localeCompare(b.name));
        const out = (await runBounded(recs, 4, (rec) => snapshotOne(node, rec, p.compact === true))).filter(
          (a): a is AccountSnapshotOutcome => a !== undefined,
        );
        return {
          total: out.length,
          taken: out.filter((a) => a.existing === false).length,
          existing: out.filter((a) => a.existing === true).length,
          failed: out.filter((a) => a.error !== null).length,
          accounts: out,
        };
      },
    }),
  ];
}

async function snapshotOne(node: SnapshotMethodsContext, rec: AccountRecord, compact: boolean): Promise<AccountSnapshotOutcome> {
  const base = { account: rec.name, accountId: rec.id, primary: rec.mailHost };
  let taken: TakenSnapshot;
  try {
    taken = await rpcCall<TakenSnapshot>(node.nc, nodeAdminSubject(rec.mailHost), "snapshotAccount", { account: rec.id }, { timeoutMs: SNAPSHOT_TIMEOUT_MS });
  } catch (e) {
    const code = (e as { data?: { code?: string }; code?: unknown }).data?.code ?? (e as { code?: unknown }).code;
    return {
      ...base,
      sequence: null,
      items: null,
      bytes: null,
      existing: null,
      compactedTo: null,
      entriesRemoved: null,
      error: `${typeof code === "string" ? `${code}: ` : ""}${(e as Error).message}`,
    };
  }
  const done = {
    ...base,
    sequence: taken.seq,
    items: taken.items,
    bytes: taken.bytes,
    existing: taken.existing,
    compactedTo: null,
    entriesRemoved: null,
    error: null,
  };
  if (!compact) return done;
  try {
    const c = await node.compactor.compactAccount(rec);
    return { ...done, compactedTo: c?.seq ?? null, entriesRemoved: c?.entries ?? null };
  } catch (e) {
    return { ...done, error: `snapshot taken, compaction failed: ${(e as Error).message}` };
  }
}
