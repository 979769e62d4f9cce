// Bounds on one admin request (issue 9, part 6): how many accounts it may name, and which
// methods are expensive enough to run only a few at once per process. Applied around every
// admin method (adminMethods), before the method's own work, so a refusal changes nothing.
import { AppError, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import type { JsonRpcParams } from "../../src/jsonrpc/types.js";
import type { LimitsConfig } from "../../src/config/types.js";
import { ExpensiveGate } from "../shared/expensive_gate.js";

/** Admin methods that read or change many records or ask every mailstore: bounded at once. */
export const EXPENSIVE_ADMIN_METHODS: ReadonlySet<string> = new Set([
  "getAccountStatus",
  "verifyReplicas",
  "snapshotAccounts",
  "restoreAccount",
  "restartReplicas",
  "pauseReplicas",
  "removeAccountDestination",
  "test",
]);

/** Params that name accounts. */
const ACCOUNT_LIST_PARAMS = ["accounts"] as const;

/** How many entries a list param holds as sent: an array, or a comma-separated string. */
function entries(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (typeof v === "string") return v.split(",").filter((p) => p.trim() !== "").length;
  return 0;
}

/** REQUEST_TOO_LARGE for a list param longer than `limit`. */
export function refuseLongList(method: string, param: string, n: number, limit: number, key: string): void {
  if (n <= limit) return;
  throw new AppError(
    "REQUEST_TOO_LARGE",
    `${method}: ${param} names ${n} entries, more than ${key} (${limit}) allows; split it into requests of at most ${limit}; nothing was changed`,
    {
      param,
      count: n,
      limit,
      setting: key,
    },
  );
}

/** REQUEST_TOO_LARGE for getAccountStatus selecting more accounts than it may read. */
export function refuseWideStatus(n: number, limit: number): void {
  if (n <= limit) return;
  throw new AppError(
    "REQUEST_TOO_LARGE",
    `getAccountStatus would read ${n} accounts from the mailstores, more than limits.maxStatusAccounts (${limit}) allows; narrow it with accounts, mailHost, replicaServer or domains (or raise the limit)`,
    { count: n, limit, setting: "limits.maxStatusAccounts" },
  );
}

/** Wraps admin methods with the list-length cap and, for the expensive ones, the gate. */
export function boundedAdminMethods(methods: RpcMethod<NatsRpcContext>[], limits: LimitsConfig, gate: ExpensiveGate): RpcMethod<NatsRpcContext>[] {
  // Spread: the wrapped method keeps its param specs (rpc.discover and the fuzzer read them).
  return methods.map((m) => ({
    ...m,
    call(params: JsonRpcParams | undefined, ctx: NatsRpcContext): unknown {
      if (params && typeof params === "object" && !Array.isArray(params)) {
        for (const p of ACCOUNT_LIST_PARAMS)
          refuseLongList(m.name, p, entries((params as Record<string, unknown>)[p]), limits.maxAccountsPerRequest, "limits.maxAccountsPerRequest");
      }
      return EXPENSIVE_ADMIN_METHODS.has(m.name) ? gate.run(m.name, () => m.call(params, ctx)) : m.call(params, ctx);
    },
  }));
}
