import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import nacl from "tweetnacl";
import { EnvelopeKeyring, seal } from "../src/envelope/index.js";
import { encode } from "../src/codec/index.js";
import { SubjectLog } from "../src/runtime/subject_log.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.start({ hosts: ["ms1.example.com", "ms2.example.com"] });
  await sys.startMailstore("ms1.example.com");
  await sys.startMailstore("ms2.example.com");
  await sys.startSupervisor();
});
test.after(async () => {
  await sys?.stop();
});

/** An account on ms1 with a caught-up replica on ms2; returns its id and log head. */
async function replicatedAccount(name: string): Promise<{ id: string; head: number }> {
  const { id } = await sys.mailbox("createAccount", { name, mailHost: "ms1.example.com" });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: [name] });
  const st = await waitFor(`replica of ${name} caught up`, async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
    return a.replicas[0]?.available && a.replicas[0].sequence === a.sequence ? a : undefined;
  });
  return { id, head: st.sequence };
}

function clusterKey(): { kid: string; key: Uint8Array } {
  const f = JSON.parse(readFileSync(join(sys.config.keys.dir, "cluster.secretbox.json"), "utf8")) as { current: string; keys: Record<string, string> };
  return { kid: f.current, key: new Uint8Array(Buffer.from(f.keys[f.current]!, "base64")) };
}

function batch(id: string, prev: number) {
  return { v: 1, account: id, epoch: 1, writer: "ms1.example.com", at: Date.now(), prev, events: [{ t: "items.deleted", ids: [257] }] };
}

async function publishForged(id: string, head: number, data: Uint8Array): Promise<number> {
  const js = jetstream(sys.nc);
  // Chained like a real entry (expected last subject seq), so only the envelope check can stop it.
  const ack = await js.publish(`mr.tx.${id}`, data, { expect: { lastSubjectSequence: head } });
  return ack.seq;
}

async function notificationsFor(accountId: string): Promise<Array<Record<string, unknown>>> {
  const js = jetstream(sys.nc);
  const c = await js.consumers.get("MR_NOTIFY", { filter_subjects: ["mr.notify.replica.unavailable"], opt_start_seq: 1 });
  const out: Array<Record<string, unknown>> = [];
  const msgs = await c.fetch({ max_messages: 100, expires: 1_000 });
  for await (const m of msgs) {
    const n = m.json<Record<string, unknown>>();
    if (n.account === accountId) out.push(n);
  }
  await c.delete();
  return out;
}

async function expectRefused(name: string, forge: (id: string, head: number) => Uint8Array, code: string): Promise<void> {
  const { id, head } = await replicatedAccount(name);
  const ms2 = sys.inProcess.get("ms2.example.com")!.store;
  const before = JSON.stringify(ms2.dumpAccount(id));
  const seq = await publishForged(id, head, forge(id, head));
  const st = await waitFor(`replica of ${name} unavailable`, async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: name })).accounts[0];
    return a.replicas[0]?.status === "unavailable" ? a.replicas[0] : undefined;
  });
  assert.is(st.available, false);
  assert.ok(String(st.error).includes(code), `error names ${code}: ${st.error}`);
  assert.ok(String(st.error).includes(`seq ${seq}`), `error names the seq: ${st.error}`);
  assert.is(st.sequence, head, "the forged entry was not applied");
  assert.is(JSON.stringify(ms2.dumpAccount(id)), before, "nothing of it reached the replica's rows");
  const notes = await waitFor("admin notification", async () => {
    const n = await notificationsFor(id);
    return n.length ? n : undefined;
  });
  assert.is(notes[0]!.code, code);
  assert.is(notes[0]!.destination, "ms2.example.com");
}

test("replication forged - an entry signed with another key claiming a mailstore is refused (BAD_SIGNATURE)", async () => {
  await expectRefused(
    "forged-sig@example.com",
    (id, head) => {
      const { kid, key } = clusterKey();
      const impostor = new EnvelopeKeyring({ keys: { [kid]: key }, currentKid: kid, signerId: "ms1.example.com", signingSecretKey: nacl.sign.keyPair().secretKey });
      return seal(impostor, batch(id, head));
    },
    "ENVELOPE_BAD_SIGNATURE",
  );
});

test("replication forged - an entry encrypted with the wrong key is refused", async () => {
  await expectRefused(
    "forged-key@example.com",
    (id, head) => {
      // Signed by an unknown signer with a key nobody trusts, encrypted under a made-up key.
      const rogue = new EnvelopeKeyring({ keys: { "k9-rogue": nacl.randomBytes(32) }, currentKid: "k9-rogue", signerId: "rogue.example.com", signingSecretKey: nacl.sign.keyPair().secretKey });
      return seal(rogue, batch(id, head));
    },
    "ENVELOPE_UNKNOWN_SIGNER",
  );
});

test("replication forged - garbage on an account subject is refused", async () => {
  await expectRefused("forged-garbage@example.com", () => encode({ hello: "not an envelope" }), "ENVELOPE_GARBAGE");
});

test("replication forged - a valid envelope of another account copied onto this subject is refused", async () => {
  const other = await replicatedAccount("donor@example.com");
  const log = new SubjectLog(jetstream(sys.nc), await jetstreamManager(sys.nc), "MR_TX", `mr.tx.${other.id}`);
  let copied: Uint8Array | undefined;
  for await (const e of log.read(1)) copied = e.data;
  await expectRefused("victim@example.com", () => copied!, "TX_BATCH_INVALID");
});

test.run();
