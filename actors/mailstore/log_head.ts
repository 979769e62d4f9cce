// What an account's log says about its primary (docs/architecture.md, Promotion), read by a mailstore for the
// supervisor: from this mailstore's copy when it has applied up to the head (every entry was
// checked on the way), else from the head entry alone when it is a Promoted carrying a valid
// supervisor grant (an ordinary entry could claim any epoch). One direct get per account.
// The supervisor asks a mailstore instead of reading the log itself: only mailstores hold the
// key that decrypts log entries and the signer keys that prove who wrote them.
import { open } from "../../src/envelope/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { AppError } from "../../src/jsonrpc/index.js";
import { readTxBatch } from "./tx_batch.js";
import { checkAuthorship } from "./log_authorship.js";
import type { LogHead } from "../../src/protocol/node_api.js";
import type { Assets } from "../../src/jetstream/assets.js";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { ReplicaAgent } from "./replica_agent.js";

/** What reading a log head uses of the mailstore (MailstoreNode passes itself). */
export interface LogHeadContext {
  host: string;
  assets: Assets;
  keyring: EnvelopeKeyring;
  agent: Pick<ReplicaAgent, "isReplicated" | "catchUp">;
  store: Pick<MetadataStore, "replicaState">;
}

export async function readLogHead(node: LogHeadContext, accountId: string): Promise<LogHead> {
  let stored;
  try {
    stored = await node.assets.jsm.streams.getMessage(node.assets.opts.txStream, { last_by_subj: txSubject(accountId) });
  } catch (e) {
    throw new AppError("UNAVAILABLE", `cannot read the log head of ${accountId}: ${(e as Error).message}; check NATS (test) and retry`, { account: accountId });
  }
  // The client answers "no message found" with null: an empty log.
  if (stored === null) return { accountId, seq: 0, epoch: 0, host: null };
  const head = stored.seq;
  // A copy kept here has checked who wrote every entry (log_authorship.ts): when it has
  // applied up to the head, its epoch and primary are what the log says.
  if (node.agent.isReplicated(accountId)) await node.agent.catchUp(accountId);
  const rs = node.store.replicaState(accountId);
  if (rs && rs.status === "available" && rs.appliedSeq >= head && rs.primaryHost) {
    return { accountId, seq: rs.appliedSeq, epoch: rs.epoch, host: rs.primaryHost };
  }
  // No caught-up copy here: the head entry alone is believed only when it proves itself, i.e.
  // a Promoted with a valid supervisor grant. Any other entry only claims its epoch.
  const opened = open(node.keyring, stored.data);
  const batch = readTxBatch(opened.payload, accountId, head);
  try {
    checkAuthorship(node.keyring.trust, { epoch: batch.epoch - 1, primaryHost: "(unknown)", appliedSeq: head - 1 }, batch, opened.signer);
  } catch (e) {
    throw new AppError(
      "UNAVAILABLE",
      `${node.host} holds no caught-up copy of ${accountId} and its head entry (seq ${head}) does not prove its writer is primary (${(e as Error).message}); ask a mailstore that keeps the account`,
      { account: accountId },
    );
  }
  return { accountId, seq: head, epoch: batch.epoch, host: batch.writer };
}
