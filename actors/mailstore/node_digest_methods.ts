// What a mailstore answers for verifyReplicas on mr.node.<host>.admin: the digest of its copy
// of an account at the log sequence it has applied, and — only when digests differ — the
// per-row hashes (paged, so no answer nears NATS max_payload) and the values of named rows.
//
// The digest, its seq and its rows come from one synchronous read of the store (the replica
// state, then the account's rows, with no await between them), and this process is the only
// writer of its SQLite file: the digest is exactly the copy at `seq`.
import { AppError, defineMethod, int, strList, type NatsRpcContext, type RpcMethod } from "../../src/jsonrpc/index.js";
import { accountDigest, type AccountDigest, type DigestRowKind, type RowHash } from "../../src/store/account_digest.js";
import { moduleRunning } from "./node_service_methods.js";
import { accountIdParam } from "../../src/directory/key_params.js";
import { DIGEST_ROWS_PAGE, type CopyDigest } from "../../src/protocol/node_api.js";
import type { AccountRecord } from "../../src/directory/types.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { ReplicaAgent } from "./replica_agent.js";

/**
 * What the digest methods use of the mailstore. MailstoreNode passes itself: the same object
 * its service methods got, whose replication module state (moduleRunning) is asked here.
 */
export interface NodeDigestContext {
  host: string;
  store: Pick<MetadataStore, "replicaState" | "dumpAccount">;
  agent: Pick<ReplicaAgent, "catchUp">;
  accountRecord(idOrName: string): Promise<AccountRecord>;
  /** the account's actor (started on first use); throws when this mailstore is not its primary */
  accountActor(rec: AccountRecord): unknown;
}

/** How long a computed digest serves the row pages that follow it. */
const CACHE_MS = 60_000;
const CACHE_ENTRIES = 32;
const POLL_MS = 50;

interface CachedDigest {
  seq: number;
  at: number;
  digest: AccountDigest;
}

const ACCOUNT_ID = () => accountIdParam({ required: true });

export function nodeDigestMethods(node: NodeDigestContext): RpcMethod<NatsRpcContext>[] {
  const cache = new Map<string, CachedDigest>();

  /** Reads the copy now (one synchronous read), and keeps it for the row pages. */
  const snapshot = (accountId: string): CachedDigest => {
    const rs = node.store.replicaState(accountId);
    if (!rs) throw notHere(node.host, accountId);
    const entry = { seq: rs.appliedSeq, at: Date.now(), digest: accountDigest(node.store.dumpAccount(accountId)) };
    cache.delete(accountId);
    cache.set(accountId, entry);
    while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return entry;
  };

  /** The copy as last digested, if still fresh and at the applied seq; else read again. */
  const current = (accountId: string): CachedDigest => {
    const hit = cache.get(accountId);
    const rs = node.store.replicaState(accountId);
    if (hit && rs && hit.seq === rs.appliedSeq && Date.now() - hit.at < CACHE_MS) return hit;
    return snapshot(accountId);
  };

  return [
    defineMethod({
      name: "accountDigest",
      params: { account: ACCOUNT_ID(), minSeq: int({ min: 0, default: 0 }), waitMs: int({ min: 0, max: 60_000, default: 5_000 }) },
      handler: async (p): Promise<CopyDigest> => {
        await waitApplied(node, p.account, p.minSeq, p.waitMs);
        const rs = node.store.replicaState(p.account)!;
        const s = snapshot(p.account);
        return { host: node.host, accountId: p.account, role: rs.role, seq: s.seq, digest: s.digest.digest, rows: s.digest.rows.length };
      },
    }),
    defineMethod({
      name: "accountDigestRows",
      params: { account: ACCOUNT_ID(), offset: int({ min: 0, default: 0 }), limit: int({ min: 1, max: DIGEST_ROWS_PAGE, default: DIGEST_ROWS_PAGE }) },
      handler: (p) => {
        const s = current(p.account);
        const rows: RowHash[] = s.digest.rows.slice(p.offset, p.offset + p.limit).map((r) => [r.kind, r.id, r.hash]);
        const end = p.offset + rows.length;
        return { host: node.host, seq: s.seq, digest: s.digest.digest, total: s.digest.rows.length, rows, next: end < s.digest.rows.length ? end : null };
      },
    }),
    defineMethod({
      name: "accountDigestValues",
      // "kind:id", e.g. item:300, folder:257, tag:urgent, account:<id>
      params: {
        account: ACCOUNT_ID(),
        keys: strList({
          required: true,
          minItems: 1,
          maxItems: 10,
          item: { maxLength: 300, pattern: /^(account|folder|item|tag):.+$/, patternHint: "kind:id with kind account, folder, item or tag" },
        }),
      },
      handler: (p) => {
        const s = current(p.account);
        const rows = p.keys.map((key) => {
          const at = key.indexOf(":");
          const kind = key.slice(0, at) as DigestRowKind;
          const id = key.slice(at + 1);
          const found = s.digest.rows.find((r) => r.kind === kind && String(r.id) === id);
          return { kind, id: found?.id ?? id, value: found ? found.value : null };
        });
        return { host: node.host, seq: s.seq, rows };
      },
    }),
  ];
}

