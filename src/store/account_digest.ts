// A digest of one account's replicated metadata, for verifyReplicas: every copy (primary
// and replicas) computes it from its own SQLite rows, and equal copies give equal digests.
//
// Canonical and independent of insertion order: one row per account / folder / item / tag,
// sorted by kind then id; each row hashed (sha256 of a fixed-order JSON array) and the
// digest is the sha256 of the row hashes in that order. Columns local to a mailstore
// (mailbox_id, applied_at, replica_state) are not part of it. The per-row hashes let two
// copies that differ find their first difference without sending whole mailboxes.
import { createHash } from "node:crypto";
import type { AccountDump } from "./types.js";

export type DigestRowKind = "account" | "folder" | "item" | "tag";

/** One replicated row: its kind, its id within the account (a tag's id is its name), its values. */
export interface DigestRow {
  kind: DigestRowKind;
  id: number | string;
  value: Record<string, unknown>;
  /** first 128 bits of sha256 over the canonical encoding, hex */
  hash: string;
}

/** A row as sent between processes when two digests differ: [kind, id, hash]. */
export type RowHash = [DigestRowKind, number | string, string];

export interface AccountDigest {
  /** sha256 hex over every row hash in order */
  digest: string;
  rows: DigestRow[];
}

const KIND_ORDER: Readonly<Record<DigestRowKind, number>> = { account: 0, folder: 1, item: 2, tag: 3 };

/** Order of rows: kind, then numeric id (folders, items) or name (tags). */
export function compareRowKeys(a: { kind: DigestRowKind; id: number | string }, b: { kind: DigestRowKind; id: number | string }): number {
  const k = KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  if (k !== 0) return k;
  if (typeof a.id === "number" && typeof b.id === "number") return a.id - b.id;
  const x = String(a.id);
  const y = String(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

function row(kind: DigestRowKind, id: number | string, value: Record<string, unknown>): DigestRow {
  // Field order is fixed by the object literals below, so JSON.stringify is canonical here.
  const hash = createHash("sha256")
    .update(JSON.stringify([kind, id, value]))
    .digest("hex")
    .slice(0, 32);
  return { kind, id, value, hash };
}

/** The canonical rows of a dump (MetadataStore.dumpAccount), sorted. */
export function digestRows(dump: AccountDump): DigestRow[] {
  const rows: DigestRow[] = [];
  const a = dump.account;
  if (a) rows.push(row("account", a.id, { name: a.name, type: a.type, mailHost: a.mailHost, lastItemId: a.lastItemId, createdAt: a.createdAt }));
  for (const f of dump.folders) rows.push(row("folder", f.id, { path: f.path, parentId: f.parentId }));
  for (const i of dump.items) {
    rows.push(
      row("item", i.id, {
        folderId: i.folderId,
        messageId: i.messageId,
        from: i.from,
        to: i.to,
        cc: i.cc,
        subject: i.subject,
        date: i.date,
        size: i.size,
        // Stored sorted; sorted again so the digest never depends on how a list was built.
        flags: sorted(i.flags),
        tags: sorted(i.tags),
        blob: i.blob,
      }),
    );
  }
  for (const t of dump.tags) rows.push(row("tag", t, {}));
  return rows.sort(compareRowKeys);
}

/** Digest and rows of a dump. */
export function accountDigest(dump: AccountDump): AccountDigest {
  const rows = digestRows(dump);
  const h = createHash("sha256");
  for (const r of rows) h.update(`${r.kind}\u0000${String(r.id)}\u0000${r.hash}\n`);
  return { digest: h.digest("hex"), rows };
}

/** The key of the first row that differs between two sorted row-hash lists (missing on one side counts), or undefined. */
export function firstDifferentRow(primary: readonly RowHash[], replica: readonly RowHash[]): { kind: DigestRowKind; id: number | string } | undefined {
  let i = 0;
  let j = 0;
  while (i < primary.length || j < replica.length) {
    const p = primary[i];
    const r = replica[j];
    if (!p) return { kind: r![0], id: r![1] };
    if (!r) return { kind: p[0], id: p[1] };
    const c = compareRowKeys({ kind: p[0], id: p[1] }, { kind: r[0], id: r[1] });
    if (c < 0) return { kind: p[0], id: p[1] };
    if (c > 0) return { kind: r[0], id: r[1] };
    if (p[2] !== r[2]) return { kind: p[0], id: p[1] };
    i++;
    j++;
  }
  return undefined;
}

/**
 * The fields that differ between two values of one row (both present): each side keeps only
 * those fields, so an operator sees e.g. `{ flags: ["seen"] }` against `{ flags: [] }`.
 */
export function differingFields(
  primary: Record<string, unknown>,
  replica: Record<string, unknown>,
): { primary: Record<string, unknown>; replica: Record<string, unknown> } {
  const p: Record<string, unknown> = {};
  const r: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(primary), ...Object.keys(replica)])) {
    if (JSON.stringify(primary[k]) === JSON.stringify(replica[k])) continue;
    p[k] = primary[k] ?? null;
    r[k] = replica[k] ?? null;
  }
  return { primary: p, replica: r };
}
