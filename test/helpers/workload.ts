// Seeded mailbox workloads for the replication fault tests: a random mix of mailbox writes
// sent concurrently through mr.rpc.mailbox, a client-side model of what exists (updated only
// by acknowledged writes, so it is approximate while requests overlap: refused commands are
// expected and counted), and readers of the account log and of the replica's progress.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadKeyring } from "../../src/keys/index.js";
import { open, type EnvelopeKeyring } from "../../src/envelope/index.js";
import { SubjectLog } from "../../src/runtime/subject_log.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import type { TxBatch } from "../../src/mail/index.js";
import { rpcCall } from "../../src/jsonrpc/index.js";
import { rawMessage, type TestSystem } from "./system.js";
import { waitFor } from "./processes.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

/** mulberry32: a small, fast PRNG; the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a test run: MR_TEST_SEED when set (to replay a failure), else a fresh one. */
export function testSeed(): number {
  const env = process.env.MR_TEST_SEED;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isSafeInteger(n)) throw new Error(`MR_TEST_SEED must be an integer, got ${env}`);
    return n >>> 0;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

export type Rand = () => number;

export const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
export const intIn = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

function sample<T>(rand: Rand, xs: readonly T[], n: number): T[] {
  const out = new Set<T>();
  for (let i = 0; i < n * 3 && out.size < Math.min(n, xs.length); i++) out.add(pick(rand, xs));
  return [...out];
}

/** The error code a failed call carries: the application code, else the transport or class name. */
export function errorCode(e: unknown): string {
  const x = e as { appCode?: string; code?: unknown; name?: string };
  return x.appCode ?? (typeof x.code === "string" ? x.code : undefined) ?? (typeof x.code === "number" ? `rpc ${x.code}` : undefined) ?? x.name ?? "unknown";
}

export interface OpStats {
  ok: number;
  failed: number;
}

export interface WorkloadStats {
  sent: number;
  ok: number;
  failed: number;
  byOp: Record<string, OpStats>;
  /** failures by error code */
  errors: Record<string, number>;
}

export interface WorkloadCall {
  method: string;
  params: Record<string, unknown>;
}

const SYSTEM_FOLDERS = ["Inbox", "Trash", "Junk", "Sent", "Drafts"];
const FLAG_POOL = ["seen", "flagged", "answered", "draft", "work", "personal", "todo"];
const TOP_NAMES = ["Archive", "Projects", "Travel", "Receipts", "Lists", "Family", "Old", "Later"];
const SUB_NAMES = ["2025", "2026", "alpha", "beta", "misc"];

/**
 * A random mix of mailbox writes on one account: deliverMessage, setFlags, moveItems,
 * deleteItems, createFolder, renameFolder, deleteFolder.
 */
export class MailWorkload {
  readonly stats: WorkloadStats = { sent: 0, ok: 0, failed: 0, byOp: {}, errors: {} };
  /** item id -> folder path, as the acknowledged writes say */
  readonly items = new Map<number, string>();
  /** user folder paths, as the acknowledged writes say */
  readonly folders = new Set<string>();
  /** every acknowledged delivery: item id -> blob digest */
  readonly delivered = new Map<number, string>();
  private messageNo: number;
  private readonly timeoutMs: number;
  /** where the calls go: mr.rpc.mailbox (any mailstore routes them), or one mailstore's own subject */
  private readonly subject: string;

  constructor(
    private readonly sys: TestSystem,
    readonly account: string,
    private readonly rand: Rand,
    opts: { firstMessage?: number; timeoutMs?: number; subject?: string } = {},
  ) {
    this.messageNo = opts.firstMessage ?? 0;
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.subject = opts.subject ?? "mr.rpc.mailbox";
  }

  private anyFolder(): string {
    const user = [...this.folders];
    return user.length > 0 && this.rand() < 0.6 ? pick(this.rand, user) : pick(this.rand, SYSTEM_FOLDERS);
  }

  private someIds(): number[] {
    const ids = [...this.items.keys()];
    return sample(this.rand, ids, intIn(this.rand, 1, 4));
  }

