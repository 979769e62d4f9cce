// The target side of a batched promotion (promoteMany, docs/architecture.md, Promotion): many accounts promoted here
// in one call, each exactly as promote promotes one (promotion_target.ts promoteOnce: drain to
// the head, Promoted appended at exactly that head with the expected-seq check, idempotent per
// epoch, and through the same running promotions, so promote and promoteMany asked for the same
// account and epoch get the same answer). All run at once, so their JetStream reads and appends
// are pipelined; the Promoted entries acknowledged together are applied, and their copies made
// primary, in one SQLite transaction. Each account gets its own outcome: one refused fails
// only itself.
import { internalErrorFields, toErrorObject } from "../../src/jsonrpc/index.js";
import type { TxBatch } from "../../src/mail/index.js";
import type { MetadataStore, PromotedToApply } from "../../src/store/index.js";
import type { PromoteManyError, PromoteManyOutcome, PromoteManyResult } from "../../src/protocol/node_api.js";
import { promoteOnce, promoteOnceAtATime, type PromotedHere, type PromotionFinish, type PromotionTargetContext } from "./promotion_target.js";

/** One account of a promoteMany call: what a promote call would name. */
export interface PromoteManyRequest {
  account: string;
  epoch: number;
  from?: string;
  grant?: string;
}

/**
 * How long after a batch answered its target checks that the directory followed. The supervisor
 * records each promotion when it hears the answer; this catches the one it gave up on.
 */
const DIRECTORY_CHECK_MS = 10_000;

export async function promoteMany(node: PromotionTargetContext, asked: readonly PromoteManyRequest[]): Promise<PromoteManyResult> {
  const applies = new PromotedApplies(node.store);
  const promoted: PromotedHere[] = [];
  const finish: PromotionFinish = {
    apply: (accountId, seq, batch) => applies.apply(accountId, seq, batch),
    promoted: (p) => void promoted.push(p),
  };
  const outcomes = await Promise.all(
    asked.map((a) =>
      promoteOnceAtATime(node, a.account, a.epoch, () => promoteOnce(node, a.account, a.epoch, a.from, a.grant, finish)).then(
        (result): PromoteManyOutcome => ({ account: a.account, result }),
        (e: unknown): PromoteManyOutcome => ({ account: a.account, error: errorOf(node, a.account, e) }),
      ),
    ),
  );
  if (promoted.length > 0) checkDirectoryLater(node, promoted);
  const failed = outcomes.filter((o) => "error" in o).length;
  node.log.info({ accounts: asked.length, appended: promoted.length, failed }, "promoteMany answered");
  return { host: node.host, outcomes };
}

/** The error promote would have answered for the account (an unexpected one is logged here, as the server logs one). */
function errorOf(node: PromotionTargetContext, accountId: string, e: unknown): PromoteManyError {
  const mapped = toErrorObject(e);
  if (mapped.internal)
    node.log.error({ accountId, method: "promoteMany", code: "INTERNAL", ...internalErrorFields(e), err: e }, "promotion failed unexpectedly");
  return mapped.error;
}

/**
 * The Promoted entries of a batch, applied with their copies made primary in one transaction
 * per turn of the event loop: the appends' acknowledgements arrive together (nats.js reads
 * them from one socket read), so a batch's entries commit in few transactions, not one each.
 */
class PromotedApplies {
  private queued: Array<{ entry: PromotedToApply; done: (e?: Error) => void }> = [];

  constructor(private readonly store: Pick<MetadataStore, "applyPromotions">) {}

  apply(accountId: string, seq: number, batch: TxBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ entry: { accountId, seq, batch }, done: (e) => (e ? reject(e) : resolve()) });
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    let outcomes: ReturnType<MetadataStore["applyPromotions"]>;
    try {
      outcomes = this.store.applyPromotions(queued.map((q) => q.entry));
    } catch (e) {
      for (const q of queued) q.done(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    queued.forEach((q, i) => {
      const o = outcomes[i];
      q.done(o instanceof Error ? o : undefined);
    });
  }
}

/**
 * A batch asks the directory to follow only for the promotions it is still behind on after
 * DIRECTORY_CHECK_MS (read from this mailstore's directory watch): the supervisor records every
 * promotion whose answer it heard, so asking for each at once (as one promote does) would
 * double the supervisor's work (a grant verified and a record read per account) for nothing.
 */
function checkDirectoryLater(node: PromotionTargetContext, promoted: readonly PromotedHere[]): void {
  setTimeout(() => void checkDirectory(node, promoted), DIRECTORY_CHECK_MS).unref();
}

async function checkDirectory(node: PromotionTargetContext, promoted: readonly PromotedHere[]): Promise<void> {
  for (const p of promoted) {
    if (node.assets.nc.isClosed()) return; // this mailstore stopped meanwhile
    const rec = await node.accountRecord(p.accountId).catch(() => undefined);
    if (!rec || rec.epoch >= p.epoch) continue;
    await node.directoryRequests.recordPromotion(p.accountId, p.epoch, p.grant ?? "").then(
      (r) => {
        if (r.changed)
          node.log.info({ account: p.name, accountId: p.accountId, epoch: p.epoch }, "the directory had not followed the promotion here; moved now");
      },
      (e: Error) =>
        node.log.warn(
          { account: p.name, accountId: p.accountId, epoch: p.epoch, error: e.message, code: (e as { code?: unknown }).code },
          "directory not updated after the promotion here; the supervisor's reconciler repairs it",
        ),
    );
  }
}
