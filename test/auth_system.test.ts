// The whole system under least privilege: a nats-server loading the include of `auth init`,
// two mailstores and a supervisor each with its own nkey and inbox prefix, the test client
// as admin. Everything the system does must be allowed: the server's log is read for
// permission violations (that is how a missing allow shows up).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { promote, waitOperationEnd } from "./helpers/promotion.js";
import { MailstoreNode } from "../actors/mailstore/node.js";
import { assetOptions } from "../src/jetstream/asset_options.js";
import { tempDir } from "./helpers/processes.js";
import { Objm } from "@nats-io/obj";
import { rpcCall } from "../src/jsonrpc/index.js";
import { natsConnectionOptions } from "../src/natsauth/connect_options.js";
import { readItemBody } from "../src/cli/admin/item_download.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2], auth: { supervisors: ["sup1"] } });
});
test.after(async () => {
  await sys?.stop();
});

function violations(): string[] {
  return readFileSync(sys.natsLogFile, "utf8")
    .split("\n")
    .filter((l) => /violation/i.test(l));
}

test("auth system - an anonymous connection is refused by the server the system runs on", async () => {
  const err = await connect({ servers: sys.config.nats.servers, reconnect: false }).then(
    async (nc) => {
      await nc.close();
      return undefined;
    },
    (e: Error) => e,
  );
  assert.ok(err, "an anonymous client connected");
  assert.match(err!.message, /authorization violation/i);
});

test("auth system - create, destination, deliver, promote: all under the generated permissions, no violation logged", async () => {
  await sys.mailbox("createAccount", { name: "alice@example.com", mailHost: MS1 });
  for (let i = 0; i < 3; i++) await sys.mailbox("deliverMessage", { account: "alice@example.com", raw: rawMessage(i) });
  const set = await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: ["alice@example.com"] });
  assert.is((await waitOperationEnd(sys, set.operationId)).state, "successful");
  await waitFor("replica available and caught up", async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: "alice@example.com" })).accounts[0];
    return a?.replicas[0]?.available && a.replicas[0].sequence === a.sequence;
  });
  const m = await promote(sys, { accounts: ["alice@example.com"] });
  assert.is(m.state, "successful", JSON.stringify(m));
  const status = (await sys.admin("getAccountStatus", { accounts: "alice@example.com" })).accounts[0];
  assert.is(status.accountMailHost, MS2);
  // The new primary writes and serves.
  await sys.mailbox("deliverMessage", { account: "alice@example.com", raw: rawMessage(9) });
  const items = await sys.mailbox("listItems", { account: "alice@example.com" });
  assert.is(items.items.length, 4);
  await sys.admin("getServices", {});
  assert.equal(violations(), [], "the server refused something the system does");
});

test("auth system - a client identity delivers a large message through the upload object store and reads it back in parts with getItemBody; no violation logged", async () => {
  const nc = await connect({ ...natsConnectionOptions(sys.config.nats.servers, sys.identity("client")), name: "client uploads" });
  try {
    await sys.mailbox("createAccount", { name: "bob@example.com", mailHost: MS1 });
    const uploads = await new Objm(nc).open(sys.config.jetstream.buckets.uploads);
    // Over one NATS message (1 MiB max_payload): only the upload path can carry it.
    const raw = `${rawMessage(1)}\r\n${"x".repeat(2 * 1024 * 1024)}\r\n`;
    await uploads.putBlob({ name: "bob-big-1" }, Buffer.from(raw, "utf8"));
    const r: any = await rpcCall(nc, "mr.rpc.mailbox", "deliverMessage", { account: "bob@example.com", upload: "bob-big-1" }, { timeoutMs: 30_000 });
    assert.ok(r.itemId, JSON.stringify(r));
    const gone = await uploads.info("bob-big-1");
    assert.ok(gone === null || gone.deleted, "a delivered upload is deleted");
    const items: any = await rpcCall(nc, "mr.rpc.mailbox", "listItems", { account: "bob@example.com" }, { timeoutMs: 10_000 });
    assert.is(items.items.length, 1);
    // The way back: mr.rpc.mailbox alone, no bucket and no key on the client's side.
    const parts: Uint8Array[] = [];
    const read = await readItemBody(
      (p) => rpcCall(nc, "mr.rpc.mailbox", "getItemBody", p, { timeoutMs: 30_000 }),
      "bob@example.com",
      r.itemId,
      async (b) => void parts.push(b),
    );
    assert.ok(read.parts >= 3, `a 2 MiB message takes several answers (${read.parts})`);
    assert.ok(Buffer.concat(parts).equals(Buffer.from(raw, "utf8")), "the exact message");
    assert.equal(violations(), [], "the server refused something the upload or read path does");
  } finally {
    await nc.close();
  }
});

test("auth system - a mailstore may not change an existing stream: another replica count is refused, naming the operator's way", async () => {
  const err = await MailstoreNode.start(
    sys.mailstoreOptions(MS2, { dataDir: tempDir("mr-auth-r3-"), assets: { ...assetOptions(sys.config), replicas: 3 }, startupTimeoutMs: 10_000 }),
  ).then(
    async (n) => {
      await n.stop();
      return undefined;
    },
    (e: Error & { code?: string }) => e,
  );
  assert.is(err?.code, "STREAM_CHANGE_REFUSED", err?.message);
  assert.ok(
    err!.message.includes("stream MR_TX has 1 replica(s), jetstream.replicas says 3") && err!.message.includes("stream edit MR_TX --replicas 3"),
    err!.message,
  );
});

test.run();
