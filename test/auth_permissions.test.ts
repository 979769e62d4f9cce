// The permission table of `auth init`, enforced by a real nats-server loading its include,
// with the system running (two mailstores, a supervisor): every role tries every operation
// and each is allowed or refused as listed. Operations that would harm the running system if
// allowed are made harmless (a purge filtered to an unused subject, a log subject of no
// account, a directory key nobody reads).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { rpcCall, RpcError } from "../src/jsonrpc/index.js";
import { natsConnectionOptions } from "../src/natsauth/connect_options.js";
import { isPermissionViolation } from "../src/runtime/nats_failure.js";
import type { Role } from "../src/natsauth/identities.js";
import { TestSystem } from "./helpers/system.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;

type Who = "mailstore" | "supervisor" | "admin" | "client" | "operator";
const WHO: readonly Who[] = ["mailstore", "supervisor", "admin", "client", "operator"];
const conns = new Map<Who, NatsConnection>();

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2], auth: { supervisors: ["sup1"] } });
  // The mailstore row is ms1's identity, the supervisor row sup1's (a second connection each).
  const hostOf: Record<Who, string | undefined> = { mailstore: MS1, supervisor: "sup1", admin: undefined, client: undefined, operator: undefined };
  for (const who of WHO) {
    conns.set(who, await connect({ ...natsConnectionOptions(sys.config.nats.servers, sys.identity(who as Role, hostOf[who])), name: `table ${who}` }));
  }
});
test.after(async () => {
  for (const nc of conns.values()) await nc.close().catch(() => {});
  await sys?.stop();
});

type Outcome = "allowed" | "refused";

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    await run();
    return "allowed";
  } catch (e) {
    if (isPermissionViolation(e)) return "refused";
    // An answer from the other side (an application error) means the call got through.
    if (e instanceof RpcError) return "allowed";
    throw e;
  }
}

/** Subscribes (optionally in a queue group); refused when the server closes it with a permission error. */
async function trySubscribe(nc: NatsConnection, subject: string, queue?: string): Promise<void> {
  const sub = nc.subscribe(subject, queue ? { queue } : {});
  // The server answers SUB before the PONG of this flush: a refusal has arrived by then.
  await nc.flush();
  // nats.js closes the subscription with the server's error as soon as it reads it.
  if (!sub.isClosed()) {
    sub.unsubscribe();
    return;
  }
  const err = await sub.closed;
  throw err instanceof Error ? err : new Error(`subscription to ${subject} closed without an error`); // not a refusal: fails the test
}

interface Row {
  what: string;
  allowed: readonly Who[];
  /** allowed, but not run against the live system (it would destroy it); proved on a scratch stream below */
  notRun?: readonly Who[];
  run(nc: NatsConnection): Promise<unknown>;
}

