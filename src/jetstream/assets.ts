// The JetStream assets of README, JetStream assets, created idempotently at start by every process that
// needs them (mailstores and supervisors), so start order does not matter.
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { isPermissionViolation, jsErrCode, JS_ERR } from "../runtime/nats_failure.js";
import { NotReadyYet } from "./transient.js";
import { CodedError } from "../errors/index.js";
import { SNAPSHOT_SUBJECTS, SnapshotLog } from "../snapshot/snapshot_log.js";

export interface AssetOptions {
  /** 1 for a single server, 3 in a cluster; every asset gets it */
  replicas: number;
  txStream: string;
  notifyStream: string;
  /** account snapshots (src/snapshot/snapshot_log.ts) */
  snapshotStream: string;
  directoryBucket: string;
  nodesBucket: string;
  blobsBucket: string;
  /** object store of messages uploaded for deliverMessage (deleted once delivered) */
  uploadsBucket: string;
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
  uploads: ObjectStore;
  snapshots: SnapshotLog;
  opts: AssetOptions;
}

/** Subject of an account's log. Account ids are UUIDs: one token, no `.`/`*`/`>`. */
export function txSubject(accountId: string): string {
  return `mr.tx.${accountId}`;
}

/** How long an upload is kept when nobody delivers it (a client or mailstore crashed between put and delivery). */
export const UPLOAD_TTL_MS = 24 * 3600_000;

export const TX_SUBJECTS = "mr.tx.*";
export const NOTIFY_SUBJECTS = "mr.notify.>";

/**
 * Consumers a stream may have. nats-server 2.15 gives every stream a default limit of 1,000
 * (its `default_max_consumers`) and treats 0 or -1 as "use that default", so the limit is set
 * explicitly: MR_TX holds one durable per mailstore plus short-lived ones (catch-ups, at most
 * 8 per mailstore; promotion drains; lag counts), which a busy promotion of thousands of
 * accounts took past 1,000 on 2.15. Still a bound, against a runaway creator.
 */
export const STREAM_MAX_CONSUMERS = 100_000;

/** An existing stream's replicas differ from jetstream.replicas and this identity may not change them. */
export class StreamChangeRefusedError extends CodedError<"STREAM_CHANGE_REFUSED"> {
  constructor(stream: string, has: number, wanted: number, cause: unknown) {
    super(
      "STREAM_CHANGE_REFUSED",
      `stream ${stream} has ${has} replica(s), jetstream.replicas says ${wanted}, and this process's NATS identity may not change a stream; ` +
        `change it with the operator identity (nats --nkey operator.nk --inbox-prefix _INBOX_operator stream edit ${stream} --replicas ${wanted}), or set jetstream.replicas to ${has}`,
      { cause },
    );
  }
}

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], replicas: number, maxAgeMs: number): Promise<void> {
  try {
    const info = await jsm.streams.info(name);
    if (info.config.num_replicas !== replicas) {
      await jsm.streams.update(name, { ...info.config, num_replicas: replicas }).catch((e: unknown) => {
        // Under least privilege only the operator identity may change a stream (README, Security).
        if (!isPermissionViolation(e)) throw e;
        throw new StreamChangeRefusedError(name, info.config.num_replicas, replicas, e);
      });
    }
    if (info.config.max_consumers !== STREAM_MAX_CONSUMERS) {
      // Servers before 2.12 refuse to change it on an existing stream; there the old value
      // (unlimited) stays, which those servers honour.
      // (The client's update type leaves max_consumers out: it was not editable before 2.12.)
      const raised = { ...info.config, num_replicas: replicas, max_consumers: STREAM_MAX_CONSUMERS } as Parameters<JetStreamManager["streams"]["update"]>[1];
      await jsm.streams.update(name, raised).catch(() => undefined);
    }
    return;
  } catch (e) {
    if (jsErrCode(e) !== JS_ERR.STREAM_NOT_FOUND) throw e;
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
      max_consumers: STREAM_MAX_CONSUMERS,
    });
  } catch (e) {
    // Another process created it between our info and add: that is the idempotent outcome.
    const again = await jsm.streams.info(name).catch(() => undefined);
    if (!again) throw e;
  }
}

