import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import nacl from "tweetnacl";
import { EnvelopeKeyring, seal, signPromotionGrant } from "../src/envelope/index.js";
import { loadKeyring, loadSigningKey } from "../src/keys/index.js";
import { Directory } from "../src/directory/directory.js";
import { Kvm } from "@nats-io/kv";
import { encode } from "../src/codec/index.js";
import { SubjectLog } from "../src/runtime/subject_log.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

let sys: TestSystem;
test.before(async () => {
  // ms3 has a trusted key but never runs: a trusted mailstore that is not the account's primary.
  sys = await TestSystem.start({ hosts: ["ms1.example.com", "ms2.example.com", "ms3.example.com"] });
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

function batch(id: string, prev: number, over: { epoch?: number; writer?: string; events?: unknown[] } = {}) {
  return {
    v: 1,
    account: id,
    epoch: over.epoch ?? 1,
    writer: over.writer ?? "ms1.example.com",
    at: Date.now(),
    prev,
    events: over.events ?? [{ t: "items.deleted", ids: [257] }],
  };
}

/** The keyring of a host whose key files are in the system's keys folder (all trusted). */
function keyringOf(host: string): EnvelopeKeyring {
  return loadKeyring({ dir: sys.config.keys.dir, host });
}

/** A grant signed with `signer`'s key file (a supervisor's, or with `role` mailstore a mailstore's). */
function grant(signer: string, account: string, epoch: number, host: string, role: "supervisor" | "mailstore" = "supervisor"): string {
  return signPromotionGrant(loadSigningKey({ dir: sys.config.keys.dir, host: signer, role }), { account, epoch, host });
}

/** A Promoted entry written and signed by ms3 (trusted mailstore, not a replica of anything). */
function promotedBy3(id: string, head: number, g: string | undefined, epoch = 2): Uint8Array {
  const event = { t: "promoted", epoch, host: "ms3.example.com", from: "ms1.example.com", ...(g !== undefined ? { grant: g } : {}) };
  return seal(keyringOf("ms3.example.com"), batch(id, head, { epoch, writer: "ms3.example.com", events: [event] }));
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
  await expectPrimaryRefuses(name, id, seq, code);
}

/**
 * The primary meets the entry when it replays the log: its next write finds the log moved
 * and reads what was appended. It must apply nothing of it and stop serving the account.
 */
async function expectPrimaryRefuses(name: string, id: string, seq: number, code: string): Promise<void> {
  const ms1 = sys.inProcess.get("ms1.example.com")!.store;
  const before = JSON.stringify(ms1.dumpAccount(id));
  const write = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(2, name) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(write !== undefined, "the primary refused to write after the forged entry");
  const st = ms1.replicaState(id)!;
  assert.is(st.status, "unavailable", "the primary's copy is unavailable");
  assert.ok(String(st.error).includes(code) && String(st.error).includes(`seq ${seq}`), `the primary records why: ${st.error}`);
  assert.is(st.appliedSeq, seq - 1, "the primary applied nothing of the forged entry");
  assert.is(JSON.stringify(ms1.dumpAccount(id)), before, "nothing of it reached the primary's rows");
  const read = await sys.mailbox("listItems", { account: name }).then(
    () => undefined,
    (e: { data?: { code?: string } }) => e,
  );
  assert.is(read?.data?.code, "APPLY_FAILED", "the primary no longer serves the account");
}

test("replication forged - an entry signed with another key claiming a mailstore is refused (BAD_SIGNATURE)", async () => {
  await expectRefused(
    "forged-sig@example.com",
    (id, head) => {
      const { kid, key } = clusterKey();
      const impostor = new EnvelopeKeyring({
        keys: { [kid]: key },
        currentKid: kid,
        signerId: "ms1.example.com",
        signingSecretKey: nacl.sign.keyPair().secretKey,
      });
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
      const rogue = new EnvelopeKeyring({
        keys: { "k9-rogue": nacl.randomBytes(32) },
        currentKid: "k9-rogue",
        signerId: "rogue.example.com",
        signingSecretKey: nacl.sign.keyPair().secretKey,
      });
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

test("replication forged - a key self-registered in the directory is not trusted (UNKNOWN_SIGNER)", async () => {
  const rogue = nacl.sign.keyPair();
  // Registration is what mailstores did to be trusted before trusted-signers.json: it no longer counts.
  const directory = new Directory(await new Kvm(sys.nc).open(sys.config.jetstream.buckets.directory));
  await directory.registerMailstore({ host: "evil.example.com", publicKey: Buffer.from(rogue.publicKey).toString("base64"), registeredAt: Date.now() });
  await expectRefused(
    "forged-selfreg@example.com",
    (id, head) => {
      const { kid, key } = clusterKey();
      const evil = new EnvelopeKeyring({ keys: { [kid]: key }, currentKid: kid, signerId: "evil.example.com", signingSecretKey: rogue.secretKey });
      return seal(evil, batch(id, head, { writer: "evil.example.com" }));
    },
    "ENVELOPE_UNKNOWN_SIGNER",
  );
});

test("replication forged - a trusted mailstore that is not the primary at the entry's epoch is refused", async () => {
  await expectRefused(
    "forged-notprimary@example.com",
    (id, head) => seal(keyringOf("ms3.example.com"), batch(id, head, { writer: "ms3.example.com" })),
    "LOG_WRITER_NOT_PRIMARY",
  );
});

test("replication forged - an entry signed by one trusted mailstore naming another as writer is refused", async () => {
  await expectRefused("forged-writer@example.com", (id, head) => seal(keyringOf("ms3.example.com"), batch(id, head)), "LOG_SIGNER_NOT_WRITER");
});

test("replication forged - a newer epoch without a promotion is refused", async () => {
  await expectRefused(
    "forged-epoch@example.com",
    (id, head) => seal(keyringOf("ms3.example.com"), batch(id, head, { epoch: 2, writer: "ms3.example.com" })),
    "LOG_EPOCH_RAISED",
  );
});

test("replication forged - a Promoted without a grant is refused", async () => {
  await expectRefused("forged-nogrant@example.com", (id, head) => promotedBy3(id, head, undefined), "LOG_BAD_PROMOTION");
});

test("replication forged - a Promoted whose grant names another host, epoch or account is refused", async () => {
  sys.ensureSupervisorKey("sup1");
  await expectRefused("forged-granthost@example.com", (id, head) => promotedBy3(id, head, grant("sup1", id, 2, "ms2.example.com")), "LOG_BAD_PROMOTION");
  await expectRefused("forged-grantepoch@example.com", (id, head) => promotedBy3(id, head, grant("sup1", id, 3, "ms3.example.com")), "LOG_BAD_PROMOTION");
  await expectRefused(
    "forged-grantacct@example.com",
    (id, head) => promotedBy3(id, head, grant("sup1", "00000000-0000-4000-8000-000000000000", 2, "ms3.example.com")),
    "LOG_BAD_PROMOTION",
  );
});

test("replication forged - a Promoted whose grant is signed by a mailstore key is refused", async () => {
  await expectRefused(
    "forged-grantms@example.com",
    (id, head) => promotedBy3(id, head, grant("ms3.example.com", id, 2, "ms3.example.com", "mailstore")),
    "LOG_BAD_PROMOTION",
  );
});

test("replication forged - control: the same Promoted with the supervisor's grant is applied by the replica", async () => {
  // Proves the refusals above are about the grant: nothing else differs. ms3 is trusted, the
  // grant is sup1's for exactly (account, 2, ms3), so the replica applies it and follows ms3.
  sys.ensureSupervisorKey("sup1");
  const { id, head } = await replicatedAccount("granted@example.com");
  const seq = await publishForged(id, head, promotedBy3(id, head, grant("sup1", id, 2, "ms3.example.com")));
  const ms2 = sys.inProcess.get("ms2.example.com")!.store;
  const st = await waitFor("replica applied the granted Promoted", async () => {
    const r = ms2.replicaState(id);
    return r && r.appliedSeq === seq ? r : undefined;
  });
  assert.equal([st.status, st.epoch, st.primaryHost], ["available", 2, "ms3.example.com"]);
});

test("replication forged - a restarted primary replays the log again and refuses the same entry again", async () => {
  const name = "forged-epoch@example.com";
  const ms1 = sys.inProcess.get("ms1.example.com")!;
  const accountId = [...ms1.accounts.values()].find((r) => r.name === name)!.id;
  const before = ms1.store.replicaState(accountId)!;
  assert.is(before.status, "unavailable");
  await ms1.stop();
  const again = await sys.startMailstore("ms1.example.com");
  const st = again.store.replicaState(accountId)!;
  assert.is(st.status, "unavailable", "the replay at start refused it again");
  assert.ok(String(st.error).includes("LOG_EPOCH_RAISED"), String(st.error));
  assert.is(st.appliedSeq, before.appliedSeq, "still nothing of it applied");
  const read = await sys.mailbox("listItems", { account: name }).then(
    () => undefined,
    (e: { data?: { code?: string } }) => e,
  );
  assert.is(read?.data?.code, "APPLY_FAILED");
});

test.run();
