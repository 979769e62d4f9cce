// Setting up the contract section's accounts fast: createAccount calls sent concurrently
// (the supervisor writes each directory record, the primary creates the actor and the first
// log entry), replicas added by setAccountDestination in operations of at most 1,000
// accounts (an operation's record, with one result per account, is one KV value, rewritten
// after every account), and waits read from the mailstores themselves.
import { runBounded } from "../../src/runtime/bounded_pool.js";
import type { BenchEnv, ChildMailstore } from "./env.js";
import { waitFor } from "./util.js";

/** Most accounts per setAccountDestination operation here (see above). */
export const ACCOUNTS_PER_OPERATION = 1_000;

/** Creates `count` accounts named `<prefix><i>@bench.example.com` on `mailHost`; their ids in order. */
export async function createAccounts(env: BenchEnv, prefix: string, count: number, mailHost: string, concurrency = 64): Promise<string[]> {
  const ids: string[] = new Array(count);
  await runBounded([...Array(count).keys()], concurrency, async (i) => {
    ids[i] = (await env.mailbox<{ id: string }>("createAccount", { name: `${prefix}${i}@bench.example.com`, mailHost })).id;
  });
  return ids;
}

/** One delivered message per account; the item ids in order. */
export async function deliverOne(env: BenchEnv, ids: string[], concurrency = 64): Promise<number[]> {
  const items: number[] = new Array(ids.length);
  await runBounded([...ids.keys()], concurrency, async (i) => {
    const raw = `From: a@example.org\r\nTo: user@bench.example.com\r\nSubject: bench ${i}\r\nMessage-ID: <c${i}@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n`;
    items[i] = (await env.mailbox<{ itemId: number }>("deliverMessage", { account: ids[i]!, raw })).itemId;
  });
  return items;
}

interface OperationView {
  state: string;
  done: number;
  failed: number;
  results?: Array<{ ok: boolean; account: string; code?: string; message?: string }>;
}

/** Follows an operation with `monitor` until it ends; throws unless it succeeded. */
export async function waitOperation(env: BenchEnv, what: string, operationId: string, timeoutMs = 600_000): Promise<OperationView> {
  const op = await waitFor(
    `${what} to end`,
    async () => {
      const m = await env.admin<OperationView>("monitor", { operation_uuid: operationId });
      return m.state !== "running" ? m : undefined;
    },
    timeoutMs,
    100,
  );
  if (op.state !== "successful") {
    const why = (op.results ?? []).filter((r) => !r.ok).slice(0, 3);
    throw new Error(`${what} ended ${op.state}: ${op.done} done, ${op.failed} failed (${JSON.stringify(why)})`);
  }
  return op;
}

/**
 * setAccountDestination to `destination` for `ids`, in operations of ACCOUNTS_PER_OPERATION
 * (`operations` of them running at once), then until each copy is available at its primary's head.
 */
export async function replicateTo(env: BenchEnv, ids: string[], primary: ChildMailstore, destination: ChildMailstore, operations = 4): Promise<void> {
  const starts = [...Array(Math.ceil(ids.length / ACCOUNTS_PER_OPERATION)).keys()].map((k) => k * ACCOUNTS_PER_OPERATION);
  await runBounded(starts, operations, async (i) => {
    const accounts = ids.slice(i, i + ACCOUNTS_PER_OPERATION);
    const { operationId } = await env.admin<{ operationId: string }>("setAccountDestination", { destination: destination.host, priority: 1, accounts });
    await waitOperation(env, `setAccountDestination ${destination.host} (accounts ${i}..${i + accounts.length - 1})`, operationId);
  });
  await waitAvailable(destination, ids, primary);
}

/** Until `copy` holds every account available, at least at the seq `primary` applied last. */
export async function waitAvailable(copy: ChildMailstore, ids: string[], primary: ChildMailstore, timeoutMs = 600_000): Promise<void> {
  const heads = (await primary.states(ids)).map((s) => s?.appliedSeq ?? 0);
  await waitFor(
    `${copy.host} to hold ${ids.length} accounts available at their heads`,
    async () => (await copy.states(ids)).every((s, i) => s?.status === "available" && s.appliedSeq >= heads[i]!),
    timeoutMs,
    100,
  );
}
