// The target side of a promotion (docs/architecture.md, Promotion, steps 2-3), run by the mailstore that takes
// over an account: drain the account log to its head, then append Promoted{epoch, host, grant}
// at exactly that head (the grant is the supervisor's signature that lets readers accept it). That append is the linearization point: any write of the old primary
// either is in the log before it (and so drained here) or fails the server's expected-seq
// check after it. Nothing here asks the old primary: it may be dead.
import { seal } from "../../src/envelope/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { AppError } from "../../src/jsonrpc/index.js";
import { FencedError, OutcomeUnknownError } from "../../src/runtime/errors.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { transientReason } from "../../src/jetstream/transient.js";
import type { TxBatch } from "../../src/mail/index.js";
import { checkAuthorship } from "./log_authorship.js";
import type { PromoteHereResult } from "../../src/protocol/node_api.js";
import type { Assets } from "../../src/jetstream/assets.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { EnvelopeKeyring } from "../../src/envelope/index.js";
import type { Logger } from "../../src/log/index.js";
import type { MetadataStore } from "../../src/store/index.js";
import { replicaDelay, type AccountRecord } from "../../src/directory/types.js";
import type { DirectoryRequests } from "../shared/directory_requests.js";
import type { ReplicaAgent } from "./replica_agent.js";

/**
 * What a promotion here uses of the mailstore. MailstoreNode passes itself, always the same
 * object: the running promotions are kept per context object.
 */
export interface PromotionTargetContext {
  host: string;
  clock: Pick<Clock, "now">;
  log: Logger;
  assets: Assets;
  keyring: EnvelopeKeyring;
  store: Pick<MetadataStore, "replicaState" | "account" | "applyBatch" | "setRole" | "applyPromotions">;
  agent: Pick<ReplicaAgent, "isReplicated" | "drainToHead" | "setReplicated">;
  directoryRequests: Pick<DirectoryRequests, "recordPromotion">;
  accountRecord(idOrName: string): Promise<AccountRecord>;
  /** reads changed key files; true when something changed */
  reloadKeys(): boolean;
}

/** How often the head may move under us before the promotion is given up. */
const MAX_ATTEMPTS = 5;

/** The promotion running on a mailstore, per account. */
const running = new WeakMap<PromotionTargetContext, Map<string, { epoch: number; answer: Promise<PromoteHereResult> }>>();

/**
 * Promotes `accountId` here at `epoch`. Idempotent: the supervisor asks again when an answer
 * did not reach it (a nats-server node lost with the request or the reply). A promote asked
 * again while one for the same epoch runs gets that run's answer; one asked after it ended is
 * answered alreadyPromoted with the epoch the copy holds, so an epoch's Promoted is appended
 * once. A promote for another epoch waits for the running one to end, then sees what it did.
 */
export function promoteHere(
  node: PromotionTargetContext,
  accountId: string,
  epoch: number,
  from: string | undefined,
  grant: string | undefined,
): Promise<PromoteHereResult> {
  return promoteOnceAtATime(node, accountId, epoch, () => promoteOnce(node, accountId, epoch, from, grant, oneByOne(node)));
}

/**
 * Runs `promote` (a promoteOnce of `accountId` at `epoch`) unless one for that epoch already
 * runs here, whose answer is then the answer; one for another epoch is waited for first. The
 * running promotions are shared by promote and promoteMany (promotion_batch.ts): asked by
 * either, an epoch's Promoted is appended once.
 */
export function promoteOnceAtATime(
  node: PromotionTargetContext,
  accountId: string,
  epoch: number,
  promote: () => Promise<PromoteHereResult>,
): Promise<PromoteHereResult> {
  const mine = running.get(node) ?? new Map<string, { epoch: number; answer: Promise<PromoteHereResult> }>();
  running.set(node, mine);
  const cur = mine.get(accountId);
  if (cur?.epoch === epoch) return cur.answer;
  const after = cur
    ? cur.answer.then(
        () => undefined,
        () => undefined,
      )
    : Promise.resolve();
  const entry = {
    epoch,
    answer: after.then(() =>
      promote().catch((e: unknown) => {
        throw unreachable(node, accountId, epoch, e);
      }),
    ),
  };
  mine.set(accountId, entry);
  const done = (): void => {
    if (mine.get(accountId) === entry) mine.delete(accountId);
  };
  entry.answer.then(done, done);
  return entry.answer;
}

