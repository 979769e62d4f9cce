// What each mailbox method on mr.rpc.mailbox answers, as JSON Schema (result_schema.ts).
// Writes answer the account log's decision (src/mail/commands.ts results), reads the store's
// rows (src/store/types.ts), getItemBody an ItemBodyPart (item_body_part.ts); a retry with the
// same requestId answers the first outcome, which has the same shape.
import { bool, extend, int, list, nullable, object, oneOf, optional, str, type ResultSchema } from "./result_schema.js";

/** A message as listItems lists it (store ItemSummary). */
export const ITEM_SUMMARY = object({
  id: int("item id"),
  folder: str("path of its folder"),
  from: str(),
  to: list(str()),
  cc: list(str()),
  subject: str(),
  date: int("ms since the Unix epoch"),
  size: int("bytes of the raw message"),
  flags: list(str(), "system flags, then keywords"),
  tags: list(str(), "keywords only"),
});

/** A folder as listFolders lists it (store FolderInfo). */
export const FOLDER_INFO = object({
  id: int(),
  path: str(),
  parentId: nullable(int("null for a top-level folder")),
  itemCount: int("items directly in it (not in its subfolders)"),
});

const FOLDER_RESULT = object({ id: int("folder id"), path: str("its canonical path") });
const ITEM_IDS = object({ ids: list(int(), "the ids changed, duplicates removed") });

/** Each mailbox method's answer. */
export const MAILBOX_RESULTS = {
  createAccount: object({
    id: str("account id (UUID)"),
    name: str("lower-case address"),
    mailHost: str("its primary"),
    type: oneOf(["account", "distributionList"]),
  }),
  deliverMessage: object({
    itemId: int(),
    folder: str("canonical path of the folder it went to"),
    size: int("bytes"),
    blob: str("name of the body in centralized storage (opaque)"),
  }),
  listItems: object({
    items: list(ITEM_SUMMARY, "newest first"),
    total: int("items matching, all pages together"),
    more: bool("items follow this page"),
    nextOffset: optional(int("offset of the next page, when more")),
  }),
  listFolders: object({ folders: list(FOLDER_INFO, "by id, system folders first") }),
  getItem: extend(ITEM_SUMMARY, {
    folderId: int(),
    messageId: str(),
    blob: str("name of the body in centralized storage (opaque)"),
    raw: str("the message's text (UTF-8 decoded; getItemBody reads the exact bytes)"),
  }),
  getItemBody: object({
    id: int(),
    offset: int("where data starts in the body"),
    length: int("bytes in data"),
    size: int("the whole body's bytes"),
    sha256: str("SHA-256 of the whole body, hex"),
    data: str("the bytes, base64"),
    more: bool("bytes follow this part"),
    nextOffset: optional(int("where the next part starts, when more")),
  }),
  setFlags: ITEM_IDS,
  moveItems: ITEM_IDS,
  deleteItems: ITEM_IDS,
  createFolder: FOLDER_RESULT,
  renameFolder: FOLDER_RESULT,
  deleteFolder: extend(FOLDER_RESULT, { deletedFolders: int("the folder and all its subfolders"), deletedItems: int("items in all of them") }),
} as const satisfies Record<string, ResultSchema>;
