// `monitor`'s answer for an operation record. An answer is one NATS message, so it must stay
// under the server's max_payload: an operation over many accounts (10,000 promoted accounts
// list about 1.5 MB) is answered with its counters, its params' short fields and as many
// outcomes as fit, failed ones first, marked `truncated` with the number `omitted`.
import type { OperationRecord, OperationResult } from "./operations.js";
import { jsonBytes, shortParams } from "./operation_chunks.js";

/** Room left in a message for the JSON-RPC envelope and the reply's headers. */
const ENVELOPE_BYTES = 4096;
/** Other operations than promoteAccounts list their newest outcomes, this many at most. */
const RESULTS_SHOWN = 1_000;

type Entry = Record<string, unknown>;

export function monitorAnswer(op: OperationRecord, maxPayload: number): Record<string, unknown> {
  const { results, ...summary } = op;
  const progress = op.total ? Math.round(((op.done + op.failed) / op.total) * 100) : 100;
  const budget = maxPayload - ENVELOPE_BYTES;
  if (op.kind === "promoteAccounts") {
    const strip = ({ ok: _ok, ...r }: OperationResult): Entry => r;
    const promoted = results.filter((r) => r.ok).map(strip);
    const failed = results.filter((r) => !r.ok).map(strip);
    const full = { ...summary, progress, promoted, failed };
    if (jsonBytes(full) <= budget) return full;
    const base = { ...summary, params: shortParams(op.params), progress, truncated: true };
    const [keptFailed, keptPromoted] = fill(budget - jsonBytes({ ...base, promoted: [], failed: [], omitted: op.total }), failed, promoted);
    return { ...base, promoted: keptPromoted, failed: keptFailed, omitted: results.length - keptFailed.length - keptPromoted.length };
  }
  const shown = results.slice(-RESULTS_SHOWN);
  const full = { ...summary, progress, results: shown };
  if (jsonBytes(full) <= budget) return full;
  const base = { ...summary, params: shortParams(op.params), progress, truncated: true };
  // Failed ones first, then the newest successes; listed in the order they were recorded.
  const indexed = shown.map((r, i) => ({ r, i }));
  const [keptFailed, keptOk] = fill(
    budget - jsonBytes({ ...base, results: [], omitted: op.total }),
    indexed.filter((x) => !x.r.ok),
    indexed.filter((x) => x.r.ok).reverse(),
  );
  const kept = [...keptFailed, ...keptOk].sort((a, b) => a.i - b.i).map((x) => x.r);
  return { ...base, results: kept, omitted: results.length - kept.length };
}

/** From `first`, then `second`, the first entries whose JSON fits in `room` bytes altogether. */
function fill<T>(room: number, first: T[], second: T[]): [T[], T[]] {
  let left = room;
  let full = false;
  const take = (list: T[]): T[] => {
    const kept: T[] = [];
    for (const x of list) {
      if (full) break;
      const bytes = jsonBytes(x) + 1;
      if (bytes > left) {
        full = true;
        break;
      }
      kept.push(x);
      left -= bytes;
    }
    return kept;
  };
  const a = take(first);
  return [a, take(second)];
}
