// What each identity may publish and subscribe to, derived from what the code really does:
//   mailstore (actors/mailstore/node.ts and what it runs): serves mr.rpc.mailbox (queue mr-mailbox)
//     and its own mr.node.<host>.mailbox|admin; forwards mailbox calls to the account's primary
//     (mr.node.<h>.mailbox); appends to mr.tx.<id>; publishes mr.notify.<kind>; asks the
//     supervisor for directory writes on mr.directory.<host> (its own host only: the subject
//     is what tells the supervisor who asks); reads the directory bucket but writes nothing in
//     it; writes its heartbeat node.<host> in the nodes bucket, blobs in the object store;
//     reads and consumes MR_TX; writes snapshots of the accounts it is primary of (mr.snap.<id>.<seq>)
//     and reads any.
//   supervisor (actors/supervisor/node.ts): serves mr.rpc.admin (queue mr-admin); calls every
//     mailstore's mr.node.<h>.admin and .mailbox and mr.rpc.mailbox (admin notices); answers
//     mr.directory.> (queue mr-directory); the only writer of the directory bucket (lease,
//     operations, account and name records, mailstore registrations); heartbeat supervisor.<host>;
//     compacts: purges an account's log below a snapshot it verified, and snapshots no longer needed.
//   admin (CLI, REPL): calls mr.rpc.admin and mr.rpc.mailbox, reads mr.notify.>, uploads like a client.
//   client (webmail, MTA): calls mr.rpc.mailbox, and puts large messages into the upload
//     object store (mr_uploads) for deliverMessage `upload`.
//   operator: the JetStream API as a whole (stream edit, purge, delete), nothing of mail.
//   Service discovery (src/micro, `nats micro ls`): mailstores and supervisors answer
//   $SRV.PING|INFO|STATS for the service names they register (src/protocol/service_names.ts),
//   their answers going out as responses; admin and operator may ask ($SRV.>), client may not.
// The JetStream API is allowed per stream: the account logs, notifications, and the streams
// behind the KV buckets (KV_<bucket>) and the object store (OBJ_<bucket>). Processes may
// create a missing stream but never update, purge or delete one (operator only), except that the
// supervisor purges MR_TX and MR_SNAP by subject for compaction (docs/architecture.md, Snapshots
// and compaction): a purge names its subject only in its body, so a mailstore may not purge at all.
import type { JetStreamConfig } from "../config/index.js";
import { inboxPrefixOf, type Identity } from "./identities.js";
import { SERVICE_API_PREFIX, SERVICE_VERBS } from "../micro/index.js";
import { SERVICES_OF_ROLE } from "../protocol/service_names.js";

export interface Permissions {
  publish: string[];
  subscribe: string[];
  /**
   * may answer requests it received (publish to their reply subjects): once each (`true`), or
   * up to `max` times each (a process running several NATS services answers a discovery
   * request such as $SRV.PING once per service, on one connection)
   */
  allowResponses: boolean | { max: number };
}

/** What the permissions are derived from: the asset names and the deployment's hosts. */
export interface PermissionContext {
  jetstream: Pick<JetStreamConfig, "streams" | "buckets">;
  /** every mailstore host (a mailstore forwards to the others, the supervisor calls them all) */
  mailstores: readonly string[];
}

export const ADMIN_RPC = "mr.rpc.admin";
export const MAILBOX_RPC = "mr.rpc.mailbox";
const TX = "mr.tx.*";
const NOTIFY = "mr.notify.>";
const SNAPSHOTS = "mr.snap.*.*";
const nodeMailbox = (h: string): string => `mr.node.${h}.mailbox`;
const nodeAdmin = (h: string): string => `mr.node.${h}.admin`;
/** Directory writes a mailstore asks of the supervisor (actors/shared/directory_requests.ts). */
const DIRECTORY_REQUESTS = "mr.directory.>";
const directoryRequest = (h: string): string => `mr.directory.${h}`;
/**
 * How many answers a process may publish to one reply subject. One per NATS service it runs
 * (a discovery request reaches each service's own subscription), plus one: nats-server
 * 2.10.27 refused the second of two answers from two subscriptions of one connection at
 * `max: 2` and allowed both at `max: 3` (measured; one subscription answering twice passed at 2).
 */
const responsesFor = (services: readonly string[]): { max: number } => ({ max: services.length + 1 });
/** Asking every service for discovery (`nats micro ls|info|stats`). */
export const SERVICE_DISCOVERY = `${SERVICE_API_PREFIX}.>`;