/**
 * Runs one step of asset creation; `what` names the asset. The start-up passes a retrying
 * runner (src/jetstream/startup_wait.ts) so a forming cluster's transient errors are waited out.
 */
export type AssetStep = <T>(what: string, step: () => Promise<T>) => Promise<T>;

const once: AssetStep = (_what, step) => step();

/** Resolves once the stream has a leader (in a cluster a new stream may have none for a while). */
async function waitForLeader(jsm: JetStreamManager, stream: string, label: string, replicas: number): Promise<void> {
  const info = await jsm.streams.info(stream);
  if (replicas > 1 && !info.cluster?.leader) throw new NotReadyYet(`${label} has no leader`);
}

/** Creates (or binds to) every asset and returns handles on them; each step goes through `run`. */
export async function ensureAssets(nc: NatsConnection, opts: AssetOptions, run: AssetStep = once): Promise<Assets> {
  const jsm = await run("", () => jetstreamManager(nc));
  const js = jetstream(nc);
  const kvm = new Kvm(js);
  const r = opts.replicas;
  // Account logs are kept forever (no max_age): every account's log starts with
  // account.created and replicas seed from it, so an expired start would brick idle accounts.
  const tx = `stream ${opts.txStream}`;
  await run(tx, () => ensureStream(jsm, opts.txStream, [TX_SUBJECTS], r, 0));
  await run(tx, () => waitForLeader(jsm, opts.txStream, tx, r));
  const notify = `stream ${opts.notifyStream}`;
  await run(notify, () => ensureStream(jsm, opts.notifyStream, [NOTIFY_SUBJECTS], r, 7 * 24 * 3600_000));
  await run(notify, () => waitForLeader(jsm, opts.notifyStream, notify, r));
  const snap = `stream ${opts.snapshotStream}`;
  // Kept forever: snapshots are removed one by one by the supervisor's compaction, never by age.
  await run(snap, () => ensureStream(jsm, opts.snapshotStream, [SNAPSHOT_SUBJECTS], r, 0));
  await run(snap, () => waitForLeader(jsm, opts.snapshotStream, snap, r));
  const dirLabel = `bucket ${opts.directoryBucket}`;
  const directory = await run(dirLabel, () => kvm.create(opts.directoryBucket, { replicas: r, history: 5, storage: StorageType.File }));
  await run(dirLabel, () => waitForLeader(jsm, `KV_${opts.directoryBucket}`, dirLabel, r));
  const nodesLabel = `bucket ${opts.nodesBucket}`;
  const nodes = await run(nodesLabel, () => kvm.create(opts.nodesBucket, { replicas: r, history: 1, ttl: opts.nodeTtlMs, storage: StorageType.File }));
  await run(nodesLabel, () => waitForLeader(jsm, `KV_${opts.nodesBucket}`, nodesLabel, r));
  const blobsLabel = `object store ${opts.blobsBucket}`;
  const blobs = await run(blobsLabel, () => new Objm(js).create(opts.blobsBucket, { replicas: r, storage: StorageType.File }));
  await run(blobsLabel, () => waitForLeader(jsm, `OBJ_${opts.blobsBucket}`, blobsLabel, r));
  const uploadsLabel = `object store ${opts.uploadsBucket}`;
  // Expiry removes what a crash left behind: an upload is delivered (and then deleted)
  // within seconds of being put, never a day later.
  const uploads = await run(uploadsLabel, () => new Objm(js).create(opts.uploadsBucket, { replicas: r, storage: StorageType.File, ttl: nanos(UPLOAD_TTL_MS) }));
  await run(uploadsLabel, () => waitForLeader(jsm, `OBJ_${opts.uploadsBucket}`, uploadsLabel, r));
  return { nc, js, jsm, directory, nodes, blobs, uploads, snapshots: new SnapshotLog(js, jsm, opts.snapshotStream), opts };
}
