// What an account's log says about its primary (DESIGN §7), read by a mailstore for the
// supervisor: the newest entry, opened and checked. Every batch carries its writer's epoch
// and the writer is the primary of that epoch (a Promoted batch is written by the host it
// promotes; fencing keeps an older writer from appending after it), so the head entry names
// the log's current primary and epoch. One direct get per account, no replay.
// The supervisor asks a mailstore instead of reading the log itself: only mailstores hold the
// key that decrypts log entries and the signer keys that prove who wrote them.
import { open } from "../src/envelope/index.js";
import { txSubject } from "../src/jetstream/assets.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, rpcCall } from "../src/jsonrpc/index.js";
import { readTxBatch } from "./tx_batch.js";
import { nodeAdminSubject, type MailstoreNode } from "./mailstore.js";

export interface LogHead {
  accountId: string;
  /** seq of the newest entry (0: the log is empty) */
  seq: number;
  /** epoch of the newest entry (0: the log is empty) */
  epoch: number;
  /** the primary the log names: writer of the newest entry */
  host: string | null;
}


export async function readLogHead(node: MailstoreNode, accountId: string): Promise<LogHead> {
  let stored;
  try {
    stored = await node.assets.jsm.streams.getMessage(node.assets.opts.txStream, { last_by_subj: txSubject(accountId) });
  } catch (e) {
    throw new AppError("UNAVAILABLE", `cannot read the log head of ${accountId}: ${(e as Error).message}; check NATS (test) and retry`, { account: accountId });
  }
  // The client answers "no message found" with null: an empty log.
  if (stored === null) return { accountId, seq: 0, epoch: 0, host: null };
  const entry = stored;
  const openIt = () => readTxBatch(open(node.keyring, entry.data).payload, accountId, entry.seq);
  let batch;
  try {
    batch = openIt();
  } catch (e) {
    // A writer that registered after this mailstore last read the signer keys.
    if ((e as { code?: string }).code !== "ENVELOPE_UNKNOWN_SIGNER") throw e;
    await node.refreshSigners();
    batch = openIt();
  }
  return { accountId, seq: stored.seq, epoch: batch.epoch, host: batch.writer };
}

/** Asks `hosts` in order (logHead on mr.node.<host>.admin); undefined when none answers. */
export async function askLogHead(nc: NatsConnection, accountId: string, hosts: Iterable<string>, timeoutMs = 5_000): Promise<LogHead | undefined> {
  for (const host of hosts) {
    try {
      return await rpcCall<LogHead>(nc, nodeAdminSubject(host), "logHead", { account: accountId }, { timeoutMs });
    } catch {
      /* the next one */
    }
  }
  return undefined;
}
