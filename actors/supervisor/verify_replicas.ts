// verifyReplicas (admin JSON-RPC): are the replicas of an account equal to its primary?
//
// Each copy digests its own SQLite rows of the account (node method accountDigest) at the
// log sequence it has applied. Copies are compared only at a sequence they agree on: every
// copy is asked for at least the log head; when their answers differ (writes continued) they
// are asked again for the highest seq seen, a few rounds at most. Equal digests end the
// comparison; different ones fetch the per-row hashes of both (paged) to name the first
// differing row and its two values. A copy that cannot answer is reported `equal: null` with
// the reason, never guessed.
import { RpcClientError, RpcError, rpcCall } from "../../src/jsonrpc/index.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { txSubject } from "../../src/jetstream/assets.js";
import type { AccountRecord } from "../../src/directory/types.js";
import { differingFields, firstDifferentRow, type DigestRowKind, type RowHash } from "../../src/store/account_digest.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";
import { DIGEST_ROWS_PAGE, type CopyDigest } from "../../src/protocol/node_api.js";
import type { SupervisorCore } from "./context.js";

/** What a verify run uses of the supervisor: it asks the mailstores and reads the log head. */
export type VerifyContext = Pick<SupervisorCore, "nc" | "assets">;

export interface FirstDifference {
  kind: DigestRowKind;
  id?: number | string;
  /** a folder's path */
  path?: string;
  /** the primary's values of the fields that differ (null: the row is missing there) */
  primary: Record<string, unknown> | null;
  replica: Record<string, unknown> | null;
}

export interface ReplicaVerdict {
  destination: string;
  /** the seq this replica was compared at (what it had applied when it answered) */
  sequence: number | null;
  digest: string | null;
  /** null when not compared (see error) */
  equal: boolean | null;
  firstDifference: FirstDifference | null;
  error?: string;
}

export interface AccountVerdict {
  account: string;
  accountId: string;
  primary: string;
  /** the primary's applied seq its digest is of */
  sequence: number | null;
  digest: string | null;
  /** true: every replica equal; false: one differs; null: none differs but one could not be compared */
  equal: boolean | null;
  replicas: ReplicaVerdict[];
}

export interface VerifyResult {
  /** accounts verified; equal + different + unverified = total */
  total: number;
  equal: number;
  different: number;
  unverified: number;
  accounts: AccountVerdict[];
}

export interface VerifyOptions {
  /** how long a copy may take to reach the agreed seq (it may be catching up) */
  waitMs: number;
  /** rounds of asking again while writes continue */
  rounds: number;
  /** accounts verified at once */
  concurrency: number;
  /** row hashes per request when two digests differ (at most DIGEST_ROWS_PAGE) */
  pageRows: number;
}

export const DEFAULT_VERIFY_OPTIONS: VerifyOptions = { waitMs: 5_000, rounds: 3, concurrency: 8, pageRows: DIGEST_ROWS_PAGE };

/** Margin over waitMs for a node's answer to arrive. */
const ANSWER_MARGIN_MS = 3_000;

type Answer = { ok: true; copy: CopyDigest } | { ok: false; error: string };

/** One verify run: remembers mailstores that did not answer, so each is waited for once. */
class VerifyRun {
  private readonly silent = new Map<string, string>();

  constructor(
    private readonly node: VerifyContext,
    private readonly opts: VerifyOptions,
  ) {}

  private call<T>(host: string, method: string, params: Record<string, unknown>, timeoutMs: number): Promise<T> {
    return rpcCall<T>(this.node.nc, nodeAdminSubject(host), method, params, { timeoutMs });
  }

  /** Why a failed node call failed, naming the mailstore and what to do. */
  private reason(host: string, e: unknown): string {
    if (e instanceof RpcClientError) {
      const why =
        e.code === "NO_RESPONDER"
          ? `mailstore ${host} does not answer (stopped or cut off from NATS); check it runs (getServices, test) and run verifyReplicas again`
          : `mailstore ${host} did not answer in time (${e.code}); check it (getServices, test) and run verifyReplicas again`;
      this.silent.set(host, why);
      return why;
    }
    if (e instanceof RpcError) return `${host}: ${e.message}${e.appCode ? ` [${e.appCode}]` : ""}`;
    return `${host}: ${(e as Error).message}`;
  }