const ROWS: readonly Row[] = [
  { what: "admin call (mr.rpc.admin getServices)", allowed: ["admin"], run: (nc) => rpcCall(nc, "mr.rpc.admin", "getServices", {}, { timeoutMs: 5_000 }) },
  {
    what: "mailbox call (mr.rpc.mailbox listItems)",
    allowed: ["admin", "client", "supervisor"],
    run: (nc) => rpcCall(nc, "mr.rpc.mailbox", "listItems", { account: "nobody@example.com" }, { timeoutMs: 5_000 }),
  },
  {
    what: "a mailstore's own admin endpoint (mr.node.ms1.admin ping)",
    allowed: ["supervisor"],
    run: (nc) => rpcCall(nc, `mr.node.${MS1}.admin`, "ping", {}, { timeoutMs: 5_000 }),
  },
  { what: "append to an account log (mr.tx.<id>)", allowed: ["mailstore"], run: (nc) => jetstream(nc).publish(`mr.tx.${randomUUID()}`, "x") },
  {
    what: "KV put into mr_directory outside account records (lease, operations)",
    allowed: ["supervisor"],
    run: (nc) => jetstream(nc).publish(`$KV.mr_directory.probe.${randomUUID()}`, "x"),
  },
  { what: "KV put of another mailstore's heartbeat (mr_nodes node.ms2)", allowed: [], run: (nc) => jetstream(nc).publish(`$KV.mr_nodes.node.${MS2}`, "x") },
  {
    // The supervisor compacts account logs (actors/supervisor/log_compactor.ts); a mailstore may not.
    what: "stream purge (MR_TX, filtered to an unused subject)",
    allowed: ["operator", "supervisor"],
    run: (nc) => nc.request("$JS.API.STREAM.PURGE.MR_TX", JSON.stringify({ filter: `mr.tx.${randomUUID()}` }), { timeout: 5_000 }),
  },
  {
    what: "stream purge (MR_SNAP, filtered to an unused subject)",
    allowed: ["operator", "supervisor"],
    run: (nc) => nc.request("$JS.API.STREAM.PURGE.MR_SNAP", JSON.stringify({ filter: `mr.snap.${randomUUID()}.1` }), { timeout: 5_000 }),
  },
  {
    what: "write a snapshot (mr.snap.<id>.<seq>)",
    allowed: ["mailstore"],
    run: (nc) => jetstream(nc).publish(`mr.snap.${randomUUID()}.1`, "x"),
  },
  {
    what: "stream delete (KV_mr_directory)",
    allowed: ["operator"],
    notRun: ["operator"],
    run: (nc) => nc.request("$JS.API.STREAM.DELETE.KV_mr_directory", "", { timeout: 5_000 }),
  },
  { what: "queue-group join on mr.rpc.admin (mr-admin)", allowed: ["supervisor"], run: (nc) => trySubscribe(nc, "mr.rpc.admin", "mr-admin") },
  { what: "subscribe to mr.rpc.admin", allowed: ["supervisor"], run: (nc) => trySubscribe(nc, "mr.rpc.admin") },
  { what: "subscribe to the admin's reply inbox", allowed: ["admin"], run: (nc) => trySubscribe(nc, "_INBOX_admin.>") },
  { what: "subscribe to ms2's reply inbox", allowed: [], run: (nc) => trySubscribe(nc, "_INBOX_mailstore_ms2_example_com.>") },
  { what: "subscribe to another mailstore's admin endpoint (mr.node.ms2.admin)", allowed: [], run: (nc) => trySubscribe(nc, `mr.node.${MS2}.admin`) },
  { what: "read notifications (mr.notify.>)", allowed: ["admin"], run: (nc) => trySubscribe(nc, "mr.notify.>") },
  // Only the supervisor writes the directory; a mailstore asks it on mr.directory.<its host>.
  {
    what: "KV put of an account record (mr_directory acct.<id>)",
    allowed: ["supervisor"],
    run: (nc) => jetstream(nc).publish(`$KV.mr_directory.acct.${randomUUID()}`, "x"),
  },
  {
    what: "KV put of a name record (mr_directory name.<hex>)",
    allowed: ["supervisor"],
    run: (nc) => jetstream(nc).publish(`$KV.mr_directory.name.${randomUUID().replace(/-/g, "")}`, "x"),
  },
  {
    what: "KV put of a mailstore registration (mr_directory mailstore.ms1)",
    allowed: ["supervisor"],
    run: (nc) => jetstream(nc).publish(`$KV.mr_directory.mailstore.${MS1}`, "x"),
  },
  // releaseAccount of an id no account has: answered { released: false }, changes nothing.
  {
    what: "a directory request for itself (mr.directory.ms1)",
    allowed: ["mailstore"],
    run: (nc) => rpcCall(nc, `mr.directory.${MS1}`, "releaseAccount", { account: randomUUID() }, { timeoutMs: 5_000 }),
  },
  {
    what: "a directory request as another mailstore (mr.directory.ms2)",
    allowed: [],
    run: (nc) => rpcCall(nc, `mr.directory.${MS2}`, "releaseAccount", { account: randomUUID() }, { timeoutMs: 5_000 }),
  },
  { what: "answer directory requests (subscribe mr.directory.>)", allowed: ["supervisor"], run: (nc) => trySubscribe(nc, "mr.directory.>", "mr-directory") },
  { what: "subscribe to mr.rpc.mailbox (every deliverMessage)", allowed: ["mailstore"], run: (nc) => trySubscribe(nc, "mr.rpc.mailbox") },
  { what: "subscribe to everything (mr.>)", allowed: [], run: (nc) => trySubscribe(nc, "mr.>") },
  {
    what: "read the blob store's stream (OBJ_mr_blobs info)",
    allowed: ["mailstore", "supervisor", "operator"],
    run: (nc) => nc.request("$JS.API.STREAM.INFO.OBJ_mr_blobs", "", { timeout: 5_000 }),
  },
  // Service discovery (`nats micro ls`): the operator's identities ask, the processes answer for their own services.
  { what: "discovery request ($SRV.PING, nats micro ls)", allowed: ["admin", "operator"], run: (nc) => nc.request("$SRV.PING", "", { timeout: 5_000 }) },
  {
    what: "discovery request by name ($SRV.STATS.mailreplica-mailbox)",
    allowed: ["admin", "operator"],
    run: (nc) => nc.request("$SRV.STATS.mailreplica-mailbox", "", { timeout: 5_000 }),
  },
  { what: "answer pings (subscribe $SRV.PING)", allowed: ["mailstore", "supervisor"], run: (nc) => trySubscribe(nc, "$SRV.PING") },
  {
    what: "answer discovery as the admin service ($SRV.INFO.mailreplica-admin)",
    allowed: ["supervisor"],
    run: (nc) => trySubscribe(nc, "$SRV.INFO.mailreplica-admin"),
  },
  {
    what: "answer discovery as a mailstore's node service ($SRV.STATS.mailreplica-node.<id>)",
    allowed: ["mailstore"],
    run: (nc) => trySubscribe(nc, "$SRV.STATS.mailreplica-node.X1"),
  },
  { what: "subscribe to every discovery subject ($SRV.>)", allowed: [], run: (nc) => trySubscribe(nc, "$SRV.>") },
  {
    what: "put into the upload store (mr_uploads chunk)",
    allowed: ["admin", "client", "mailstore"],
    run: (nc) => jetstream(nc).publish(`$O.mr_uploads.C.${randomUUID().replace(/-/g, "")}`, "x"),
  },
];