/** The discovery subjects a process answers on for its services: each verb for all, by name, by name and id. */
function discoveryAnswers(names: readonly string[]): string[] {
  return SERVICE_VERBS.flatMap((verb) => [
    `${SERVICE_API_PREFIX}.${verb}`,
    ...names.flatMap((n) => [`${SERVICE_API_PREFIX}.${verb}.${n}`, `${SERVICE_API_PREFIX}.${verb}.${n}.*`]),
  ]);
}

/** The JetStream streams mailreplica's processes use, by their server-side names. */
export function streamNames(js: PermissionContext["jetstream"]): string[] {
  return [
    js.streams.tx,
    js.streams.notify,
    js.streams.snapshots,
    `KV_${js.buckets.directory}`,
    `KV_${js.buckets.nodes}`,
    `OBJ_${js.buckets.blobs}`,
    `OBJ_${js.buckets.uploads}`,
  ];
}

/** The JetStream API a mailstore or supervisor needs on `stream`: create (never update), read, consume, ack. */
function streamApi(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    // CREATE/INFO/DELETE/NAMES/LIST/MSG.NEXT of consumers on this stream only.
    `$JS.API.CONSUMER.*.${stream}`,
    `$JS.API.CONSUMER.*.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * What a client or admin needs to put a large message into the upload object store (and remove
 * it again): its chunk and meta subjects, and the JetStream API of that one store's stream
 * (info, reads of the meta, purge of an object's chunks when it is replaced or deleted).
 */
function uploadApi(ctx: PermissionContext): string[] {
  const uploads = ctx.jetstream.buckets.uploads;
  const stream = `OBJ_${uploads}`;
  return [
    `$O.${uploads}.>`,
    "$JS.API.INFO",
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.STREAM.PURGE.${stream}`,
  ];
}

function processJetStream(ctx: PermissionContext): string[] {
  return ["$JS.API.INFO", ...streamNames(ctx.jetstream).flatMap(streamApi)];
}

/** The permissions of one identity. */
export function permissionsOf(id: Identity, ctx: PermissionContext): Permissions {
  const inbox = `${inboxPrefixOf(id)}.>`;
  const dir = ctx.jetstream.buckets.directory;
  const nodes = ctx.jetstream.buckets.nodes;
  const blobs = ctx.jetstream.buckets.blobs;
  switch (id.role) {
    case "mailstore": {
      const host = id.host!;
      return {
        publish: [
          TX,
          NOTIFY,
          SNAPSHOTS,
          ...ctx.mailstores.map(nodeMailbox),
          // No directory key: records are the supervisor's to write, asked on this subject.
          directoryRequest(host),
          // Its own heartbeat only (actors/shared/heartbeat.ts heartbeatKey).
          `$KV.${nodes}.node.${host}`,
          `$O.${blobs}.>`,
          // Messages clients put for deliverMessage `upload`: read, then deleted once delivered.
          `$O.${ctx.jetstream.buckets.uploads}.>`,
          `$JS.API.STREAM.PURGE.OBJ_${ctx.jetstream.buckets.uploads}`,
          ...processJetStream(ctx),
        ],
        subscribe: [inbox, MAILBOX_RPC, nodeMailbox(host), nodeAdmin(host), ...discoveryAnswers(SERVICES_OF_ROLE.mailstore)],
        allowResponses: responsesFor(SERVICES_OF_ROLE.mailstore),
      };
    }
    case "supervisor":
      return {
        publish: [
          NOTIFY,
          MAILBOX_RPC,
          ...ctx.mailstores.flatMap((h) => [nodeAdmin(h), nodeMailbox(h)]),
          `$KV.${dir}.>`,
          `$KV.${nodes}.supervisor.${id.host!}`,
          `$JS.API.STREAM.PURGE.${ctx.jetstream.streams.tx}`,
          `$JS.API.STREAM.PURGE.${ctx.jetstream.streams.snapshots}`,
          ...processJetStream(ctx),
        ],
        subscribe: [inbox, ADMIN_RPC, DIRECTORY_REQUESTS, ...discoveryAnswers(SERVICES_OF_ROLE.supervisor)],
        allowResponses: responsesFor(SERVICES_OF_ROLE.supervisor),
      };
    case "admin":
      return { publish: [ADMIN_RPC, MAILBOX_RPC, SERVICE_DISCOVERY, ...uploadApi(ctx)], subscribe: [inbox, NOTIFY], allowResponses: false };
    case "client":
      return { publish: [MAILBOX_RPC, ...uploadApi(ctx)], subscribe: [inbox], allowResponses: false };
    case "operator":
      return { publish: ["$JS.API.>", "$JS.ACK.>", "$JS.FC.>", SERVICE_DISCOVERY], subscribe: [inbox], allowResponses: false };
  }
}
