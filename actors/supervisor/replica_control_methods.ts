// removeAccountDestination, pauseReplicas and restartReplicas on mr.rpc.admin (docs/jsonrpc.md,
// carbonio-reference §5.4-5.6). Each validates everything first, so a refusal changes
// nothing, then changes the account records by compare-and-set. The supervisor never talks to
// a destination to change it: every destination follows the directory (mailstore.ts,
// onAccountRecord), so a change made while a destination is down takes effect when it
// returns, and a supervisor that dies half-way leaves records that are each either changed or
// not.
//   - remove: the replica leaves the record; the destination drops its copy.
//   - pause: state "paused"; the destination stops applying (the log keeps the entries).
//   - restart: state "active" and generation + 1; the destination drops its copy and seeds
//     it again from the log, which also clears an "unavailable" replica.
import { AppError, defineMethod, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import type { AccountRecord, ReplicaRecord } from "../../src/directory/types.js";
import { resolveAccounts } from "./admin_methods.js";
import { localStatuses } from "./account_status.js";
import { aliveMailstores } from "./services.js";
import type { OperationRecord, OperationResult, Operations } from "./operations.js";
import { requireKnownMailstore, type KnownMailstoresContext } from "./known_mailstores.js";
import type { OperationEndNotifier, SupervisorCore } from "./context.js";
import type { LicenceQuota } from "./licence.js";
import { ADMIN_METHODS } from "../../src/protocol/admin_params.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";

/** How long removeAccountDestination waits for the destination to drop its copies. */
export const REMOVE_CONFIRM_MS = 10_000;
const REMOVE_POLL_MS = 200;
/** Records changed at once: fast for thousands of accounts without a request storm. */
const PARALLEL = 16;

/** What the replica control methods use of the supervisor. */
export interface ReplicaControlContext extends KnownMailstoresContext, Pick<SupervisorCore, "nc">, OperationEndNotifier {
  readonly operations: Operations;
  /** a removal gives back the quota of accounts left without a replica */
  readonly licence: LicenceQuota;
}

/** Thrown inside a compare-and-set change when the record already is as wanted: nothing is written. */
class Unchanged extends Error {}

function failureOf(rec: AccountRecord, e: unknown): OperationResult {
  const err = e as { code?: unknown; message?: string };
  return { account: rec.name, accountId: rec.id, ok: false, code: typeof err.code === "string" ? err.code : "APP_ERROR", message: err.message ?? String(e) };
}

function nameList(names: string[]): string {
  return `${names.slice(0, 20).join(", ")}${names.length > 20 ? ` and ${names.length - 20} more` : ""}`;
}

/**
 * The accounts whose replicas `matches` selects (those on `destination`, or all): the ones
 * named (each must have one, else REPLICA_NOT_FOUND naming them), or every account with one.
 */
async function selectAccounts(node: ReplicaControlContext, names: string[] | undefined, destination: string | undefined): Promise<AccountRecord[]> {
  const matches = (r: ReplicaRecord) => destination === undefined || r.destination === destination;
  if (!names) return (await node.directory.listAccounts()).filter((r) => r.type === "account" && r.replicas.some(matches));
  const recs = await resolveAccounts(node, names);
  const without = recs.filter((r) => !r.replicas.some(matches));
  if (without.length) {
    const shown = without.map((r) => (r.mailHost === destination ? `${r.name} (${destination} is its primary)` : r.name));
    throw new AppError(
      "REPLICA_NOT_FOUND",
      `no replica ${destination !== undefined ? `on ${destination} ` : ""}for ${nameList(shown)}; getAccountStatus lists where the replicas are; nothing was changed`,
      { accounts: without.slice(0, 100).map((r) => r.name), ...(destination !== undefined ? { destination } : {}) },
    );
  }
  return recs;
}

export function replicaControlMethods(node: ReplicaControlContext): RpcMethod<NatsRpcContext>[] {
  return [
    defineMethod({
      name: "removeAccountDestination",
      params: ADMIN_METHODS.removeAccountDestination.params,
      handler: async (p) => {
        await requireKnownMailstore(node, p.destination, "destination");
        const recs = await selectAccounts(node, p.accounts, p.destination);
        return removeDestination(node, recs, p.destination);
      },
    }),
    defineMethod({
      name: "pauseReplicas",
      params: ADMIN_METHODS.pauseReplicas.params,
      handler: async (p) => changeReplicas(node, "pause", p.accounts, p.destination),
    }),
    defineMethod({
      name: "restartReplicas",
      params: ADMIN_METHODS.restartReplicas.params,
      handler: async (p) => changeReplicas(node, "restart", p.accounts, p.destination),
    }),
  ];
}

interface ReplicaChange {
  account: string;
  accountId: string;
  destination: string;
  /** the replica's status as getAccountStatus will show it: paused, or initializing while it seeds again */
  status: "paused" | "initializing";
  state: ReplicaRecord["state"];
  generation: number;
  /** false when the replica already was paused */
  changed: boolean;
}

async function changeReplicas(node: ReplicaControlContext, kind: "pause" | "restart", accounts: string[] | undefined, destination: string | undefined) {
  if (destination !== undefined) await requireKnownMailstore(node, destination, "destination");
  const matches = (r: ReplicaRecord) => destination === undefined || r.destination === destination;
  const recs = await selectAccounts(node, accounts, destination);
  const replicas: ReplicaChange[] = [];
  const failed: OperationResult[] = [];
  await runBounded(recs, PARALLEL, async (rec) => {
    let changes: ReplicaChange[] = [];
    try {
      await node.directory.updateAccount(rec.id, (cur) => {
        changes = [];
        for (const r of cur.replicas.filter(matches)) {
          const changed = kind === "restart" || r.state !== "paused";
          if (kind === "pause") r.state = "paused";
          else {
            r.state = "active";
            r.generation = (r.generation ?? 0) + 1;
          }
          changes.push({
            account: cur.name,
            accountId: cur.id,
            destination: r.destination,
            status: kind === "pause" ? "paused" : "initializing",
            state: r.state,
            generation: r.generation,
            changed,
          });
        }
        if (!changes.some((c) => c.changed)) throw new Unchanged();
        return cur;
      });
    } catch (e) {
      if (!(e instanceof Unchanged)) {
        failed.push(failureOf(rec, e));
        return;
      }
    }
    replicas.push(...changes);
  });
  replicas.sort((a, b) => a.account.localeCompare(b.account) || a.destination.localeCompare(b.destination));
  const n = replicas.filter((r) => r.changed).length;
  node.log.info({ changed: n, failed: failed.length }, kind === "pause" ? "pauseReplicas: replicas paused" : "restartReplicas: replicas restarted");
  return { replicas, total: replicas.length, ...(failed.length ? { failed } : {}) };
}

interface RemovedReplica {
  account: string;
  accountId: string;
  destination: string;
  priority: number;
  /** the destination no longer holds a copy */
  removed: boolean;
  reason?: string;
}

/**
 * Runs removeAccountDestination as an operation: drops the replica from each record, then
 * waits (at most REMOVE_CONFIRM_MS) until the destination no longer reports the accounts.
 * The directory change is what counts: a destination that is down drops its copies when it
 * comes back, so `removed: false` with a reason is still a successful removal.
 */
async function removeDestination(node: ReplicaControlContext, recs: AccountRecord[], destination: string) {
  const op = await node.operations.create("removeAccountDestination", recs.length, { destination, accounts: recs.map((r) => r.name) });
  const removed: Array<{ rec: AccountRecord; priority: number }> = [];
  const failed: OperationResult[] = [];
  // The quota comes back through the ledger: a release hold first, so the reconciler never
  // recounts while records change under it; only removals known to be written are subtracted.
  const hold = await node.licence.releasing(recs.length);
  try {
    await runBounded(recs, PARALLEL, async (rec) => {
      let priority = rec.replicas.find((r) => r.destination === destination)?.priority ?? 0;
      let disables = false;
      try {
        if (!hold.alive) throw new AppError("DIRECTORY_CONFLICT", "the quota hold of this removal was dropped as stale; retry", { account: rec.name });
        await node.directory.updateAccount(rec.id, (cur) => {
          const was = cur.replicas.find((r) => r.destination === destination);
          if (!was) throw new Unchanged(); // removed meanwhile (another command, a promotion)
          priority = was.priority;
          cur.replicas = cur.replicas.filter((r) => r.destination !== destination);
          disables = cur.replicas.length === 0;
          return cur;
        });
        if (disables) hold.mark(rec.id);
        removed.push({ rec, priority });
      } catch (e) {
        // Already gone from the record counts as removed: the destination follows the record.
        if (e instanceof Unchanged) removed.push({ rec, priority });
        else failed.push(failureOf(rec, e));
      }
    });
  } finally {
    await hold.settle().catch((e: Error) => node.log.warn({ error: e.message }, "quota ledger: settling a removal failed; the reconciler recounts it"));
  }
  const outcome = await confirmRemoval(
    node,
    destination,
    removed.map((r) => r.rec.id),
  );
  const accounts: Array<RemovedReplica | OperationResult> = removed.map(({ rec, priority }) => {
    const o = outcome.get(rec.id);
    return { account: rec.name, accountId: rec.id, destination, priority, removed: o?.removed ?? false, ...(o?.reason ? { reason: o.reason } : {}) };
  });
  accounts.push(...failed);
  accounts.sort((a, b) => a.account.localeCompare(b.account));
  const done = await recordAll(node, op, accounts);
  void node
    .notifyOperationEnd(done, `removal of the replicas on ${destination}`)
    .catch((e: Error) => node.log.warn({ operationId: op.operationId, error: e.message }, "operation end notification failed"));
  node.log.info(
    { destination, removed: removed.length, failed: failed.length, operationId: op.operationId },
    "removeAccountDestination: replicas removed from the directory",
  );
  return {
    operationId: op.operationId,
    state: done.state,
    destination,
    total: recs.length,
    removed: accounts.filter((a) => (a as RemovedReplica).removed === true).length,
    accounts,
  };
}

/** One save for all results: an operation record per account would rewrite it n times. */
async function recordAll(node: ReplicaControlContext, op: OperationRecord, accounts: Array<RemovedReplica | OperationResult>): Promise<OperationRecord> {
  for (const a of accounts) {
    const failure = "ok" in a && a.ok === false;
    op.results.push(failure ? (a as OperationResult) : { ...(a as RemovedReplica), ok: true });
    if (failure) op.failed++;
    else op.done++;
  }
  return node.operations.finish(op);
}

/** Per account: whether the destination stopped reporting it within REMOVE_CONFIRM_MS, and why not. */
async function confirmRemoval(node: ReplicaControlContext, destination: string, ids: string[]): Promise<Map<string, { removed: boolean; reason?: string }>> {
  const out = new Map<string, { removed: boolean; reason?: string }>();
  if (ids.length === 0) return out;
  if (!(await aliveMailstores(node.assets.nodes)).has(destination)) {
    for (const id of ids) out.set(id, { removed: false, reason: `${destination} is down (no heartbeat); it drops its copy when it starts again` });
    return out;
  }
  const pending = new Set(ids);
  let answered = false;
  const deadline = node.clock.now() + REMOVE_CONFIRM_MS;
  for (;;) {
    const local = (await localStatuses(node.nc, new Map([[destination, [...pending]]]), 2_000)).get(destination);
    if (local) {
      answered = true;
      for (const id of [...pending]) {
        if (!local.has(id)) {
          pending.delete(id);
          out.set(id, { removed: true });
        }
      }
    }
    if (pending.size === 0 || node.clock.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, REMOVE_POLL_MS));
  }
  const reason = answered
    ? `${destination} still held the copy after ${REMOVE_CONFIRM_MS / 1000} s; it drops it when it processes the directory change (check its log)`
    : `${destination} did not answer; it drops its copy when it processes the directory change`;
  for (const id of pending) out.set(id, { removed: false, reason });
  return out;
}
