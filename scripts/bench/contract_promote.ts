// Failover at scale (issue 11, promote_1k_s / promote_10k_s): the primary mailstore of N
// accounts, each replicated to one destination, is killed with SIGKILL; once the supervisor
// sees it dead (no fresh heartbeat), promoteAccounts source_mail_host=<it> is called, and the
// figure is the time from that call until every one of the N accounts accepted a write on its
// new primary. 64 clients write to each account through mr.rpc.mailbox (createFolder with a
// requestId, so a retry never writes twice) as soon as the directory names a primary other
// than the killed one (a watch on the directory, as every mailstore follows it); a write
// refused or unanswered goes back to the end of the queue and is sent again after 50 ms.
// Writes used to be sent from the start, each refusal retried after 200 ms: 64 clients then
// needed ~30 s just to come back once to each of 10,000 accounts, which bounded promote_10k_s
// from below whatever the promotion cost.
//
// More than ACCOUNTS_PER_OPERATION accounts are promoted by several promoteAccounts calls,
// each naming at most that many accounts, all sent at once: one call for 10,000 accounts was
// refused (Internal error) while the operation's record, which lists every account's id,
// name and epoch, was one KV value over the server's max_payload (docs/benchmarks.md). It is
// stored in pieces now; the calls stay split so the figures compare with earlier runs.
import { Kvm } from "@nats-io/kv";
import { errorCode } from "../../test/helpers/workload.js";
import { Directory } from "../../src/directory/directory.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { ACCOUNTS_PER_OPERATION } from "./contract_accounts.js";
import type { BenchEnv, ChildMailstore } from "./env.js";
import { now, sleep, waitFor } from "./util.js";

const CLIENTS = 64;
const CALL_TIMEOUT_MS = 2_000;
const RETRY_AFTER_MS = 50;

export interface PromoteResult {
  accounts: number;
  /** from the kill until getServices reported the source dead (not part of the figure) */
  detectS: number;
  /** from promoteAccounts until every account accepted a write: promote_<N>_s */
  promoteS: number;
  /** write attempts refused or unanswered before each account's promotion, by error code */
  refused: Record<string, number>;
  /** promoteAccounts calls (operations) the accounts were promoted by */
  operations: number;
  /** each operation's state as monitor reported it after the writes, or why monitor failed */
  operation: string;
  /** the timed window on performance.now(): promoteAccounts sent, the last write accepted */
  windowMs?: [number, number];
}

