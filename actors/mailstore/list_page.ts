// listItems pages bounded in bytes as well as by `limit`: a page of items with large
// metadata (long subjects, thousands of recipients) must still fit in one NATS message.
import type { ItemList, ItemSummary } from "../../src/store/index.js";

/**
 * Bytes kept free below the server's max_payload for the JSON-RPC envelope around a page
 * (`{"jsonrpc":"2.0","result":...,"id":...}`, an id of up to a few KiB) and its own fields.
 */
export const PAGE_ENVELOPE_RESERVE_BYTES = 16 * 1024;

/** nats-server's default max_payload (1 MiB), used when the connection has not said its own. */
export const DEFAULT_NATS_MAX_PAYLOAD = 1024 * 1024;

/** A page as listItems answers it: the store's page, plus where the next one starts. */
export interface BoundedItemPage extends ItemList {
  /** true when items after this page exist (cut by `limit` or by the byte budget) */
  more: boolean;
  /** offset of the next page, when `more` */
  nextOffset?: number;
}

/**
 * Keeps the leading items of `page` (which started at `offset`) whose JSON answer stays within
 * `budgetBytes`, and says where the rest starts. At least one item is kept, so paging always
 * moves on (an item too large alone is then refused by the answer's own size check).
 */
export function boundPage(page: ItemList, offset: number, budgetBytes: number): BoundedItemPage {
  // The answer's fixed part, with the largest values its numbers can take.
  let used = Buffer.byteLength(JSON.stringify({ items: [], total: page.total, more: true, nextOffset: offset + page.items.length }), "utf8");
  const kept: ItemSummary[] = [];
  for (const item of page.items) {
    const size = Buffer.byteLength(JSON.stringify(item), "utf8") + (kept.length > 0 ? 1 : 0);
    if (kept.length > 0 && used + size > budgetBytes) break;
    kept.push(item);
    used += size;
  }
  const next = offset + kept.length;
  const more = next < page.total;
  return more ? { items: kept, total: page.total, more, nextOffset: next } : { items: kept, total: page.total, more };
}