/**
 * How a promoteOnce finishes once its Promoted entry is in the log: `apply` applies it and
 * makes the copy primary (throws when it could not); `promoted` is told the promotion happened,
 * to have the directory follow.
 */
/** One account promoted here: its `Promoted` entry is acknowledged and applied. */
export interface PromotedHere {
  accountId: string;
  name: string;
  epoch: number;
  grant: string | undefined;
}

export interface PromotionFinish {
  apply(accountId: string, seq: number, batch: TxBatch): void | Promise<void>;
  promoted(p: PromotedHere): void;
}

/**
 * One promote call's finish: applied in its own transaction, and the directory asked at once.
 * The directory follows now, not only when the supervisor hears the answer: it may have given
 * up waiting (and reported the promotion failed) while this one was queued. Only supervisors
 * write the directory: asked, with the grant that proves the promotion. Not awaited: the
 * supervisor that asked records it too when it hears the answer (both are compare-and-set,
 * only forward), so the answer does not wait for a second round trip.
 */
function oneByOne(node: PromotionTargetContext): PromotionFinish {
  return {
    apply: (accountId, seq, batch) => {
      node.store.applyBatch(accountId, seq, batch);
      node.store.setRole(accountId, "primary");
    },
    promoted: ({ accountId, name, epoch, grant }) =>
      void node.directoryRequests
        .recordPromotion(accountId, epoch, grant ?? "")
        .catch((e: Error) =>
          node.log.warn(
            { account: name, accountId, epoch, error: e.message, code: (e as { code?: unknown }).code },
            "directory not updated after the promotion here; the supervisor records it",
          ),
        ),
  };
}

/**
 * JetStream not reachable for a promotion (no leader while one is elected, no answer, the
 * connection moving to another nats-server) is UNAVAILABLE, which the supervisor asks again on.
 * Nothing was appended then: an append whose outcome is unknown is never thrown (it drains
 * again). Without this, a failed read of the log head (LogReadError, a code the JSON-RPC table
 * does not know) was answered as an internal error and the account reported failed.
 */
function unreachable(node: PromotionTargetContext, accountId: string, epoch: number, e: unknown): unknown {
  const reason = e instanceof AppError ? undefined : transientReason(e);
  if (reason === undefined) return e;
  return new AppError(
    "UNAVAILABLE",
    `${node.host} did not promote ${accountId} to epoch ${epoch}: ${reason} (${(e as Error).message}); nothing was appended, promote again`,
    { account: accountId },
  );
}

/**
 * The copy is replicated again after a promotion attempt that did not make it primary, with
 * its state as the directory lists it now (the directory watch may have changed it meanwhile,
 * or removed this replica: then it stays unreplicated, as the watch left it).
 */
async function replicateAgain(node: PromotionTargetContext, accountId: string): Promise<void> {
  const rec = await node.accountRecord(accountId).catch(() => undefined);
  const mine = rec?.mailHost === node.host ? undefined : rec?.replicas.find((r) => r.destination === node.host);
  if (mine) node.agent.setReplicated(accountId, { paused: mine.state === "paused", delay: replicaDelay(mine) });
}

/**
 * One promotion of `accountId` here at `epoch`: drain to the head, append Promoted at exactly
 * that head (expected last subject seq), then `finish` applies it and has the directory follow.
 * Run it through promoteOnceAtATime, never beside another of the same account.
 */
