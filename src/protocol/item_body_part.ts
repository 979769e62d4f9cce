// The answer of the mailbox method getItemBody on the wire: served by actors/mailstore/item_body.ts, read
// part by part by the CLI (src/cli/admin/item_download.ts).
/** One answer of getItemBody. */
export interface ItemBodyPart {
  id: number;
  /** where `data` starts in the body */
  offset: number;
  /** bytes in `data` */
  length: number;
  /** the whole body's bytes (the item's size) */
  size: number;
  /** SHA-256 of the whole body, hex: the same in every answer; check the assembled bytes against it */
  sha256: string;
  /** the bytes offset .. offset + length - 1, base64 */
  data: string;
  /** bytes follow this part */
  more: boolean;
  /** where the next part starts, when `more` */
  nextOffset?: number;
}