  /** The next call, chosen against the model. */
  next(): WorkloadCall {
    const r = this.rand();
    const account = this.account;
    const user = [...this.folders];
    if (r < 0.4 || this.items.size < 5) {
      const n = this.messageNo++;
      const folder = this.rand() < 0.7 ? "Inbox" : this.anyFolder();
      const flags = this.rand() < 0.3 ? sample(this.rand, FLAG_POOL, intIn(this.rand, 1, 2)) : [];
      return { method: "deliverMessage", params: { account, raw: rawMessage(n, account), folder, flags } };
    }
    if (r < 0.58) return { method: "setFlags", params: { account, ids: this.someIds(), flags: sample(this.rand, FLAG_POOL, intIn(this.rand, 0, 3)) } };
    if (r < 0.72) return { method: "moveItems", params: { account, ids: this.someIds(), folder: this.anyFolder() } };
    if (r < 0.82) return { method: "deleteItems", params: { account, ids: this.someIds() } };
    if (r < 0.9 || user.length === 0) {
      const top = user.filter((f) => !f.includes("/"));
      const path = top.length > 0 && this.rand() < 0.4 ? `${pick(this.rand, top)}/${pick(this.rand, SUB_NAMES)}` : pick(this.rand, TOP_NAMES);
      return { method: "createFolder", params: { account, path } };
    }
    if (r < 0.95) {
      const from = pick(this.rand, user);
      const parent = from.includes("/") ? from.slice(0, from.lastIndexOf("/") + 1) : "";
      const to = `${parent}${pick(this.rand, parent ? SUB_NAMES : TOP_NAMES)}${this.rand() < 0.5 ? `-${intIn(this.rand, 1, 9)}` : ""}`;
      return { method: "renameFolder", params: { account, path: from, newPath: to } };
    }
    return { method: "deleteFolder", params: { account, path: pick(this.rand, user) } };
  }

  /** Updates the model from an acknowledged call. */
  private acknowledged(c: WorkloadCall, result: any): void {
    const p = c.params;
    switch (c.method) {
      case "deliverMessage":
        this.items.set(result.itemId, result.folder);
        this.delivered.set(result.itemId, result.blob);
        break;
      case "moveItems":
        for (const id of result.ids as number[]) if (this.items.has(id)) this.items.set(id, p.folder as string);
        break;
      case "deleteItems":
        for (const id of result.ids as number[]) this.items.delete(id);
        break;
      case "createFolder":
        this.folders.add(result.path);
        break;
      case "renameFolder": {
        const from = p.path as string;
        const to = result.path as string;
        for (const f of [...this.folders]) {
          if (f === from || f.startsWith(`${from}/`)) {
            this.folders.delete(f);
            this.folders.add(to + f.slice(from.length));
          }
        }
        for (const [id, f] of this.items) if (f === from || f.startsWith(`${from}/`)) this.items.set(id, to + f.slice(from.length));
        break;
      }
      case "deleteFolder": {
        const path = p.path as string;
        for (const f of [...this.folders]) if (f === path || f.startsWith(`${path}/`)) this.folders.delete(f);
        for (const [id, f] of [...this.items]) if (f === path || f.startsWith(`${path}/`)) this.items.delete(id);
        break;
      }
    }
  }

  /** Sends one call and records its outcome; never throws. */
  async one(c: WorkloadCall = this.next()): Promise<{ ok: boolean; result?: any; error?: unknown }> {
    this.stats.sent++;
    const s = (this.stats.byOp[c.method] ??= { ok: 0, failed: 0 });
    try {
      const result = await rpcCall<any>(this.sys.nc, this.subject, c.method, c.params, { timeoutMs: this.timeoutMs });
      this.stats.ok++;
      s.ok++;
      this.acknowledged(c, result);
      return { ok: true, result };
    } catch (error) {
      this.stats.failed++;
      s.failed++;
      const code = errorCode(error);
      this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
      return { ok: false, error };
    }
  }

  /** Sends `total` calls, `concurrency` at a time (or until `stop()` returns true). */
  async run(total: number, concurrency: number, stop: () => boolean = () => false): Promise<WorkloadStats> {
    await runBounded(
      Array.from({ length: total }, (_, i) => i),
      concurrency,
      () => this.one(),
      { stop },
    );
    return this.stats;
  }

