// The worker thread of SnapshotSealer (snapshot_sealer.ts): reads one account's whole state on
// its own read-only connection in one read transaction (WAL: the mailstore's writer goes on
// meanwhile, the read sees one moment), then msgpack, deflate, secretbox and the signature,
// none of it on the mailstore's event loop. The sealed bytes go back transferred, not copied.
import { parentPort } from "node:worker_threads";
import { deflateRawSync } from "node:zlib";
import type { KeyObject } from "node:crypto";
import Database from "better-sqlite3";
import { seal, type SealingKeys } from "../envelope/index.js";
import { encode } from "../codec/index.js";
import { AccountStateStatements, readAccountState } from "../store/account_state.js";
import { snapshotOf } from "./account_snapshot.js";
import type { SealJob, SealReply } from "./snapshot_sealer.js";

const port = parentPort;
if (!port) throw new Error("snapshot_seal_worker.js runs as a worker thread of SnapshotSealer only");

let reader: { file: string; db: Database.Database; s: AccountStateStatements } | undefined;

function connection(file: string): { db: Database.Database; s: AccountStateStatements } {
  if (reader?.file !== file) {
    reader?.db.close();
    const db = new Database(file, { readonly: true, timeout: 5_000 });
    reader = { file, db, s: new AccountStateStatements(db) };
  }
  return reader;
}

function keysOf(job: SealJob): SealingKeys {
  const k = job.keys;
  return {
    currentKid: k.kid,
    signerId: k.signerId,
    secretboxKey: (kid: string) => (kid === k.kid ? k.boxKey : undefined),
    signingKey: (): KeyObject => k.signingKey,
    signingPublicKeyView: () => k.spk,
  };
}

function run(job: SealJob): SealReply {
  const { db, s } = connection(job.file);
  db.exec("BEGIN");
  let read: ReturnType<typeof readAccountState>;
  try {
    read = readAccountState(s, job.accountId);
  } finally {
    db.exec("COMMIT");
  }
  if (!read) return { id: job.id, ok: true, sealed: null };
  const snapshot = snapshotOf(job.accountId, job.host, job.takenAt, read.state, read.position);
  const sealed = seal(keysOf(job), { zmsgpack: deflateRawSync(encode(snapshot), { level: 1 }) });
  return { id: job.id, ok: true, sealed, position: read.position, items: read.state.items.length };
}

port.on("message", (msg: SealJob | { close: true }) => {
  if ("close" in msg) {
    reader?.db.close();
    reader = undefined;
    port.close();
    return;
  }
  let reply: SealReply;
  try {
    reply = run(msg);
  } catch (e) {
    reply = { id: msg.id, ok: false, message: (e as Error).message, code: (e as { code?: unknown }).code as string | undefined };
  }
  port.postMessage(reply, reply.ok && reply.sealed ? [reply.sealed.buffer as ArrayBuffer] : []);
});
