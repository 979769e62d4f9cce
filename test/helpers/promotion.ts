// Helpers for the promotion fault tests: accounts with replicas set up in bulk, operations
// followed to their end through `monitor`, liveness from getServices and from the heartbeats
// in the nodes bucket, the directory read
// straight from the KV (also while no supervisor answers), and the Promoted events of a log.
import type { AccountRecord } from "../../src/directory/types.js";
import { Directory } from "../../src/directory/directory.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import type { MetadataStore } from "../../src/store/index.js";
import { rawMessage, type TestSystem } from "./system.js";
import { waitFor } from "./processes.js";
import type { LoggedBatch } from "./workload.js";
import { Kvm, type KV } from "@nats-io/kv";
import type { HeartbeatRecord } from "../../actors/shared/heartbeat.js";

export interface PromotedEntry {
  seq: number;
  epoch: number;
  host: string;
  writer: string;
  from?: string;
}

/** What `monitor` answers for a promoteAccounts operation. */
export interface PromotionMonitor {
  operationId: string;
  kind: string;
  state: string;
  owner: string;
  total: number;
  done: number;
  progress: number;
  promoted: Array<{ account: string; accountId: string; from: string; to: string; epoch: number }>;
  /** for promoteAccounts, `failed` is the list of failed accounts (the count is total - done at the end) */
  failed: Array<{ account: string; accountId?: string; code?: string; message?: string }>;
  [k: string]: unknown;
}

/**
 * Creates `names` on `mailHost` through mr.rpc.mailbox, `concurrency` at a time, with
 * `messages` deliveries each; returns name -> account id.
 */
export async function createAccounts(
  sys: TestSystem,
  names: string[],
  mailHost: string,
  opts: { concurrency?: number; messages?: number } = {},
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  await runBounded(names, opts.concurrency ?? 16, async (name) => {
    const { id } = await sys.mailbox("createAccount", { name, mailHost }, 30_000);
    ids.set(name, id);
    for (let m = 0; m < (opts.messages ?? 0); m++) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(m, name) }, 30_000);
  });
  return ids;
}

/** setAccountDestination for `names`, followed until the operation ends; it must succeed. */
export async function addReplicas(sys: TestSystem, names: string[], destination: string, priority: number, timeoutMs = 120_000): Promise<void> {
  const { operationId } = await sys.admin("setAccountDestination", { destination, priority, accounts: names }, timeoutMs);
  const m = await waitOperationEnd(sys, operationId, timeoutMs);
  if (m.state !== "successful") {
    throw new Error(
      `setAccountDestination ${destination} ended ${m.state}: ${JSON.stringify((m.results as Array<{ ok: boolean }>).filter((r) => !r.ok).slice(0, 3))}`,
    );
  }
}

/**
 * Follows an operation with `monitor` until its state is no longer running; every snapshot
 * seen goes to `onSnapshot`. Calls that fail (no supervisor answering for a while) are retried.
 */
export async function waitOperationEnd(sys: TestSystem, operationId: string, timeoutMs = 60_000, onSnapshot?: (m: any) => void, everyMs = 50): Promise<any> {
  let last: unknown;
  try {
    return await waitFor(
      `operation ${operationId} to end`,
      async () => {
        const m = await sys.admin("monitor", { operation_uuid: operationId }, 5_000);
        last = { state: m.state, done: m.done, failed: m.failed, total: m.total, owner: m.owner };
        onSnapshot?.(m);
        return m.state !== "running" ? m : undefined;
      },
      timeoutMs,
      everyMs,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last monitor: ${JSON.stringify(last)}`);
  }
}

/** promoteAccounts, followed to its end. */
export async function promote(sys: TestSystem, params: Record<string, unknown>, timeoutMs = 60_000): Promise<PromotionMonitor> {
  const { operationId } = await sys.admin("promoteAccounts", params);
  return waitOperationEnd(sys, operationId, timeoutMs);
}

/** Waits until getServices reports `host` alive (or not). */
export async function waitAlive(sys: TestSystem, host: string, alive: boolean, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `${host} ${alive ? "alive" : "not alive"} in getServices`,
    async () => {
      const s = (await sys.admin("getServices", {}, 5_000)).services.find((x: { host: string }) => x.host === host);
      return alive ? !!s?.alive : !!s && !s.alive;
    },
    timeoutMs,
    100,
  );
}

async function heartbeatAt(kv: KV, key: string): Promise<number> {
  const e = await kv.get(key);
  if (!e || e.operation !== "PUT" || e.length === 0) return 0;
  return (JSON.parse(new TextDecoder().decode(e.value)) as HeartbeatRecord).at;
}

/** Until each of `keys` (`node.<host>`, `supervisor.<name>`) in the nodes bucket holds a heartbeat written after `since` (epoch ms). */
export async function waitHeartbeatsAfter(sys: TestSystem, keys: string[], since: number, timeoutMs = 30_000): Promise<void> {
  const nodes = await new Kvm(sys.nc).open(sys.config.jetstream.buckets.nodes);
  for (const key of keys)
    await waitFor(`a heartbeat ${key} written after ${new Date(since).toISOString()}`, async () => (await heartbeatAt(nodes, key)) > since, timeoutMs, 200);
}

let directory: Directory | undefined;
let directoryOf: TestSystem | undefined;

/** The directory, read straight from the KV bucket (no supervisor needed). */
export async function directoryOfSystem(sys: TestSystem): Promise<Directory> {
  if (!directory || directoryOf !== sys) {
    directory = new Directory(await new Kvm(sys.nc).create(sys.config.jetstream.buckets.directory));
    directoryOf = sys;
  }
  return directory;
}

export async function directoryRecord(sys: TestSystem, accountId: string): Promise<AccountRecord> {
  return (await (await directoryOfSystem(sys)).get(accountId)).value;
}

/** The Promoted events of a log, in log order. */
export function promotedEntries(batches: LoggedBatch[]): PromotedEntry[] {
  const out: PromotedEntry[] = [];
  for (const { seq, batch } of batches) {
    for (const e of batch.events) {
      if (e.t === "promoted") out.push({ seq, epoch: e.epoch, host: e.host, writer: batch.writer, ...(e.from ? { from: e.from } : {}) });
    }
  }
  return out;
}

/**
 * Opens a mailstore's SQLite file (another process's, in WAL mode) for each check, closing it
 * after; waits until `check` returns a truthy value.
 */
export async function waitStoreFile<T>(
  sys: TestSystem,
  host: string,
  what: string,
  check: (s: MetadataStore) => T,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  return waitFor(
    what,
    () => {
      const s = sys.openStore(host);
      try {
        return check(s);
      } finally {
        s.close();
      }
    },
    timeoutMs,
    100,
  );
}

/** Reads a store file once (opened and closed). */
export function withStoreFile<T>(sys: TestSystem, host: string, read: (s: MetadataStore) => T): T {
  const s = sys.openStore(host);
  try {
    return read(s);
  } finally {
    s.close();
  }
}

/** Waits until every in-process mailstore's directory cache names `host` primary of each account. */
export async function waitRoutesTo(sys: TestSystem, accountIds: Iterable<string>, host: string, timeoutMs = 15_000): Promise<void> {
  const ids = [...accountIds];
  await waitFor(
    `every in-process mailstore routes ${ids.length} account(s) to ${host}`,
    () => [...sys.inProcess.values()].every((n) => ids.every((id) => n.accounts.get(id)?.mailHost === host)),
    timeoutMs,
    50,
  );
}
