// A mailstore applies a `promoted` event naming itself (DESIGN §7): the promotion's append
// reached the log but its own apply did not run (it crashed after the append, or the apply
// threw), so the replica agent met the entry later. The log says this host is primary: act
// as one, and move the directory if it is behind, by compare-and-set and only forward.
import { recordPromotion } from "./promotion_record.js";
import type { MailstoreNode } from "./mailstore.js";

export function takeOverPromoted(node: MailstoreNode, accountId: string, epoch: number): void {
  const rs = node.store.replicaState(accountId);
  if (!rs || rs.epoch > epoch) return; // a later promotion already moved the account on
  node.store.setRole(accountId, "primary");
  node.agent.setReplicated(accountId, undefined);
  node.log(`account ${accountId}: the log names this mailstore primary at epoch ${epoch}; taking over`);
  void recordPromotion(node.directory, accountId, { host: node.host, epoch }, node.clock.now()).then(
    (r) => {
      if (r.changed) node.log(`account ${accountId}: directory moved from ${r.before.host} (epoch ${r.before.epoch}) to ${node.host} (epoch ${epoch}), as the log says`);
    },
    (e: Error) => node.log(`account ${accountId}: directory not updated after the promotion here: ${e.message}; the supervisor's reconciler repairs it`),
  );
}
