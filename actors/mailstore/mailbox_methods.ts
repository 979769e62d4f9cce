// The mailbox JSON-RPC methods (docs/jsonrpc.md) as a mailstore serves them. The same methods are
// served twice: on mr.rpc.mailbox (queue group; any mailstore takes the request and routes
// it to the account's primary) and on mr.node.<host>.mailbox (only this host's accounts; a
// forwarded request lands here, so routing never loops).
import { createHash, randomUUID } from "node:crypto";
import {
  AppError,
  appCodeOf,
  ProtocolErrors,
  RpcError,
  defineMethod,
  methodTable,
  rpcCall,
  type MethodTable,
  type NatsRpcContext,
} from "../../src/jsonrpc/index.js";
import type { AccountRecord } from "../../src/directory/types.js";
import { type MailCommand, type MailResult, type RequestKey } from "../../src/mail/index.js";
import { MAX_MESSAGE_BYTES, parseMessage } from "../../src/rfc822/parse_message.js";
import { boundPage, DEFAULT_NATS_MAX_PAYLOAD, PAGE_ENVELOPE_RESERVE_BYTES } from "./list_page.js";
import { readUpload } from "./message_upload.js";
import { lengthTooLarge, maxBodyPart } from "./item_body.js";
import { validateNewAccountName } from "../shared/account_names.js";
import { certainlyNotAppended } from "./append_outcome.js";
import { nodeMailboxSubject } from "../../src/protocol/subjects.js";
import { MAILBOX_METHODS } from "../../src/protocol/mailbox_params.js";
import { mailboxDocument } from "../../src/protocol/discovery.js";
import { withDiscover } from "../../src/jsonrpc/discover.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Assets } from "../../src/jetstream/assets.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { ActorRef } from "../../src/runtime/types.js";
import type { Logger } from "../../src/log/index.js";
import type { MetadataStore } from "../../src/store/index.js";
import type { Directory } from "../../src/directory/directory.js";
import type { BlobStore } from "../../src/blobs/blob_store.js";
import type { DirectoryRequests } from "../shared/directory_requests.js";
import type { ItemBodyReader } from "./item_body.js";
import type { MailstoreOptions } from "./options.js";

type Ctx = NatsRpcContext;

/** What the mailbox methods use of the mailstore (MailstoreNode passes itself). */
export interface MailboxContext {
  host: string;
  clock: Pick<Clock, "now">;
  log: Logger;
  nc: NatsConnection;
  assets: Assets;
  opts: Pick<MailstoreOptions, "writes" | "limits">;
  /** read after the account actor's read barrier (see `synced`) */
  store: Pick<MetadataStore, "recordedRequest" | "listItems" | "listFolders" | "getItem">;
  directory: Pick<Directory, "get" | "find" | "mailstore">;
  directoryRequests: Pick<DirectoryRequests, "createAccount" | "releaseAccount">;
  blobs: Pick<BlobStore, "put" | "get">;
  bodies: Pick<ItemBodyReader, "part">;
  accountRecord(idOrName: string): Promise<AccountRecord>;
  rememberAccount(rec: AccountRecord): void;
  accountActor(rec: AccountRecord): ActorRef<MailCommand, MailResult>;
  isAlive(host: string): Promise<boolean>;
}

/**
 * The command's idempotency key: the requestId and a digest of the call's parameters. The
 * account and the requestId itself are left out (the record is per account), so a retry that
 * names the account by id instead of by name is still the same call.
 */
function requestKey(method: string, p: Record<string, unknown>): RequestKey | undefined {
  const { requestId: id, account: _account, ...rest } = p;
  if (typeof id !== "string") return undefined;
  const canonical = JSON.stringify([
    method,
    Object.keys(rest)
      .sort()
      .map((k) => [k, rest[k]]),
  ]);
  return { id, digest: createHash("sha256").update(canonical).digest("hex") };
}

/** With the key when the caller sent a requestId. */
function keyed<C extends MailCommand>(command: C, method: string, p: Record<string, unknown>): C {
  const request = requestKey(method, p);
  return request === undefined ? command : { ...command, request };
}

/** `routing` (mr.rpc.mailbox) also answers rpc.discover; `local` is the node's internal endpoint. */
export function mailboxMethods(node: MailboxContext): { routing: MethodTable<Ctx>; local: MethodTable<Ctx> } {
  return { routing: withDiscover(table(node, true), mailboxDocument()), local: table(node, false) };
}