export async function promoteOnce(
  node: PromotionTargetContext,
  accountId: string,
  epoch: number,
  from: string | undefined,
  grant: string | undefined,
  finish: PromotionFinish,
): Promise<PromoteHereResult> {
  const rec = await node.accountRecord(accountId);
  const log = new SubjectLog(node.assets.js, node.assets.jsm, node.assets.opts.txStream, txSubject(accountId));
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const before = node.store.replicaState(accountId);
    if (before?.role === "primary" && before.epoch >= epoch) {
      return { host: node.host, epoch: before.epoch, seq: 0, alreadyPromoted: true };
    }
    if (!before || !node.agent.isReplicated(accountId)) {
      throw new AppError("REPLICA_UNAVAILABLE", `${node.host} holds no replica of ${rec.name}; promote to one of its replicas (getAccountStatus lists them)`, {
        account: rec.name,
      });
    }
    // To the head even on a lagged replica: the operator named it, so its delay is over.
    await node.agent.drainToHead(accountId);
    const rs = node.store.replicaState(accountId);
    // The replica may have been removed while it caught up (removeAccountDestination).
    if (!rs)
      throw new AppError(
        "REPLICA_UNAVAILABLE",
        `the replica of ${rec.name} on ${node.host} was removed during the promotion; promote to another replica (getAccountStatus lists them)`,
        { account: rec.name },
      );
    if (rs.status !== "available") {
      throw new AppError(
        "REPLICA_UNAVAILABLE",
        `the replica of ${rec.name} on ${node.host} is ${rs.status}${rs.error ? ` (${rs.error})` : ""}; restartReplicas, or promote to another replica`,
        { account: rec.name, status: rs.status },
      );
    }
    // An earlier promotion (e.g. by a supervisor that died before updating the directory)
    // already moved the account: report where, so the directory can follow the log.
    if (rs.epoch >= epoch) {
      const host = node.store.account(accountId)?.mailHost ?? rec.mailHost;
      return { host, epoch: rs.epoch, seq: 0, alreadyPromoted: true };
    }
    // Read again after the drain, which swallows its own read failures (it retries later):
    // JetStream out of reach is UNAVAILABLE here, not five fenced appends.
    const head = await log.lastSeq();
    if (rs.appliedSeq < head) continue; // entries arrived during the drain: drain again
    const batch: TxBatch = {
      v: 1,
      account: accountId,
      epoch,
      writer: node.host,
      at: node.clock.now(),
      prev: rs.appliedSeq,
      events: [{ t: "promoted", epoch, host: node.host, ...(from ? { from } : {}), ...(grant !== undefined ? { grant } : {}) }],
    };
    // The same check every reader runs: a Promoted they would refuse is never appended.
    try {
      try {
        checkAuthorship(node.keyring.trust, rs, batch, node.keyring.signerId);
      } catch (e) {
        // A supervisor key the operator just added: read the list again, once.
        if (!node.reloadKeys()) throw e;
        checkAuthorship(node.keyring.trust, rs, batch, node.keyring.signerId);
      }
    } catch (e) {
      throw new AppError("APP_ERROR", `${node.host} does not promote ${rec.name} to epoch ${epoch}: ${(e as Error).message}`, {
        code: (e as { code?: string }).code ?? "LOG_BAD_PROMOTION",
        account: rec.name,
      });
    }
    if (!node.keyring.ownKeyTrusted()) {
      throw new AppError(
        "SIGNER_NOT_TRUSTED",
        `${node.host} does not promote ${rec.name}: its signing key ${node.keyring.signingKid} is not in trusted-signers.json, so every reader would refuse the Promoted entry; add it on every node first`,
        { account: rec.name },
      );
    }
    // Not replicated while the append is under way: the replica agent's consumer then skips
    // the Promoted entry when it comes back to this mailstore, instead of opening, checking and
    // applying it a second time (and taking over beside this promotion). Replicated again if
    // the append or its apply fails, as if this attempt had not begun.
    node.agent.setReplicated(accountId, undefined);
    let ack;
    try {
      ack = await log.append(seal(node.keyring, batch), {
        expectedLastSeq: rs.appliedSeq,
        msgId: `${log.subject}:${node.host}:${epoch}:promoted:${rs.appliedSeq}`,
      });
      // One promote applies at once (no await in between: nothing else runs before it).
      const applying = finish.apply(accountId, ack.seq, batch);
      if (applying) await applying;
    } catch (e) {
      await replicateAgain(node, accountId);
      // The old primary (or anyone) appended after our drain: drain again and retry.
      if (e instanceof FencedError) continue;
      // The ack was lost (or a duplicate's stored content differs): the entry may be in the
      // log. Drain again: the epoch check above returns alreadyPromoted when it is.
      if (e instanceof OutcomeUnknownError) {
        node.log.warn({ account: rec.name, accountId, epoch, error: e.message }, "the Promoted append has an unknown outcome; draining again");
        continue;
      }
      throw e;
    }
    node.log.info({ account: rec.name, accountId, epoch, seq: ack.seq }, "promoted here");
    finish.promoted({ accountId, name: rec.name, epoch, grant });
    return { host: node.host, epoch, seq: ack.seq, alreadyPromoted: false };
  }
  throw new AppError(
    "APP_ERROR",
    `the log of ${rec.name} kept growing during ${MAX_ATTEMPTS} promotion attempts: its old primary (${from ?? "unknown"}) is still writing; stop it (doStopService module on it) and promote again`,
    { code: "OLD_PRIMARY_STILL_WRITING", account: rec.name },
  );
}