  private async digest(host: string, accountId: string, minSeq: number): Promise<Answer> {
    const silent = this.silent.get(host);
    if (silent) return { ok: false, error: silent };
    try {
      const copy = await this.call<CopyDigest>(
        host,
        "accountDigest",
        { account: accountId, minSeq, waitMs: this.opts.waitMs },
        this.opts.waitMs + ANSWER_MARGIN_MS,
      );
      return { ok: true, copy };
    } catch (e) {
      return { ok: false, error: this.reason(host, e) };
    }
  }

  /** Every row hash of the copy at `seq`, page by page; undefined when the copy moved on meanwhile. */
  private async rowHashes(host: string, accountId: string, seq: number): Promise<RowHash[] | undefined> {
    const out: RowHash[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page: { seq: number; rows: RowHash[]; next: number | null } = await this.call(
        host,
        "accountDigestRows",
        { account: accountId, offset, limit: this.opts.pageRows },
        10_000,
      );
      if (page.seq !== seq) return undefined;
      out.push(...page.rows);
      offset = page.next;
    }
    return out;
  }

  private async rowValue(host: string, accountId: string, key: string, seq: number): Promise<{ value: Record<string, unknown> | null } | undefined> {
    const r: { seq: number; rows: Array<{ value: Record<string, unknown> | null }> } = await this.call(
      host,
      "accountDigestValues",
      { account: accountId, keys: [key] },
      10_000,
    );
    return r.seq === seq ? { value: r.rows[0]?.value ?? null } : undefined;
  }

  /**
   * The first differing row between primary and replica at `seq`, with both values. Undefined
   * when either copy moved past `seq` while it was looked up (the digests still differed at it).
   */
  private async locate(
    rec: AccountRecord,
    primary: string,
    replica: string,
    seq: number,
    primaryRows: () => Promise<RowHash[] | undefined>,
  ): Promise<FirstDifference | undefined> {
    const [p, r] = await Promise.all([primaryRows(), this.rowHashes(replica, rec.id, seq)]);
    if (!p || !r) return undefined;
    const at = firstDifferentRow(p, r);
    if (!at) return undefined;
    const key = `${at.kind}:${String(at.id)}`;
    const [pv, rv] = await Promise.all([this.rowValue(primary, rec.id, key, seq), this.rowValue(replica, rec.id, key, seq)]);
    if (!pv || !rv) return undefined;
    const values = pv.value && rv.value ? differingFields(pv.value, rv.value) : { primary: pv.value, replica: rv.value };
    const path = (pv.value?.path ?? rv.value?.path) as string | undefined;
    return { kind: at.kind, id: at.id, ...(at.kind === "folder" && path !== undefined ? { path } : {}), primary: values.primary, replica: values.replica };
  }

  /** A replica's verdict against the primary, both digested at the same seq. */
  private async compare(
    rec: AccountRecord,
    primary: CopyDigest,
    replica: CopyDigest,
    primaryRows: Map<number, Promise<RowHash[] | undefined>>,
  ): Promise<ReplicaVerdict> {
    const d = replica.host;
    const seq = replica.seq;
    if (replica.digest === primary.digest) return { destination: d, sequence: seq, digest: replica.digest, equal: true, firstDifference: null };
    if (!primaryRows.has(seq))
      primaryRows.set(
        seq,
        this.rowHashes(rec.mailHost, rec.id, seq).catch(() => undefined),
      );
    let diff: FirstDifference | undefined;
    let lookupError: string | undefined;
    try {
      diff = await this.locate(rec, rec.mailHost, d, seq, () => primaryRows.get(seq)!);
    } catch (e) {
      lookupError = (e as Error).message;
    }
    return {
      destination: d,
      sequence: seq,
      digest: replica.digest,
      // Different digests at the same applied seq: the copies differ, whatever the lookup found.
      equal: false,
      firstDifference: diff ?? null,
      ...(diff
        ? {}
        : {
            error: `the copies differ at seq ${seq}, but the first difference could not be located (${lookupError ?? "a copy moved on meanwhile"}); run verifyReplicas again to see it`,
          }),
    };
  }

