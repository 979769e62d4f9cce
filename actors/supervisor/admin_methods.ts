// The admin JSON-RPC methods on mr.rpc.admin (docs/jsonrpc.md), served by the supervisor.
import { AppError, defineMethod, methodTable, type MethodTable, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import type { AccountRecord } from "../../src/directory/types.js";
import { refusePattern } from "../shared/account_names.js";
import { accountStatuses } from "./account_status.js";
import { aliveMailstores, listServices } from "./services.js";
import type { SupervisorCore } from "./context.js";
import { requireKnownMailstore, type KnownMailstoresContext } from "./known_mailstores.js";
import type { LicenceQuota } from "./licence.js";
import type { ReplicaInitializer } from "./replica_init.js";
import type { Operations } from "./operations.js";
import { monitorAnswer } from "./monitor_answer.js";
import type { ExpensiveGate } from "../shared/expensive_gate.js";
import type { LimitsConfig } from "../../src/config/types.js";
import { boundedAdminMethods, refuseWideStatus } from "./request_limits.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";
import { adminDocument } from "../../src/protocol/discovery.js";
import { withDiscover } from "../../src/jsonrpc/discover.js";

type Ctx = NatsRpcContext;

/** What resolveAccounts uses of the supervisor. */
export type AccountResolverContext = Pick<SupervisorCore, "directory">;

/** What the core admin methods use of the supervisor. */
export interface AdminMethodsContext extends KnownMailstoresContext {
  readonly licence: LicenceQuota;
  readonly replicaInit: ReplicaInitializer;
  readonly operations: Operations;
  readonly limits: LimitsConfig;
  /** expensive admin requests running at once (limits.maxConcurrentExpensive) */
  readonly expensive: ExpensiveGate;
  /** each feature's admin methods (admin_features.ts), served beside the core ones */
  extraAdminMethods(): RpcMethod<Ctx>[];
}

/**
 * Resolves account names/ids; refuses patterns, unknown accounts and distribution lists,
 * naming every offending entry at once, before anything is changed.
 */
export async function resolveAccounts(node: AccountResolverContext, names: string[]): Promise<AccountRecord[]> {
  for (const n of names) refusePattern(n);
  const found = await Promise.all(names.map(async (n) => [n, await node.directory.find(n)] as const));
  const unknown = found.filter(([, r]) => !r).map(([n]) => n);
  if (unknown.length) {
    throw new AppError(
      "ACCOUNT_UNKNOWN",
      `unknown account${unknown.length > 1 ? "s" : ""}: ${unknown.slice(0, 20).join(", ")}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ""}; nothing was changed`,
      {
        accounts: unknown.slice(0, 100),
      },
    );
  }
  const recs = found.map(([, r]) => r!.value);
  const lists = recs.filter((r) => r.type !== "account").map((r) => r.name);
  if (lists.length) {
    throw new AppError(
      "DISTRIBUTION_LIST_UNSUPPORTED",
      `distribution lists cannot be replicated: ${lists.join(", ")}; name their member accounts instead; nothing was changed`,
      { accounts: lists },
    );
  }
  const seen = new Set<string>();
  return recs.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

/** Every admin method: the ones here, each feature's own list, and rpc.discover describing them. */
export function adminMethods(node: AdminMethodsContext): MethodTable<Ctx> {
  return withDiscover(
    methodTable<Ctx>(boundedAdminMethods([...coreAdminMethods(node), ...node.extraAdminMethods()], node.limits, node.expensive)),
    adminDocument(),
  );
}

function coreAdminMethods(node: AdminMethodsContext): RpcMethod<Ctx>[] {
  return [
    defineMethod({
      name: "setAccountDestination",
      params: ADMIN_METHODS.setAccountDestination.params,
      handler: async (p) => {
        await requireKnownMailstore(node, p.destination, "destination");
        const recs = await resolveAccounts(node, p.accounts);
        const own = recs.filter((r) => r.mailHost === p.destination).map((r) => r.name);
        if (own.length) {
          throw new AppError(
            "DESTINATION_IS_PRIMARY",
            `${p.destination} is already the primary of ${own.join(", ")}; choose another destination; nothing was changed`,
            { destination: p.destination, accounts: own },
          );
        }
        // The quota is held in the ledger before any record changes, and settled whatever happens.
        const hold = await node.licence.reserve(recs);
        try {
          return await node.replicaInit.start(recs, p.destination, p.priority, hold, p.delay);
        } finally {
          await hold
            .settle()
            .catch((e: Error) => node.log.warn({ error: e.message }, "quota ledger: settling a setAccountDestination hold failed; the reconciler recounts it"));
        }
      },
    }),
    defineMethod({
      name: "getAccountStatus",
      params: ADMIN_METHODS.getAccountStatus.params,
      handler: async (p) => {
        let recs = p.accounts
          ? await resolveAccounts(node, p.accounts)
          : (await node.directory.listAccounts()).filter((r) => r.type === "account" && r.replicas.length > 0);
        if (p.mailHost) recs = recs.filter((r) => p.mailHost!.includes(r.mailHost));
        if (p.replicaServer) recs = recs.filter((r) => r.replicas.some((x) => p.replicaServer!.includes(x.destination)));
        if (p.domains) {
          const domains = p.domains.map((d) => d.toLowerCase());
          recs = recs.filter((r) => domains.includes(r.name.slice(r.name.lastIndexOf("@") + 1)));
        }
        // The fan-out: every selected account is asked of its primary and each replica.
        refuseWideStatus(recs.length, node.limits.maxStatusAccounts);
        let views = await accountStatuses(node.assets, recs, await aliveMailstores(node.assets.nodes), () => node.clock.now());
        if (p.accountStatus) views = views.filter((v) => (p.accountStatus === "paused") === v.paused);
        if (p.replicaStatus) {
          const want = p.replicaStatus === "available";
          views = views.filter((v) => v.replicas.some((r) => r.available === want));
        }
        return { accounts: views, total: views.length };
      },
    }),
    defineMethod({
      name: "getServices",
      params: ADMIN_METHODS.getServices.params,
      handler: async () => ({ services: await listServices(node.directory, node.assets.nodes) }),
    }),
    defineMethod({
      name: "getAllAccounts",
      params: ADMIN_METHODS.getAllAccounts.params,
      handler: async (p) => {
        const { names, more } = await node.directory.listNames(p.prefix ?? "", p.limit);
        const accounts = [];
        for (const name of names) {
          const rec = (await node.directory.byName(name))?.value;
          // A name whose record is gone (a creation given back meanwhile) is left out.
          if (rec) accounts.push({ name: rec.name, id: rec.id, type: rec.type, mailHost: rec.mailHost, replicas: rec.replicas.length });
        }
        return { accounts, more };
      },
    }),
    defineMethod({
      name: "monitor",
      params: ADMIN_METHODS.monitor.params,
      handler: async (p) => {
        return monitorAnswer(await node.operations.get(p.operation_uuid), node.operations.maxPayload);
      },
    }),
  ];
}
