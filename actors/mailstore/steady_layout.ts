// Which steady durables a mailstore has for the accounts replicated here (steady_filter.ts
// says why the filters list subjects, and why a list is kept short).
//
// Accounts are split into B shards by a hash of the account id (B a power of two, at most
// MAX_SHARDS): shard k of B is the accounts whose hash mod B is k, and each non-empty shard is
// one durable listing its accounts' subjects. Why a hash: an account's shard depends on B and
// its own id only, so adding or removing an account changes one durable's list (one update,
// position kept), and a restart finds the same layout on the server. Why powers of two: shard k
// of B is exactly shards k and k + B of 2B, and B grows only as far as the accounts need.
//
// B = 1 is the single durable of a mailstore replicating at most `max` accounts, named
// agentConsumerName(host) as before shards existed; B > 1 durables are named
// `${agentConsumerName(host)}_${B}_${k}` and carry their host in their metadata, so the
// leftovers of another layout are found (a host name may itself end in `_<digits>_<digits>`).
//
// B grows to the smallest power of two at which no shard lists more than `max` subjects, and
// shrinks only when the accounts fit into fewer shards with a quarter of `max` to spare: a set
// that hovers at a boundary does not re-shard (every re-shard catches up every account) on
// each add and remove.
import { txSubject } from "../../src/jetstream/assets.js";
import type { ListedFilter } from "./steady_filter.js";

/** Upper bound of B: past it (max × 1,024 accounts) shards list more than `max`, which costs only slower updates. */
export const MAX_SHARDS = 1_024;

/** The metadata key naming the host of a shard durable (B > 1). */
export const HOST_METADATA = "mr_replica_host";

/** FNV-1a, 32 bits: stable across processes and versions (the layout on the server depends on it). */
export function accountHash(accountId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    h ^= accountId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard (0 ≤ k < shards) of an account among `shards` (a power of two). */
export function shardOf(accountId: string, shards: number): number {
  return accountHash(accountId) & (shards - 1);
}

/** A durable's name: the base name itself for B = 1, else `${base}_${B}_${k}`. */
export function shardDurableName(base: string, shards: number, shard: number): string {
  return shards === 1 ? base : `${base}_${shards}_${shard}`;
}

/** The layout a durable's name belongs to (B = 1: the base name), or undefined when it is not one of `base`'s. */
export function parseShardDurableName(base: string, name: string): { shards: number; shard: number } | undefined {
  if (name === base) return { shards: 1, shard: 0 };
  if (!name.startsWith(`${base}_`)) return undefined;
  const m = /^_([0-9]+)_([0-9]+)$/.exec(name.slice(base.length));
  if (!m) return undefined;
  const shards = Number(m[1]);
  const shard = Number(m[2]);
  if (shards < 2 || shards > MAX_SHARDS || (shards & (shards - 1)) !== 0 || shard >= shards) return undefined;
  return { shards, shard };
}

/** Whether no shard of `shards` would list more than `max` of these accounts. */
export function shardsFit(accountIds: Iterable<string>, shards: number, max: number): boolean {
  return fits([...accountIds].map(accountHash), shards, Math.max(1, max));
}

/** Whether every shard of `shards` holds at most `max` of these hashes. */
function fits(hashes: readonly number[], shards: number, max: number): boolean {
  if (hashes.length <= max) return true;
  const counts = new Uint32Array(shards);
  for (const h of hashes) if (++counts[h & (shards - 1)]! > max) return false;
  return true;
}

function smallestFitting(hashes: readonly number[], max: number): number {
  let shards = 1;
  while (shards < MAX_SHARDS && !fits(hashes, shards, max)) shards *= 2;
  return shards;
}

/**
 * B for these accounts: the smallest power of two at which no shard lists more than `max`;
 * from a current B that fits, fewer only when they fit with a quarter of `max` to spare.
 */
export function shardCount(accountIds: Iterable<string>, max: number, current?: number): number {
  const hashes = [...accountIds].map(accountHash);
  const needed = smallestFitting(hashes, Math.max(1, max));
  if (current === undefined || needed > current) return needed;
  const roomy = smallestFitting(hashes, Math.max(1, Math.floor((max * 3) / 4)));
  return roomy < current ? roomy : current;
}

/** Each non-empty shard's durable name and filter (subjects sorted). */
export function shardLayout(base: string, accountIds: Iterable<string>, shards: number): Map<string, ListedFilter> {
  const byShard = new Map<number, string[]>();
  for (const id of accountIds) {
    const k = shardOf(id, shards);
    const list = byShard.get(k);
    if (list) list.push(txSubject(id));
    else byShard.set(k, [txSubject(id)]);
  }
  const out = new Map<string, ListedFilter>();
  for (const [k, subjects] of [...byShard].sort((a, b) => a[0] - b[0]))
    out.set(shardDurableName(base, shards, k), { kind: "subjects", subjects: subjects.sort() });
  return out;
}
