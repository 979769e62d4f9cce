// Builds a MethodTable from method definitions, refusing the mistakes that would otherwise
// only show up as a silently shadowed method at run time.
import type { MethodTable, RpcMethod } from "./types.js";

/**
 * A table of `methods` by name. Throws on a duplicate name, an empty name, or a name
 * starting with "rpc." (the spec reserves those for rpc-internal methods).
 */
export function methodTable<C = unknown>(methods: Iterable<RpcMethod<C>>): MethodTable<C> {
  const table = new Map<string, RpcMethod<C>>();
  for (const m of methods) {
    if (typeof m.name !== "string" || m.name === "") throw new Error("jsonrpc: a method needs a non-empty name");
    if (m.name.startsWith("rpc.")) throw new Error(`jsonrpc: method name ${m.name} is reserved (names starting with "rpc." belong to the JSON-RPC spec)`);
    if (table.has(m.name)) throw new Error(`jsonrpc: method ${m.name} is defined twice`);
    table.set(m.name, m);
  }
  return table;
}
