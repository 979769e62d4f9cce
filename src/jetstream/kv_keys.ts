// Lists a KV bucket's keys without creating a consumer. The client's kv.keys() opens an
// ordered consumer per call that the server keeps until it has been idle a while; called per
// promotion or per status request, those piled up past nats-server 2.15's default limit of
// 1,000 consumers per stream ("maximum consumers limit reached"). Stream info with a subjects
// filter (paged by the client) names every subject that holds a message: every key with a
// value, and keys whose newest entry is a delete marker (callers read each key and skip those).
import { Bucket, type KV } from "@nats-io/kv";

/** Keys matching `filter` (a KV key pattern: `acct.*`, `mailstore.>`, `>`), sorted. */
export async function listKeys(kv: KV, filter = ">"): Promise<string[]> {
  if (!(kv instanceof Bucket)) {
    const keys: string[] = [];
    for await (const k of await kv.keys(filter)) keys.push(k);
    return keys.sort();
  }
  const prefix = `$KV.${kv.bucket}.`;
  const info = await kv.jsm.streams.info(kv.stream, { subjects_filter: `${prefix}${filter}` });
  return Object.keys(info.state.subjects ?? {})
    .filter((s) => s.startsWith(prefix))
    .map((s) => s.slice(prefix.length))
    .sort();
}