function notHere(host: string, accountId: string): AppError {
  return new AppError("REPLICA_NOT_FOUND", `mailstore ${host} holds no copy of account ${accountId}; getAccountStatus lists where its copies are`, {
    account: accountId,
    host,
  });
}

/**
 * Waits (at most waitMs) until the copy has applied the account's log up to minSeq. A replica
 * behind is asked to catch up; a primary behind starts its account actor, which replays the log.
 * Throws when the copy cannot get there: not here, unavailable, paused, module stopped, too slow.
 */
async function waitApplied(node: NodeDigestContext, accountId: string, minSeq: number, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let nudged = false;
  for (;;) {
    const rs = node.store.replicaState(accountId);
    if (!rs) throw notHere(node.host, accountId);
    if (rs.status === "unavailable") {
      throw new AppError(
        "REPLICA_UNAVAILABLE",
        `the copy of account ${accountId} on ${node.host} is unavailable (${rs.error ?? "no reason recorded"}); restartReplicas re-seeds it`,
        { account: accountId, host: node.host },
      );
    }
    if (rs.status === "paused") {
      throw new AppError(
        "REPLICA_UNAVAILABLE",
        `the replica of account ${accountId} on ${node.host} is paused (applied seq ${rs.appliedSeq}); restartReplicas resumes it`,
        { account: accountId, host: node.host },
      );
    }
    if (rs.appliedSeq >= minSeq) return;
    if (rs.role === "replica" && !moduleRunning(node)) {
      throw new AppError(
        "REPLICA_UNAVAILABLE",
        `the replication module of ${node.host} is stopped, so its replica of account ${accountId} stays at seq ${rs.appliedSeq} (log at ${minSeq}); run 'doStartService module host ${node.host}'`,
        { account: accountId, host: node.host },
      );
    }
    if (!nudged) {
      nudged = true;
      await catchUp(node, accountId, rs.role);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new AppError(
        "TIMEOUT",
        `the copy of account ${accountId} on ${node.host} has applied seq ${rs.appliedSeq}, not yet ${minSeq}, after ${waitMs} ms; run verifyReplicas again when it has caught up (getAccountStatus shows its lag)`,
        {
          account: accountId,
          host: node.host,
          appliedSeq: rs.appliedSeq,
          minSeq,
        },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function catchUp(node: NodeDigestContext, accountId: string, role: "primary" | "replica"): Promise<void> {
  try {
    if (role === "replica") {
      // Not awaited: a catch-up may run long; the wait above is what is bounded.
      void node.agent.catchUp(accountId).catch(() => {});
    } else {
      node.accountActor(await node.accountRecord(accountId));
    }
  } catch {
    // Not primary any more, or being promoted away: the wait reports how far it got.
  }
}