  async account(rec: AccountRecord, replicaServer: string | undefined): Promise<AccountVerdict> {
    const dests = rec.replicas.filter((r) => replicaServer === undefined || r.destination === replicaServer);
    const verdicts = new Map<string, ReplicaVerdict>();
    const open = new Set<string>();
    for (const r of dests) {
      if (r.state === "paused") {
        verdicts.set(
          r.destination,
          unverified(r.destination, `the replica on ${r.destination} is paused; restartReplicas resumes it, then run verifyReplicas again`),
        );
      } else open.add(r.destination);
    }
    const out: AccountVerdict = { account: rec.name, accountId: rec.id, primary: rec.mailHost, sequence: null, digest: null, equal: null, replicas: [] };
    let target: number;
    let logRead = true;
    try {
      target = await new SubjectLog(this.node.assets.js, this.node.assets.jsm, this.node.assets.opts.txStream, txSubject(rec.id)).lastSeq();
    } catch (e) {
      for (const d of open) verdicts.set(d, unverified(d, `the log of ${rec.name} cannot be read (${(e as Error).message}); check JetStream with test`));
      open.clear();
      target = 0;
      logRead = false;
    }
    // Primary rows are fetched once per seq, shared by every replica that differs.
    const primaryRows = new Map<number, Promise<RowHash[] | undefined>>();
    let askedPrimary = false;
    for (let round = 1; open.size > 0 && round <= this.opts.rounds; round++) {
      askedPrimary = true;
      const asked = [...open];
      const [p, ...rs] = await Promise.all([this.digest(rec.mailHost, rec.id, target), ...asked.map((d) => this.digest(d, rec.id, target))]);
      if (!p!.ok) {
        const why = `the primary ${rec.mailHost} gave no digest: ${p!.error}`;
        for (const d of open) verdicts.set(d, unverified(d, why));
        open.clear();
        break;
      }
      const pc = p!.copy;
      out.sequence = pc.seq;
      out.digest = pc.digest;
      let highest = pc.seq;
      const last = round === this.opts.rounds;
      for (const [i, a] of rs.entries()) {
        const d = asked[i]!;
        if (!a.ok) {
          verdicts.set(d, unverified(d, a.error));
          continue;
        }
        const c = a.copy;
        highest = Math.max(highest, c.seq);
        if (c.seq === pc.seq) {
          verdicts.set(d, await this.compare(rec, pc, c, primaryRows));
        } else if (last) {
          verdicts.set(d, {
            ...unverified(
              d,
              `writes continued: ${rec.mailHost} was at seq ${pc.seq} and ${d} at seq ${c.seq} after ${this.opts.rounds} rounds; run verifyReplicas again when the account is quiet`,
            ),
            sequence: c.seq,
            digest: c.digest,
          });
        }
      }
      for (const d of verdicts.keys()) open.delete(d);
      target = highest;
    }
    if (!askedPrimary && logRead) {
      // Nothing to compare (no replica, or every one paused): still show the primary's digest.
      const p = await this.digest(rec.mailHost, rec.id, target);
      if (p.ok) {
        out.sequence = p.copy.seq;
        out.digest = p.copy.digest;
      }
    }
    out.replicas = dests
      .map((r) => verdicts.get(r.destination) ?? unverified(r.destination, "not compared"))
      .sort((x, y) => x.destination.localeCompare(y.destination));
    out.equal = accountEqual(out.replicas);
    return out;
  }
}

function unverified(destination: string, error: string): ReplicaVerdict {
  return { destination, sequence: null, digest: null, equal: null, firstDifference: null, error };
}

/** false when any replica differs; null when none differs but one was not compared (or there is none); else true. */
function accountEqual(replicas: readonly ReplicaVerdict[]): boolean | null {
  if (replicas.some((r) => r.equal === false)) return false;
  if (replicas.length === 0 || replicas.some((r) => r.equal === null)) return null;
  return true;
}

/** Verifies the accounts (already resolved), at most `concurrency` at once, in the order given. */
export async function verifyReplicas(
  node: VerifyContext,
  accounts: readonly AccountRecord[],
  replicaServer: string | undefined,
  opts: VerifyOptions = DEFAULT_VERIFY_OPTIONS,
): Promise<VerifyResult> {
  const run = new VerifyRun(node, opts);
  const verdicts = await runBounded(accounts, opts.concurrency, (a) => run.account(a, replicaServer));
  return {
    total: verdicts.length,
    equal: verdicts.filter((v) => v.equal === true).length,
    different: verdicts.filter((v) => v.equal === false).length,
    unverified: verdicts.filter((v) => v.equal === null).length,
    accounts: verdicts,
  };
}
