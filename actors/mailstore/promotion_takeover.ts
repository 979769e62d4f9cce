// A mailstore applies a `promoted` event naming itself (docs/architecture.md, Promotion): the promotion's append
// reached the log but its own apply did not run (it crashed after the append, or the apply
// threw), so the replica agent met the entry later. When that entry is still the newest of the
// log, the log says this host is primary: act as one, and move the directory if it is behind,
// (asking the supervisor, which alone writes it) by compare-and-set and only forward. A replica seeding again from the start of the log
// (restartReplicas) meets every old Promoted naming it too; entries after one mean the role
// moved on, so the copy stays a replica and keeps applying.
import { txSubject } from "../../src/jetstream/assets.js";
import type { Assets } from "../../src/jetstream/assets.js";
import type { Logger } from "../../src/log/index.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { DirectoryRequests } from "../shared/directory_requests.js";
import type { ReplicaAgent } from "./replica_agent.js";
import type { SnapshotTaker } from "./snapshot_taker.js";

/** What taking over uses of the mailstore (MailstoreNode passes itself). */
export interface TakeoverContext {
  assets: Assets;
  log: Logger;
  store: Pick<MetadataStore, "replicaState" | "setRole">;
  agent: Pick<ReplicaAgent, "setReplicated">;
  directoryRequests: Pick<DirectoryRequests, "recordPromotion">;
  snapshotter: Pick<SnapshotTaker, "noteDue">;
}

export function takeOverPromoted(node: TakeoverContext, accountId: string, epoch: number, seq: number, grant: string | undefined): void {
  void takeOverIfNewest(node, accountId, epoch, seq, grant).catch((e: Error) =>
    node.log.warn(
      { accountId, epoch, seq, error: e.message },
      "could not tell whether the promotion here is the newest entry; it stays a replica here until the directory names this mailstore",
    ),
  );
}

async function takeOverIfNewest(node: TakeoverContext, accountId: string, epoch: number, seq: number, grant: string | undefined): Promise<void> {
  const head = await node.assets.jsm.streams.getMessage(node.assets.opts.txStream, { last_by_subj: txSubject(accountId) });
  // Anything after the Promoted (a later promotion, or writes of whoever holds the role now)
  // is applied by the replica agent like any entry.
  if (!head || head.seq !== seq) return;
  const rs = node.store.replicaState(accountId);
  if (!rs || rs.epoch > epoch || rs.appliedSeq < seq || rs.role === "primary") return; // moved on meanwhile, or already primary
  node.store.setRole(accountId, "primary");
  node.agent.setReplicated(accountId, undefined);
  node.log.info({ accountId, epoch, seq }, "the log names this mailstore primary; taking over");
  node.snapshotter.noteDue(accountId);
  // The applied entry passed the authorship check, so it carries a valid grant for this host.
  const r = await node.directoryRequests.recordPromotion(accountId, epoch, grant ?? "").catch((e: Error) => {
    node.log.warn(
      { accountId, epoch, error: e.message, code: (e as { code?: unknown }).code },
      "directory not updated after the promotion here; the supervisor's reconciler repairs it",
    );
    return undefined;
  });
  if (r?.changed) node.log.info({ accountId, epoch }, "the supervisor moved the directory here, as the log says");
}