for (const row of ROWS) {
  test(`auth permissions - ${row.what}: ${row.allowed.length ? `only ${row.allowed.join(", ")}` : "nobody"}`, async () => {
    for (const who of WHO) {
      if (row.notRun?.includes(who)) continue;
      const got = await outcome(() => row.run(conns.get(who)!));
      assert.is(got, row.allowed.includes(who) ? "allowed" : "refused", `${who}: ${row.what}`);
    }
  });
}

test("auth permissions - the stream delete the operator may do is really allowed (on a stream of its own)", async () => {
  const nc = conns.get("operator")!;
  const name = `SCRATCH_${randomUUID().replace(/-/g, "")}`;
  await nc.request(`$JS.API.STREAM.CREATE.${name}`, JSON.stringify({ name, subjects: [`scratch.${name}`], storage: "memory" }), { timeout: 5_000 });
  const r = JSON.parse(new TextDecoder().decode((await nc.request(`$JS.API.STREAM.DELETE.${name}`, "", { timeout: 5_000 })).data)) as { success?: boolean };
  assert.is(r.success, true);
});

test("auth permissions - an anonymous connection is refused", async () => {
  const err = await connect({ servers: sys.config.nats.servers, reconnect: false }).then(
    async (nc) => {
      await nc.close();
      return undefined;
    },
    (e: Error) => e,
  );
  assert.match(err?.message ?? "connected", /authorization violation/i);
});

test.run();