/** `threads`: promoteAccounts' threads (the contract keys use the default; promote_alone.ts may set it). */
export async function benchPromote(env: BenchEnv, source: ChildMailstore, ids: string[], log: (l: string) => void, threads?: number): Promise<PromoteResult> {
  const killed = now();
  await source.kill9();
  await waitFor(
    `getServices to report ${source.host} dead`,
    async () => {
      const s = (await env.admin<{ services: Array<{ host: string; alive: boolean }> }>("getServices", {})).services.find((x) => x.host === source.host);
      return !!s && !s.alive;
    },
    60_000,
    50,
  );
  const detectS = (now() - killed) / 1000;
  log(`promote ${ids.length}: ${source.host} killed, seen dead after ${detectS.toFixed(1)} s; promoteAccounts`);

  // Watched before the promotion starts, so no move is missed; the records as they were (the
  // killed primary) are not queued.
  const queue: string[] = [];
  const wanted = new Set(ids);
  const directory = new Directory(await new Kvm(env.nc).open(env.config.jetstream.buckets.directory));
  const watch = await directory.watchAccounts((rec) => {
    if (rec.mailHost !== source.host && wanted.delete(rec.id)) queue.push(rec.id);
  });
  const t0 = now();
  const operationIds = await startPromotions(env, source.host, ids, threads === undefined ? {} : { threads }).catch((e: unknown) => {
    watch.stop();
    throw e;
  });
  let accepted = 0;
  let last = t0;
  const refused: Record<string, number> = {};
  const firstMessage: Record<string, string> = {};
  const deadline = t0 + 600_000;
  let ended: string | undefined;
  const progress = setInterval(
    () =>
      void operationsState(env, operationIds).then((state) => {
        log(
          `promote ${ids.length}: ${accepted} accepted a write so far (operation: ${state}); refused: ${JSON.stringify(refused)} (${JSON.stringify(firstMessage)})`,
        );
        if (/\b(failed|stopped|interrupted|removed),/.test(state)) ended = state;
      }),
    5_000,
  );
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (accepted < ids.length) {
        if (ended) throw new Error(`promote ${ids.length}: the operation ended ${ended}`);
        if (now() > deadline)
          throw new Error(`promote ${ids.length}: ${ids.length - accepted} accounts accepted no write within 600 s; refused: ${JSON.stringify(firstMessage)}`);
        const id = queue.shift();
        if (id === undefined) {
          await sleep(5);
          continue;
        }
        try {
          await env.mailbox("createFolder", { account: id, path: "after-promotion", requestId: `promoted-${id}` }, "mr.rpc.mailbox", CALL_TIMEOUT_MS);
          accepted++;
          last = now();
        } catch (e) {
          const code = errorCode(e);
          refused[code] = (refused[code] ?? 0) + 1;
          firstMessage[code] ??= (e as Error).message;
          queue.push(id);
          await sleep(RETRY_AFTER_MS);
        }
      }
    }),
  ).finally(() => {
    clearInterval(progress);
    watch.stop();
  });
  const promoteS = (last - t0) / 1000;
  const operation = await operationsState(env, operationIds);
  log(
    `promote ${ids.length}: every account accepted a write ${promoteS.toFixed(2)} s after promoteAccounts (operation: ${operation}; refused before: ${JSON.stringify(refused)})`,
  );
  return { accounts: ids.length, detectS, promoteS, refused, operations: operationIds.length, operation, windowMs: [t0, last] };
}

/** promoteAccounts source_mail_host=<source>, or, for more accounts than one operation holds, calls naming them in slices, all sent at once. */
async function startPromotions(env: BenchEnv, source: string, ids: string[], extra: { threads?: number }): Promise<string[]> {
  if (ids.length <= ACCOUNTS_PER_OPERATION)
    return [(await env.admin<{ operationId: string }>("promoteAccounts", { source_mail_host: source, ...extra })).operationId];
  const slices = [...Array(Math.ceil(ids.length / ACCOUNTS_PER_OPERATION)).keys()].map((k) =>
    ids.slice(k * ACCOUNTS_PER_OPERATION, (k + 1) * ACCOUNTS_PER_OPERATION),
  );
  const out: string[] = [];
  await runBounded(slices, slices.length, async (accounts) => {
    out.push((await env.admin<{ operationId: string }>("promoteAccounts", { accounts, ...extra })).operationId);
  });
  return out;
}

/** Each operation's state and counts as monitor reports them (same ones counted once), or why monitor failed. */
async function operationsState(env: BenchEnv, operationIds: string[]): Promise<string> {
  const states = await Promise.all(operationIds.map((id) => operationState(env, id)));
  const counts = new Map<string, number>();
  for (const st of states) counts.set(st, (counts.get(st) ?? 0) + 1);
  return [...counts].map(([st, n]) => (n > 1 ? `${n} x ${st}` : st)).join("; ");
}

/** The operation's state and counts as monitor reports them, or why monitor failed. */
async function operationState(env: BenchEnv, operationId: string): Promise<string> {
  try {
    const m = await env.admin<{ state: string; done: number; failed: unknown[] }>("monitor", { operation_uuid: operationId });
    return `${m.state}, ${m.done} done, ${m.failed.length} failed${m.failed.length ? ` (first: ${JSON.stringify(m.failed[0])})` : ""}`;
  } catch (e) {
    return `monitor failed: ${(e as Error).message}`;
  }
}
