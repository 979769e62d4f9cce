// Encrypted message bodies in mr_blobs, end to end: deliveries through the mailbox JSON-RPC
// of real mailstores on a real nats-server, the stored objects read with the object store
// API directly (what anyone with access to the bucket would see), reads through getItem on
// the primary and on a promoted replica, tampering, legacy plaintext bodies, key ids.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import nacl from "tweetnacl";
import { jetstream } from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { BlobStore } from "../src/blobs/blob_store.js";
import { BlobError } from "../src/blobs/errors.js";
import { loadKeyring } from "../src/keys/index.js";
import { RpcError, rpcCall } from "../src/jsonrpc/index.js";
import { nodeMailboxSubject, type MailstoreNode } from "../actors/mailstore/node.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { promote } from "./helpers/promotion.js";
import { waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;
let ms1: MailstoreNode;
let os: ObjectStore;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  ms1 = await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startSupervisor();
  os = await new Objm(jetstream(sys.nc)).open(sys.config.jetstream.buckets.blobs);
});
test.after(async () => {
  await sys?.stop();
});

/** The cluster key file every node of the test shares. */
function clusterKeys(): { current: string; keys: Record<string, string> } {
  return JSON.parse(readFileSync(join(sys.config.keys.dir, "cluster.secretbox.json"), "utf8"));
}

/** A message whose body is `body` (so a test can look for its bytes). */
function message(n: number, to: string, body: string): string {
  return `From: sender${n}@example.org\r\nTo: ${to}\r\nSubject: secret ${n}\r\nMessage-ID: <s${n}.${randomBytes(4).toString("hex")}@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\n${body}\r\n`;
}

async function account(name: string): Promise<void> {
  await sys.mailbox("createAccount", { name, mailHost: MS1 });
}

async function deliver(name: string, raw: string): Promise<{ itemId: number; blob: string }> {
  return sys.mailbox("deliverMessage", { account: name, raw });
}