function table(node: MailboxContext, routing: boolean): MethodTable<Ctx> {
  /** Runs `here` on the account's primary: locally, or forwarded to that mailstore. */
  async function onPrimary<T>(method: string, params: Record<string, unknown>, who: string, here: (rec: AccountRecord) => Promise<T>): Promise<T> {
    let rec = await node.accountRecord(who);
    if (rec.type !== "account") {
      throw new AppError("DISTRIBUTION_LIST_UNSUPPORTED", `${rec.name} is a distribution list; it has no mailbox of its own`, { account: rec.name });
    }
    if (rec.mailHost === node.host) {
      if (!routing) return here(rec);
      try {
        return await here(rec);
      } catch (e) {
        // NOT_PRIMARY here means nothing was done, and this mailstore's copy of the record may
        // be behind (its directory watch lags after a nats-server node loss): read the record
        // again, once, and forward the request if the account moved.
        if ((e as { code?: string; appCode?: string }).code !== "NOT_PRIMARY" && (e as { appCode?: string }).appCode !== "NOT_PRIMARY") throw e;
        const fresh = (await node.directory.get(rec.id)).value;
        node.rememberAccount(fresh);
        if (fresh.mailHost === node.host) throw e;
        return rpcCall<T>(node.nc, nodeMailboxSubject(fresh.mailHost), method, params, { timeoutMs: node.opts.writes.askTimeoutMs + 2_000 });
      }
    }
    if (!routing) throw notPrimary(rec, node.host);
    try {
      return await rpcCall<T>(node.nc, nodeMailboxSubject(rec.mailHost), method, params, { timeoutMs: node.opts.writes.askTimeoutMs + 2_000 });
    } catch (e) {
      // The primary moved while the request travelled: read the directory again, once.
      if ((e as { appCode?: string }).appCode !== "NOT_PRIMARY") throw e;
      rec = (await node.directory.get(rec.id)).value;
      node.rememberAccount(rec);
      if (rec.mailHost === node.host) return here(rec);
      return rpcCall<T>(node.nc, nodeMailboxSubject(rec.mailHost), method, params, { timeoutMs: node.opts.writes.askTimeoutMs + 2_000 });
    }
  }

  /** The first outcome recorded for this call's requestId (same params), after a read barrier; undefined without one. */
  const recordedOutcome = async (rec: AccountRecord, method: string, p: Record<string, unknown>): Promise<MailResult | undefined> => {
    const key = requestKey(method, p);
    if (key === undefined) return undefined;
    const found = (await synced(rec)).recordedRequest(rec.id, key.id);
    return found !== undefined && found.digest === key.digest ? (found.result as MailResult) : undefined;
  };
  const write = (rec: AccountRecord, cmd: MailCommand): Promise<MailResult> => node.accountActor(rec).ask(cmd, node.opts.writes.askTimeoutMs);
  /**
   * The store, once the account's actor has passed a read barrier: it replayed the log to the
   * head when it started, so a read sees every acknowledged write (also after a crash between
   * the log's ack and the SQLite commit, or over an empty data folder).
   */
  const synced = async (rec: AccountRecord): Promise<MailboxContext["store"]> => {
    await write(rec, { op: "sync" });
    return node.store;
  };

  return methodTable<Ctx>([
    defineMethod({
      name: "createAccount",
      params: MAILBOX_METHODS.createAccount.params,
      handler: async (p) => {
        const name = validateNewAccountName(p.name);
        if (p.mailHost !== node.host) {
          if (!(await node.directory.mailstore(p.mailHost)) && !(await node.isAlive(p.mailHost))) {
            throw new AppError(
              "MAILSTORE_UNKNOWN",
              `mailstore '${p.mailHost}' is not known; start it once so it registers (getServices lists the known ones)`,
              { mailHost: p.mailHost },
            );
          }
          if (!routing)
            throw new AppError("NOT_PRIMARY", `${node.host} does not host ${p.mailHost}'s accounts; send createAccount to mr.rpc.mailbox`, {
              mailHost: p.mailHost,
            });
          return rpcCall(node.nc, nodeMailboxSubject(p.mailHost), "createAccount", { ...p, name }, { timeoutMs: node.opts.writes.askTimeoutMs + 2_000 });
        }
        let rec: AccountRecord;
        let created = true;
        try {
          // The supervisor writes the record (only it may write mr_directory), on this host.
          rec = await node.directoryRequests.createAccount({ id: randomUUID(), name, type: p.type });
        } catch (e) {
          if (appCodeOf(e) !== "ACCOUNT_EXISTS") throw e;
          // Idempotent by name: a retry (same mailHost and type) is the account already made.
          const existing = (await node.directory.find(name))?.value;
          if (!existing || existing.mailHost !== p.mailHost || existing.type !== p.type) throw e;
          rec = existing;
          created = false;
        }
        node.rememberAccount(rec);
        if (rec.type === "distributionList") return { id: rec.id, name, mailHost: rec.mailHost, type: rec.type };
        try {
          // On a retry this writes account.created only if the first attempt's never landed.
          await write(rec, keyed({ op: "createAccount", id: rec.id, name, mailHost: node.host }, "createAccount", { ...p, name }));
        } catch (e) {
          // Give the name back only when nothing can have been logged; otherwise a retry
          // finds the record and completes the creation.
          if (created && certainlyNotAppended(e)) await node.directoryRequests.releaseAccount(rec.id).catch(() => {});
          throw e;
        }
        return { id: rec.id, name, mailHost: rec.mailHost, type: rec.type };
      },
    }),
    defineMethod({
      name: "deliverMessage",
      params: MAILBOX_METHODS.deliverMessage.params,
      handler: (p) => {
        if ((p.raw === undefined) === (p.upload === undefined)) {
          throw new RpcError(
            ProtocolErrors.INVALID_PARAMS.code,
            `deliverMessage takes exactly one of raw (the message inline) or upload (the name of an object in the upload object store ${node.assets.opts.uploadsBucket}); got ${p.raw === undefined ? "neither" : "both"}`,
            { params: ["raw", "upload"] },
          );
        }
        return onPrimary("deliverMessage", p, p.account, async (rec) => {
          const maxBytes = node.opts.limits?.maxMessageBytes ?? MAX_MESSAGE_BYTES;
          let body: Uint8Array;
          if (p.raw !== undefined) {
            body = Buffer.from(p.raw, "utf8");
          } else {
            const name = p.upload!;
            try {
              body = await readUpload(node.assets.uploads, node.assets.opts.uploadsBucket, name, maxBytes);
            } catch (e) {
              // A retry of a delivery that was stored (and its upload deleted): its first outcome.
              const first = (e as { code?: string }).code === "UPLOAD_NOT_FOUND" ? await recordedOutcome(rec, "deliverMessage", p) : undefined;
              if (first !== undefined) return first;
              throw e;
            }
          }
          const meta = await parseMessage(body, node.clock.now(), maxBytes);
          // The body goes to centralized storage before the transaction that references it.
          const blob = await node.blobs.put(body);
          const result = await write(rec, keyed({ op: "deliverMessage", folder: p.folder, flags: p.flags, message: { ...meta, blob } }, "deliverMessage", p));
          // Only once the write is acknowledged: until then a retry still needs the upload.
          // One left behind (a crash here, a failed delete) expires with the store's TTL.
          if (p.upload !== undefined)
            await node.assets.uploads
              .delete(p.upload)
              .catch((e: unknown) =>
                node.log.warn(
                  { account: rec.name, upload: p.upload, error: (e as Error)?.message ?? String(e), bucket: node.assets.opts.uploadsBucket },
                  "upload delivered but not deleted; it expires with the bucket's TTL",
                ),
              );
          return result;
        });
      },
    }),
    defineMethod({
      name: "listItems",
      params: MAILBOX_METHODS.listItems.params,
      handler: (p) =>
        onPrimary("listItems", p, p.account, async (rec) => {
          const page = (await synced(rec)).listItems(rec.id, { limit: p.limit, offset: p.offset, ...(p.folder !== undefined ? { folder: p.folder } : {}) });
          // Bounded in bytes too: the answer must fit in one NATS message.
          const maxPayload = node.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD;
          return boundPage(page, p.offset, maxPayload - PAGE_ENVELOPE_RESERVE_BYTES);
        }),
    }),
    defineMethod({
      name: "listFolders",
      params: MAILBOX_METHODS.listFolders.params,
      handler: (p) => onPrimary("listFolders", p, p.account, async (rec) => ({ folders: (await synced(rec)).listFolders(rec.id) })),
    }),
    defineMethod({
      name: "getItem",
      params: MAILBOX_METHODS.getItem.params,
      handler: (p) =>
        onPrimary("getItem", p, p.account, async (rec) => {
          const item = (await synced(rec)).getItem(rec.id, p.id);
          // The answer carries the whole text: refuse clearly what cannot fit in one message
          // (before reading the body when its size already says so), naming the call that reads it.
          const maxPayload = node.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD;
          const budget = maxPayload - PAGE_ENVELOPE_RESERVE_BYTES;
          const maxPart = maxBodyPart(maxPayload);
          const tooLarge = (bytes: number): AppError =>
            new AppError(
              "MESSAGE_TOO_LARGE",
              `item ${p.id} is a ${item.size}-byte message; its text (${bytes} bytes as JSON) does not fit in one answer of at most ${budget} bytes (the NATS max_payload less the envelope); read it in parts with getItemBody (params account, id, offset; up to ${maxPart} bytes an answer, base64, with the size and sha256 of the whole), or on the command line with getItem account A id ${p.id} out FILE; its metadata is in listItems`,
              { id: p.id, size: item.size, limit: budget, readWith: "getItemBody", maxLength: maxPart },
            );
          if (item.size > budget) throw tooLarge(item.size);
          const raw = new TextDecoder().decode(await node.blobs.get(item.blob));
          const encoded = Buffer.byteLength(JSON.stringify(item), "utf8") + Buffer.byteLength(JSON.stringify(raw), "utf8");
          if (encoded > budget) throw tooLarge(encoded);
          return { ...item, raw };
        }),
    }),
    defineMethod({
      name: "getItemBody",
      params: MAILBOX_METHODS.getItemBody.params,
      handler: (p) => {
        // Refused before anything is read; checked again on the primary (the same server bound).
        const maxPayload = node.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD;
        const maxPart = maxBodyPart(maxPayload);
        if (p.length !== undefined && p.length > maxPart) throw lengthTooLarge(p.length, maxPart, maxPayload);
        return onPrimary("getItemBody", p, p.account, async (rec) => {
          const item = (await synced(rec)).getItem(rec.id, p.id);
          return node.bodies.part(item, p.offset, p.length ?? maxPart, maxPart);
        });
      },
    }),
    defineMethod({
      name: "setFlags",
      params: MAILBOX_METHODS.setFlags.params,
      handler: (p) => onPrimary("setFlags", p, p.account, (rec) => write(rec, keyed({ op: "setFlags", ids: p.ids, flags: p.flags }, "setFlags", p))),
    }),
    defineMethod({
      name: "moveItems",
      params: MAILBOX_METHODS.moveItems.params,
      handler: (p) => onPrimary("moveItems", p, p.account, (rec) => write(rec, keyed({ op: "moveItems", ids: p.ids, folder: p.folder }, "moveItems", p))),
    }),
    defineMethod({
      name: "deleteItems",
      params: MAILBOX_METHODS.deleteItems.params,
      handler: (p) => onPrimary("deleteItems", p, p.account, (rec) => write(rec, keyed({ op: "deleteItems", ids: p.ids }, "deleteItems", p))),
    }),
    defineMethod({
      name: "createFolder",
      params: MAILBOX_METHODS.createFolder.params,
      handler: (p) => onPrimary("createFolder", p, p.account, (rec) => write(rec, keyed({ op: "createFolder", path: p.path }, "createFolder", p))),
    }),
    defineMethod({
      name: "renameFolder",
      params: MAILBOX_METHODS.renameFolder.params,
      handler: (p) =>
        onPrimary("renameFolder", p, p.account, (rec) => write(rec, keyed({ op: "renameFolder", path: p.path, newPath: p.newPath }, "renameFolder", p))),
    }),
    defineMethod({
      name: "deleteFolder",
      params: MAILBOX_METHODS.deleteFolder.params,
      handler: (p) => onPrimary("deleteFolder", p, p.account, (rec) => write(rec, keyed({ op: "deleteFolder", path: p.path }, "deleteFolder", p))),
    }),
  ]);
}

function notPrimary(rec: AccountRecord, host: string): AppError {
  return new AppError("NOT_PRIMARY", `${host} is not the primary of ${rec.name} (${rec.mailHost} is); send mailbox requests to mr.rpc.mailbox`, {
    account: rec.name,
    primary: rec.mailHost,
  });
}
