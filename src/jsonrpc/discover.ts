// rpc.discover (OpenRPC service discovery) added to a method table: it answers with a
// document built once, and the table is checked against the document so the document never
// names a method the table lacks, or misses one it serves.
import { defineMethod } from "./params.js";
import { DISCOVER_METHOD, type OpenRpcDocument } from "./openrpc.js";
import type { MethodTable, RpcMethod } from "./types.js";

/**
 * `table` with rpc.discover answering `doc` (no params). Throws at start-up when the served
 * methods and the document's differ: a method added without its contract is a programming error.
 */
export function withDiscover<C>(table: MethodTable<C>, doc: OpenRpcDocument): MethodTable<C> {
  const served = [...table.keys()].sort();
  const described = doc.methods
    .map((m) => m.name)
    .filter((n) => n !== DISCOVER_METHOD)
    .sort();
  if (served.join("\n") !== described.join("\n")) {
    const missing = served.filter((n) => !described.includes(n));
    const extra = described.filter((n) => !served.includes(n));
    throw new Error(
      `jsonrpc: ${doc.info.title}: the served methods and rpc.discover's document differ (not described: ${missing.join(", ") || "none"}; described, not served: ${extra.join(", ") || "none"}); add each method's contract in src/protocol`,
    );
  }
  const discover: RpcMethod<C> = defineMethod<Record<string, never>, C>({ name: DISCOVER_METHOD, params: {}, handler: () => doc });
  return new Map([...table, [DISCOVER_METHOD, discover]]);
}