async function rpcFailure(call: Promise<unknown>): Promise<RpcError> {
  try {
    await call;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error("the call succeeded; it was expected to fail");
}

/** Makes the next body ms1 stores go where `store` says (then the real put again). */
function divertNextPut(store: (raw: string | Uint8Array) => Promise<string>): void {
  const put = ms1.blobs.put.bind(ms1.blobs);
  ms1.blobs.put = async (raw: string | Uint8Array): Promise<string> => {
    ms1.blobs.put = put;
    return store(raw);
  };
}

/** What versions before encryption did: the plaintext under its sha256 hex. */
async function putLegacy(raw: string | Uint8Array): Promise<string> {
  const bytes = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
  const digest = createHash("sha256").update(bytes).digest("hex");
  await os.putBlob({ name: digest }, bytes);
  return digest;
}

test("blobs - the stored object holds no plaintext, its name is not the sha256, and it is the documented secretbox frame", async () => {
  await account("enc1@example.com");
  const secret = `the launch code is ${randomBytes(16).toString("hex")}`;
  const raw = message(1, "enc1@example.com", secret.repeat(50));
  const d = await deliver("enc1@example.com", raw);
  const sha = createHash("sha256").update(raw, "utf8").digest("hex");
  const { current, keys } = clusterKeys();
  assert.ok(!d.blob.includes(sha), "the name does not contain the plaintext's sha256");
  assert.match(d.blob, new RegExp(`^b1\\.${current.replace(/[.]/g, "\\.")}\\.[0-9a-f]{64}$`));
  assert.is(await os.info(sha), null, "nothing is stored under the plaintext's sha256");

  const stored = Buffer.from((await os.getBlob(d.blob))!);
  assert.is(stored.includes(Buffer.from(secret)), false, "the body's text is not in the stored bytes");
  assert.is(stored.includes(Buffer.from("enc1@example.com")), false, "nor are its headers");
  assert.is(stored.length, 46 + current.length + Buffer.byteLength(raw));

  // The frame of docs/architecture.md, opened with tweetnacl's standard secretbox.open.
  assert.is(stored.subarray(0, 4).toString("latin1"), "MRBL");
  assert.is(stored[4], 1);
  const kidLength = stored[5]!;
  assert.is(stored.subarray(6, 6 + kidLength).toString("latin1"), current);
  const nonce = stored.subarray(6 + kidLength, 30 + kidLength);
  const cluster = Buffer.from(keys[current]!, "base64");
  const boxKey = new Uint8Array(hkdfSync("sha256", cluster, Buffer.from("mailreplica/blobs"), Buffer.from("body box v1"), 32));
  const opened = nacl.secretbox.open(new Uint8Array(stored.subarray(30 + kidLength)), new Uint8Array(nonce), boxKey);
  assert.ok(opened, "the box opens with nacl.secretbox.open under the derived box key");
  assert.is(Buffer.from(opened!).toString("utf8"), raw);
  const nameKey = Buffer.from(hkdfSync("sha256", cluster, Buffer.from("mailreplica/blobs"), Buffer.from("body name v1"), 32));
  assert.is(d.blob, `b1.${current}.${createHmac("sha256", nameKey).update(raw, "utf8").digest("hex")}`);

  const item = await sys.mailbox("getItem", { account: "enc1@example.com", id: d.itemId });
  assert.is(item.raw, raw);
  assert.is(item.blob, d.blob);
});

test("blobs - the same body delivered twice and to two accounts is stored once", async () => {
  await account("dup1@example.com");
  await account("dup2@example.com");
  const raw = message(2, "team@example.com", `shared body ${randomBytes(8).toString("hex")}`);
  const a = await deliver("dup1@example.com", raw);
  const first = (await os.info(a.blob))!;
  const b = await deliver("dup1@example.com", raw);
  const c = await deliver("dup2@example.com", raw);
  assert.is(b.blob, a.blob);
  assert.is(c.blob, a.blob);
  assert.ok(a.itemId !== b.itemId, "two items");
  const after = (await os.info(a.blob))!;
  assert.is(after.nuid, first.nuid, "the object was not written again");
  assert.is(after.revision, first.revision);
  assert.is((await os.list()).filter((o) => o.name === a.blob).length, 1);
  for (const [acct, id] of [
    ["dup1@example.com", a.itemId],
    ["dup1@example.com", b.itemId],
    ["dup2@example.com", c.itemId],
  ] as const) {
    assert.is((await sys.mailbox("getItem", { account: acct, id })).raw, raw);
  }
});

test("blobs - bodies (several chunks, and a legacy plaintext one) read back equal on the primary and on a promoted replica", async () => {
  const name = "promo@example.com";
  await account(name);
  const big = message(3, name, Array.from({ length: 6_000 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\r\n")); // ~300 KB: 3 chunks
  const small = rawMessage(4, name);
  const legacy = message(5, name, `stored in plaintext by an earlier version ${randomBytes(8).toString("hex")}`);
  const dBig = await deliver(name, big);
  const dSmall = await deliver(name, small);
  divertNextPut(putLegacy);
  const dLegacy = await deliver(name, legacy);
  assert.match(dLegacy.blob, /^[0-9a-f]{64}$/, "the legacy body is named by its sha256, as before encryption");
  assert.ok((await os.info(dBig.blob))!.chunks > 1, "the large body is chunked");

  const bodies: Array<[number, string]> = [
    [dBig.itemId, big],
    [dSmall.itemId, small],
    [dLegacy.itemId, legacy],
  ];
  for (const [id, raw] of bodies) assert.is((await sys.mailbox("getItem", { account: name, id })).raw, raw, `item ${id} on the primary`);

  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: name });
  await waitFor(
    `${name} replica caught up`,
    async () => {
      const a = (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
      return a.replicas.length === 1 && a.replicas[0].available && a.replicas[0].sequence === a.sequence;
    },
    30_000,
  );
  const m = await promote(sys, { accounts: name });
  assert.is(m.state, "successful", JSON.stringify(m.failed));
  assert.is(m.promoted[0]!.to, MS2);
  for (const [id, raw] of bodies) {
    const item = await rpcCall<{ raw: string }>(sys.nc, nodeMailboxSubject(MS2), "getItem", { account: name, id }, { timeoutMs: 15_000 });
    assert.is(item.raw, raw, `item ${id} on the promoted replica`);
  }
});

test("blobs - a body changed, replaced or cut in storage gives BLOB_UNREADABLE; so does a changed legacy body", async () => {
  const name = "tamper@example.com";
  await account(name);
  const victim = await deliver(name, message(6, name, "the original body"));
  const other = await deliver(name, message(7, name, "another body"));

  const original = Buffer.from((await os.getBlob(victim.blob))!);
  const flipped = Buffer.from(original);
  flipped[flipped.length - 3]! ^= 0x01;
  await os.putBlob({ name: victim.blob }, flipped);
  let e = await rpcFailure(sys.mailbox("getItem", { account: name, id: victim.itemId }));
  assert.is(e.appCode, "BLOB_UNREADABLE");
  assert.is(e.code, -32032);
  assert.match(e.message, /restore it from a backup/);
  assert.is((e.data as { blob?: string }).blob, victim.blob);

  // A valid box of another body under this body's name: authenticates, but not as this body.
  await os.putBlob({ name: victim.blob }, (await os.getBlob(other.blob))!);
  e = await rpcFailure(sys.mailbox("getItem", { account: name, id: victim.itemId }));
  assert.is(e.appCode, "BLOB_UNREADABLE");
  assert.match(e.message, /another message body/);

  await os.putBlob({ name: victim.blob }, original.subarray(0, 20));
  e = await rpcFailure(sys.mailbox("getItem", { account: name, id: victim.itemId }));
  assert.is(e.appCode, "BLOB_UNREADABLE");

  // Put back as it was (what restoring from a backup does), it reads again.
  await os.putBlob({ name: victim.blob }, original);
  assert.match((await sys.mailbox("getItem", { account: name, id: victim.itemId })).raw, /the original body/);

  divertNextPut(putLegacy);
  const legacy = await deliver(name, message(8, name, "legacy body"));
  const plain = Buffer.from((await os.getBlob(legacy.blob))!);
  plain[plain.length - 4]! ^= 0x20;
  await os.putBlob({ name: legacy.blob }, plain);
  e = await rpcFailure(sys.mailbox("getItem", { account: name, id: legacy.itemId }));
  assert.is(e.appCode, "BLOB_UNREADABLE");
  assert.match(e.message, /sha256/);

  await os.delete(other.blob);
  e = await rpcFailure(sys.mailbox("getItem", { account: name, id: other.itemId }));
  assert.is(e.appCode, "BLOB_MISSING");
});

test("blobs - after a key rotation old bodies stay readable, equal bodies get a new name, and a node without the new key id says BLOB_KEY_UNKNOWN", async () => {
  const name = "rotate@example.com";
  await account(name);
  const raw = message(9, name, `body before the rotation ${randomBytes(8).toString("hex")}`);
  const before = await deliver(name, raw);

  // A keyring that rotated: a new current kid, the old one kept for reading.
  const rotated = loadKeyring({ dir: sys.config.keys.dir, host: MS1 });
  rotated.addKey("k9-rotated", nacl.randomBytes(32), { current: true });
  const newer = new BlobStore(os, rotated, { bucket: sys.config.jetstream.buckets.blobs });
  assert.is(Buffer.from(await newer.get(before.blob)).toString("utf8"), raw, "a body written under the old kid reads after the rotation");
  const renamed = await newer.put(raw);
  assert.match(renamed, /^b1\.k9-rotated\.[0-9a-f]{64}$/);
  assert.ok(renamed !== before.blob, "dedup is per key id: the same body under the new kid is stored once more");
  assert.is(await newer.put(raw), renamed, "and once only");

  // ms1 does not hold k9-rotated: an item referencing such a body names the key id to copy.
  divertNextPut((r) => newer.put(r));
  const after = await deliver(name, raw);
  assert.is(after.blob, renamed);
  const e = await rpcFailure(sys.mailbox("getItem", { account: name, id: after.itemId }));
  assert.is(e.appCode, "BLOB_KEY_UNKNOWN");
  assert.is(e.code, -32033);
  assert.is((e.data as { kid?: string }).kid, "k9-rotated");
  assert.match(e.message, /cluster\.secretbox\.json/);
  try {
    await ms1.blobs.get(renamed);
    assert.unreachable("ms1 read a body under a key id it does not hold");
  } catch (err) {
    assert.is((err as BlobError).code, "BLOB_KEY_UNKNOWN");
  }
});

test("blobs - a 25 MiB body is stored in chunks and read back equal", async () => {
  const line = "0123456789abcdefghijklmnopqrstuvwxyz".repeat(2) + "\r\n";
  const body = `Subject: big\r\n\r\n${line.repeat(Math.ceil((25 * 1024 * 1024 - 16) / line.length))}`.slice(0, 25 * 1024 * 1024);
  const name = await ms1.blobs.put(body);
  const info = (await os.info(name))!;
  assert.ok(info.chunks >= 200, `${info.chunks} chunks`);
  const stored = Buffer.from((await os.getBlob(name))!);
  assert.is(stored.includes(Buffer.from(line.repeat(2))), false, "no plaintext in the stored chunks");
  const back = await ms1.blobs.get(name);
  assert.is(back.length, 25 * 1024 * 1024);
  assert.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(body, "utf8")));
});

test("blobs - a name that is neither form is refused with BLOB_UNREADABLE and reads nothing", async () => {
  for (const bad of ["", "b1.k1.abc", "../x", "B1.k1." + "0".repeat(64), "0".repeat(63)]) {
    try {
      await ms1.blobs.get(bad);
      assert.unreachable(`${JSON.stringify(bad)} was accepted`);
    } catch (e) {
      assert.instance(e, BlobError);
      assert.is((e as BlobError).code, "BLOB_UNREADABLE", bad);
    }
  }
});

test.run();
