import type { AccountRow, ItemRow, ReplicaStateRow } from "./statements.js";
import type { AccountInfo, ItemSummary, ReplicaRole, ReplicaState, ReplicaStatus } from "./types.js";

/** SQLite rows → the store's API objects. */
export function toReplicaState(r: ReplicaStateRow): ReplicaState {
  return {
    accountId: r.account_id,
    // The CHECK constraints of replica_state guarantee these values.
    role: r.role as ReplicaRole,
    epoch: r.epoch,
    appliedSeq: r.applied_seq,
    appliedAt: r.applied_at,
    status: r.status as ReplicaStatus,
    error: r.error,
    generation: r.generation,
    primaryHost: r.primary_host,
  };
}

export function toAccountInfo(r: AccountRow): AccountInfo {
  return { id: r.id, name: r.name, type: r.type, mailHost: r.mail_host, mailboxId: r.mailbox_id, lastItemId: r.last_item_id, createdAt: r.created_at };
}

export function toItemSummary(r: ItemRow): ItemSummary {
  const flags = parseList(r.flags);
  const tags = parseList(r.tags);
  return {
    id: r.id,
    folder: r.folder,
    from: r.sender,
    to: parseList(r.recipients),
    cc: parseList(r.cc),
    subject: r.subject,
    date: r.date,
    size: r.size,
    flags: [...flags, ...tags],
    tags,
  };
}

export function parseList(json: string): string[] {
  return JSON.parse(json) as string[];
}
