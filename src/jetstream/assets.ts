// The JetStream assets of DESIGN §4, created idempotently at start by every process that
// needs them (mailstores and supervisors), so start order does not matter.
import type { JetStreamClient, JetStreamManager, KV, NatsConnection, ObjectStore } from "nats";
import { DiscardPolicy, RetentionPolicy, StorageType, nanos } from "nats";

export interface AssetOptions {
  /** 1 for a single server, 3 in a cluster; every asset gets it */
  replicas: number;
  txStream: string;
  notifyStream: string;
  directoryBucket: string;
  nodesBucket: string;
  blobsBucket: string;
  /** how long a heartbeat in the nodes bucket lives */
  nodeTtlMs: number;
}

/** Handles on every asset. */
export interface Assets {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  directory: KV;
  nodes: KV;
  blobs: ObjectStore;
  opts: AssetOptions;
}

/** Subject of an account's log. Account ids are UUIDs: one token, no `.`/`*`/`>`. */
export function txSubject(accountId: string): string {
  return `mr.tx.${accountId}`;
}

export const TX_SUBJECTS = "mr.tx.*";
export const NOTIFY_SUBJECTS = "mr.notify.>";

const ERR_STREAM_NOT_FOUND = 10059;

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], replicas: number, maxAgeMs: number): Promise<void> {
  try {
    const info = await jsm.streams.info(name);
    if (info.config.num_replicas !== replicas) {
      await jsm.streams.update(name, { ...info.config, num_replicas: replicas });
    }
    return;
  } catch (e) {
    if ((e as { api_error?: { err_code?: number } }).api_error?.err_code !== ERR_STREAM_NOT_FOUND) throw e;
  }
  try {
    await jsm.streams.add({
      name,
      subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      max_age: maxAgeMs > 0 ? nanos(maxAgeMs) : 0,
      // Writers retry an append with the same Nats-Msg-Id inside this window.
      duplicate_window: nanos(120_000),
      allow_direct: true,
    });
  } catch (e) {
    // Another process created it between our info and add: that is the idempotent outcome.
    const again = await jsm.streams.info(name).catch(() => undefined);
    if (!again) throw e;
  }
}

/** Creates (or binds to) every asset and returns handles on them. */
export async function ensureAssets(nc: NatsConnection, opts: AssetOptions): Promise<Assets> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  // Account logs are kept forever (no max_age): every account's log starts with
  // account.created and replicas seed from it, so an expired start would brick idle accounts.
  await ensureStream(jsm, opts.txStream, [TX_SUBJECTS], opts.replicas, 0);
  await ensureStream(jsm, opts.notifyStream, [NOTIFY_SUBJECTS], opts.replicas, 7 * 24 * 3600_000);
  const directory = await js.views.kv(opts.directoryBucket, { replicas: opts.replicas, history: 5, storage: StorageType.File });
  const nodes = await js.views.kv(opts.nodesBucket, { replicas: opts.replicas, history: 1, ttl: opts.nodeTtlMs, storage: StorageType.File });
  const blobs = await js.views.os(opts.blobsBucket, { replicas: opts.replicas, storage: StorageType.File });
  return { nc, js, jsm, directory, nodes, blobs, opts };
}
