import { folderPathKey } from "../mail/folder_path.js";
import type { AccountRef, FolderRef, MailboxView, RecordedRequest } from "../mail/types.js";
import { subtreeParams, type Statements } from "./statements.js";

/** The domain's read view of one account, over the store's prepared statements. */
export class StoreMailboxView implements MailboxView {
  constructor(
    private readonly s: Statements,
    readonly accountId: string,
  ) {}

  account(): AccountRef | undefined {
    const row = this.s.accountById.get(this.accountId);
    return row && { id: row.id, name: row.name, mailHost: row.mail_host, lastItemId: row.last_item_id };
  }

  accountIdByName(name: string): string | undefined {
    return this.s.accountByName.get(name)?.id;
  }

  folderByPath(canonicalPath: string): FolderRef | undefined {
    const row = this.s.folderByKey.get(this.accountId, folderPathKey(canonicalPath));
    return row && { id: row.id, path: row.path, parentId: row.parent_id };
  }

  folderById(id: number): FolderRef | undefined {
    const row = this.s.folderById.get(this.accountId, id);
    return row && { id: row.id, path: row.path, parentId: row.parent_id };
  }

  subtreeSize(folder: FolderRef): { folders: number; items: number } {
    const range = subtreeParams(this.accountId, folderPathKey(folder.path));
    return { folders: this.s.countSubtreeFolders.get(range) ?? 0, items: this.s.countSubtreeItems.get(range) ?? 0 };
  }

  request(requestId: string): RecordedRequest | undefined {
    const row = this.s.requestById.get(this.accountId, requestId);
    return row && { digest: row.params_digest, result: JSON.parse(row.result) as unknown, seq: row.seq };
  }

  missingItems(ids: readonly number[]): number[] {
    return ids.filter((id) => this.s.itemExists.get(this.accountId, id) === undefined);
  }
}
