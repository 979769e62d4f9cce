// The nemesis's checker: the primary's copy of each account against what its client knows
// (AccountModel), and every replica's copy against the primary's. Copies are read straight from
// each mailstore's SQLite file (MetadataStore.dumpAccount), independent of the code under test's
// own comparison (verifyReplicas), which the run asks as well when the supervisor has it.
import type { AccountDump } from "../../../src/store/index.js";
import { firstDifference } from "../workload.js";
import { SYSTEM_FOLDERS, flagsKey, type AccountModel, type ItemModel } from "./account_model.js";

export type FindingKind = "lost" | "duplicated" | "divergent" | "unexpected";

export interface Finding {
  kind: FindingKind;
  account: string;
  detail: string;
}

const bare = (messageId: string): string => messageId.replace(/^<|>$/g, "");
const SYSTEM = new Set<string>(SYSTEM_FOLDERS.map((f) => f.toLowerCase()));

const history = (it: ItemModel): string => ` [history: ${it.history.slice(-4).join("; ")}]`;

/** Every way the primary's copy of an account differs from what its writer was told. */
export function checkPrimary(model: AccountModel, host: string, dump: AccountDump): Finding[] {
  const out: Finding[] = [];
  const account = model.account;
  const at = `on primary ${host}`;
  if (dump.account === null) return [{ kind: "lost", account, detail: `the account is missing ${at}` }];
  const folderPath = new Map(dump.folders.map((f) => [f.id, f.path]));
  const byMessage = new Map<string, AccountDump["items"]>();
  for (const row of dump.items) {
    const k = bare(row.messageId);
    byMessage.set(k, [...(byMessage.get(k) ?? []), row]);
  }
  for (const it of model.items.values()) {
    const rows = byMessage.get(it.messageId) ?? [];
    byMessage.delete(it.messageId);
    const what = `message ${it.messageId} ("${it.subject}"${it.itemId !== undefined ? `, item ${it.itemId}` : ""})`;
    if (rows.length > 1) {
      out.push({
        kind: "duplicated",
        account,
        detail: `${what} is stored ${rows.length} times ${at} (items ${rows.map((r) => r.id).join(", ")}); delivery ${it.delivery === "acked" ? "acknowledged" : "of unknown outcome"}${history(it)}`,
      });
      continue;
    }
    const row = rows[0];
    if (it.delivery === "maybe" || it.present === "maybe") continue;
    if (it.present === "yes" && row === undefined) {
      out.push({ kind: "lost", account, detail: `${what} is missing ${at}${history(it)}` });
      continue;
    }
    if (it.present === "no" && row !== undefined) {
      out.push({ kind: "lost", account, detail: `${what} is still ${at} (item ${row.id}) although its deletion was acknowledged${history(it)}` });
      continue;
    }
    if (row === undefined) continue;
    const folder = folderPath.get(row.folderId);
    if (it.folder !== null && folder !== it.folder) {
      out.push({
        kind: "lost",
        account,
        detail: `${what} is in ${folder ?? `folder id ${row.folderId}`} ${at}, acknowledged writes put it in ${it.folder}${history(it)}`,
      });
    }
    const flags = flagsKey(row.flags, row.tags);
    if (it.flags !== null && flags !== it.flags) {
      out.push({ kind: "lost", account, detail: `${what} has flags ${flags} ${at}, acknowledged writes set ${it.flags}${history(it)}` });
    }
  }
  for (const [messageId, rows] of byMessage) {
    out.push({ kind: "unexpected", account, detail: `message ${messageId} (items ${rows.map((r) => r.id).join(", ")}) is ${at} but its writer never sent it` });
  }
  const actual = new Set(dump.folders.map((f) => f.path).filter((p) => !SYSTEM.has(p.toLowerCase())));
  for (const [path, presence] of model.folders) {
    if (presence === "yes" && !actual.has(path))
      out.push({ kind: "lost", account, detail: `folder ${path} is missing ${at}; acknowledged writes created or renamed it there` });
  }
  for (const path of actual) {
    if (!model.folders.has(path))
      out.push({ kind: "lost", account, detail: `folder ${path} exists ${at}; acknowledged writes renamed or deleted it, or none created it` });
  }
  return out;
}

/** What two copies of an account must agree on: every replicated row (local-only columns left out). */
function comparable(d: AccountDump): unknown {
  return { lastItemId: d.account?.lastItemId ?? null, folders: d.folders, items: d.items, tags: d.tags };
}

/** The first difference between a replica's copy and the primary's, as a finding. */
export function compareCopies(account: string, primary: string, primaryDump: AccountDump, replica: string, replicaDump: AccountDump): Finding | undefined {
  const diff = firstDifference(comparable(primaryDump), comparable(replicaDump));
  return diff ? { kind: "divergent", account, detail: `the copy on ${replica} differs from the primary's on ${primary}: ${diff}` } : undefined;
}
