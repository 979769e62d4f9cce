// getAccountStatus (docs/jsonrpc.md): the directory's view of each account joined with what its
// primary and its replicas report, the log head, and each replica's lag.
import { AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { rpcCall } from "../../src/jsonrpc/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import type { Assets } from "../../src/jetstream/assets.js";
import { replicaDelay, type AccountRecord } from "../../src/directory/types.js";
import type { LocalAccountStatus } from "../../src/protocol/node_api.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";
import { emptyLogReason } from "../shared/empty_log.js";

export interface ReplicaStatusView {
  accountId: string;
  destination: string;
  priority: number;
  /** lagged replica: seconds an entry waits in the log before it is applied; 0: not lagged */
  delay: number;
  available: boolean;
  /** available | unavailable | paused | initializing | unreachable */
  status: string;
  /** applied seq on the destination */
  sequence: number;
  itemId: number;
  mailboxId: number | null;
  canConnectToNats: boolean;
  lagEvents: number;
  lagMs: number;
  lastAppliedAt: number | null;
  error: string | null;
}

export interface AccountStatusView {
  accountId: string;
  accountName: string;
  accountMailHost: string;
  paused: boolean;
  mailboxId: number | null;
  epoch: number;
  /** log head: the last seq of mr.tx.<id> */
  sequence: number;
  /** last item id on the primary */
  itemId: number;
  replicas: ReplicaStatusView[];
}

/** Asks each mailstore, once, for the accounts it holds; an unreachable one maps to undefined. */
export async function localStatuses(
  nc: NatsConnection,
  byHost: Map<string, string[]>,
  timeoutMs = 3_000,
): Promise<Map<string, Map<string, LocalAccountStatus> | undefined>> {
  const out = new Map<string, Map<string, LocalAccountStatus> | undefined>();
  await Promise.all(
    [...byHost].map(async ([host, ids]) => {
      try {
        const r = await rpcCall<{ accounts: LocalAccountStatus[] }>(nc, nodeAdminSubject(host), "accountStatus", { accounts: ids }, { timeoutMs });
        out.set(host, new Map(r.accounts.map((a) => [a.accountId, a])));
      } catch {
        out.set(host, undefined);
      }
    }),
  );
  return out;
}

/** Number of entries of `subject` after `appliedSeq`, and the age of the first of them. */
export async function subjectLag(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  appliedSeq: number,
  now: number,
): Promise<{ events: number; ms: number }> {
  // Direct get (the streams allow it); null: nothing after the applied seq.
  const first = await jsm.direct.getMessage(stream, { seq: appliedSeq + 1, next_by_subj: subject }).catch(() => null);
  if (first === null) return { events: 0, ms: 0 };
  // An ephemeral consumer's pending count is the exact number of entries still to apply.
  const ci = await jsm.consumers.add(stream, {
    filter_subject: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: first.seq,
    ack_policy: AckPolicy.None,
    inactive_threshold: 5_000_000_000,
    mem_storage: true,
    num_replicas: 1,
  });
  await jsm.consumers.delete(stream, ci.name).catch(() => {});
  return { events: ci.num_pending, ms: Math.max(0, now - first.time.getTime()) };
}

async function inBatches<T, R>(items: T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

export async function accountStatuses(assets: Assets, accounts: AccountRecord[], alive: Set<string>, now: () => number): Promise<AccountStatusView[]> {
  const byHost = new Map<string, string[]>();
  const add = (host: string, id: string) => (byHost.get(host) ?? byHost.set(host, []).get(host)!).push(id);
  for (const a of accounts) {
    add(a.mailHost, a.id);
    for (const r of a.replicas) add(r.destination, a.id);
  }
  const local = await localStatuses(assets.nc, byHost);
  const heads = new Map<string, number>();
  await inBatches(accounts, 64, async (a) => {
    heads.set(a.id, await new SubjectLog(assets.js, assets.jsm, assets.opts.txStream, txSubject(a.id)).lastSeq());
  });
  return inBatches(accounts, 16, async (a): Promise<AccountStatusView> => {
    const head = heads.get(a.id) ?? 0;
    const primary = local.get(a.mailHost)?.get(a.id);
    const replicas = await Promise.all(
      a.replicas.map(async (r): Promise<ReplicaStatusView> => {
        const reached = local.get(r.destination);
        const st = reached?.get(a.id);
        const canConnect = reached !== undefined && alive.has(r.destination);
        const applied = st?.appliedSeq ?? 0;
        const lag = applied >= head ? { events: 0, ms: 0 } : await subjectLag(assets.jsm, assets.opts.txStream, txSubject(a.id), applied, now());
        let status: string = !canConnect ? "unreachable" : r.state === "paused" ? "paused" : (st?.status ?? "initializing");
        if (status === "available" && applied === 0 && head > 0) status = "initializing";
        // Every account's log starts with account.created: an empty one means its entries
        // were removed, and a replica at 0 over it saw nothing (never "available").
        const emptyLog = status === "available" && applied === 0 && head === 0;
        if (emptyLog) status = "unavailable";
        return {
          accountId: a.id,
          destination: r.destination,
          priority: r.priority,
          delay: replicaDelay(r),
          available: canConnect && r.state !== "paused" && st?.status === "available" && !emptyLog,
          status,
          sequence: applied,
          itemId: st?.lastItemId ?? 0,
          mailboxId: st?.mailboxId ?? null,
          canConnectToNats: canConnect,
          lagEvents: lag.events,
          lagMs: lag.ms,
          lastAppliedAt: st?.appliedAt ?? null,
          error:
            st?.error ??
            (emptyLog
              ? emptyLogReason(a.id, r.destination)
              : reached === undefined
                ? `mailstore ${r.destination} does not answer; check it runs (getServices)`
                : null),
        };
      }),
    );
    return {
      accountId: a.id,
      accountName: a.name,
      accountMailHost: a.mailHost,
      paused: a.replicas.length > 0 && a.replicas.every((r) => r.state === "paused"),
      mailboxId: primary?.mailboxId ?? null,
      epoch: a.epoch,
      sequence: head,
      itemId: primary?.lastItemId ?? 0,
      replicas: replicas.sort((x, y) => x.priority - y.priority || x.destination.localeCompare(y.destination)),
    };
  });
}