  summary(): string {
    const ops = Object.entries(this.stats.byOp)
      .map(([m, s]) => `${m} ${s.ok}/${s.ok + s.failed}`)
      .join(", ");
    const errs = Object.entries(this.stats.errors)
      .map(([c, n]) => `${c} ${n}`)
      .join(", ");
    return `${this.account}: ${this.stats.ok} ok, ${this.stats.failed} refused (${ops}; refusals: ${errs || "none"})`;
  }
}

/** A keyring of `readerHost` that trusts every mailstore key in the test's key folder. */
export function readerKeyring(sys: TestSystem, readerHost: string): EnvelopeKeyring {
  const keyring = loadKeyring({ dir: sys.config.keys.dir, host: readerHost });
  for (const h of sys.hosts) {
    if (h === readerHost) continue;
    const o = JSON.parse(readFileSync(join(sys.config.keys.dir, `${h}.ed25519.json`), "utf8")) as { publicKey: string };
    keyring.trustSigner(h, new Uint8Array(Buffer.from(o.publicKey, "base64")));
  }
  return keyring;
}

export interface LoggedBatch {
  seq: number;
  batch: TxBatch;
}

async function txLog(sys: TestSystem, accountId: string): Promise<SubjectLog> {
  const js = jetstream(sys.nc);
  const jsm = await jetstreamManager(sys.nc);
  return new SubjectLog(js, jsm, sys.config.jetstream.streams.tx, `mr.tx.${accountId}`);
}

/** Last seq of the account log (0 when empty). */
export async function logHead(sys: TestSystem, accountId: string): Promise<number> {
  return (await txLog(sys, accountId)).lastSeq();
}

/** Every batch of the account log, opened (decrypted, signature checked) with `keyring`. */
export async function readAccountLog(sys: TestSystem, accountId: string, keyring: EnvelopeKeyring): Promise<LoggedBatch[]> {
  const out: LoggedBatch[] = [];
  for await (const e of (await txLog(sys, accountId)).read(1)) {
    out.push({ seq: e.seq, batch: open(keyring, e.data).payload as TxBatch });
  }
  return out;
}

/** Waits until getAccountStatus shows the replica on `destination` available and at the log head. */
export async function waitReplicaCaughtUp(sys: TestSystem, account: string, destination: string, timeoutMs = 30_000): Promise<{ account: any; replica: any }> {
  let last: unknown;
  try {
    return await waitFor(
      `replica of ${account} on ${destination} caught up`,
      async () => {
        const s = await sys.admin("getAccountStatus", { accounts: account });
        const a = s.accounts[0];
        const r = a?.replicas.find((x: { destination: string }) => x.destination === destination);
        last = { head: a?.sequence, replica: r };
        return r && r.available && a.sequence > 0 && r.sequence === a.sequence && r.lagEvents === 0 ? { account: a, replica: r } : undefined;
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last)}`);
  }
}

/** The path and values of the first difference between two JSON-like values (for failure messages). */
export function firstDifference(a: unknown, b: unknown, path = "$"): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path}: ${JSON.stringify(a)?.slice(0, 300)} != ${JSON.stringify(b)?.slice(0, 300)}`;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return `${path}: lengths ${a.length} != ${b.length}; first difference ${d}`;
    }
    return `${path}: lengths ${a.length} != ${b.length}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/**
 * sys.stop(), bounded: a stop that hangs (a product bug: some part never lets go) fails the
 * file after `timeoutMs` with what is still open, instead of leaving it to the runner's
 * 10-minute kill.
 */
export async function stopBounded(sys: TestSystem | undefined, timeoutMs = 45_000): Promise<void> {
  if (!sys) return;
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), timeoutMs)));
  const outcome = await Promise.race([sys.stop().then(() => "stopped" as const), hung]);
  clearTimeout(timer);
  if (outcome === "stopped") return;
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map((h) => h.constructor?.name ?? typeof h);
  const agents = [...sys.inProcess].map(([h, n]) => `${h}: agent ${JSON.stringify(n.agent.stats)}, actors ${n.primaryActorCount}`);
  process.stderr.write(`TestSystem.stop() still running after ${timeoutMs} ms; open handles: ${handles.join(", ")}; ${agents.join("; ")}\n`);
  process.exit(1);
}
