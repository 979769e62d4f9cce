// Key rotation without downtime, on a real system (nats-server, in-process mailstores with
// real SQLite files): the primary's signing key, the cluster encryption key and the
// supervisor's grant key are each rotated (stage, then activate) while a writer keeps
// writing; no acknowledged write is lost, the running processes switch keys without a
// restart, and a replica added afterwards seeds from the start of the log, reading the
// entries of every key generation. Retiring a key in use is refused.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { addReplicas, promote } from "./helpers/promotion.js";
import { activateClusterKey, activateSigningKey, KeyFilesError, loadSigningKey, retireKey, stageClusterKey, stageSigningKey } from "../src/keys/index.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const ACCOUNT = "rotating@example.com";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2, MS3] });
  await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startSupervisor("sup1");
});
test.after(async () => {
  await sys?.stop();
});

/** Writes one message after another until stopped; each is retried (same requestId) until acknowledged. */
function writeLoad(): { acked: () => number; stop: () => Promise<number> } {
  let stopped = false;
  let acked = 0;
  const run = (async () => {
    for (let n = 0; !stopped; n++) {
      for (;;) {
        try {
          await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(1000 + n, ACCOUNT), requestId: `load-${n}` }, 10_000);
          acked++;
          break;
        } catch {
          // a promotion moving the account, or a leader change: the same request again
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  })();
  return {
    acked: () => acked,
    stop: async () => {
      stopped = true;
      await run;
      return acked;
    },
  };
}

/** Waits until the load acknowledged `more` writes beyond now. */
async function moreWrites(load: { acked: () => number }, more: number, what: string): Promise<void> {
  const target = load.acked() + more;
  await waitFor(`${more} more acknowledged writes ${what}`, () => (load.acked() >= target ? true : undefined), 30_000);
}

function refusedWith(code: string, fn: () => unknown): KeyFilesError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, KeyFilesError);
    assert.is((e as KeyFilesError).code, code, (e as Error).message);
    return e as KeyFilesError;
  }
  throw new Error(`expected ${code}`);
}

test("keys rotation - signing, cluster and supervisor keys rotate under a write load; a new replica seeds from the start", async () => {
  const dir = sys.config.keys.dir;
  const { id } = await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 });
  await addReplicas(sys, [ACCOUNT], MS2, 10);
  const ms1 = sys.inProcess.get(MS1)!;
  const ms2 = sys.inProcess.get(MS2)!;
  const load = writeLoad();
  let oldMs1Kid = "";
  try {
    await moreWrites(load, 5, "before any rotation");

    // 1. ms1's signing key: staged (trusted at once), then activated; ms1 switches by itself.
    oldMs1Kid = ms1.keyring.signingKid;
    const staged = stageSigningKey({ dir, host: MS1 });
    assert.is(ms1.keyring.signingKid, oldMs1Kid, "a staged key is not used");
    refusedWith("KEYS_EXIST", () => stageSigningKey({ dir, host: MS1 }));
    activateSigningKey({ dir, host: MS1 });
    await waitFor("ms1 to sign with its new key", () => (ms1.keyring.signingKid === staged.kid ? true : undefined), 15_000);
    await moreWrites(load, 5, "under ms1's new signing key");
    refusedWith("KEYS_CURRENT", () => retireKey({ dir, kid: staged.kid }));

    // 2. The cluster key: a new kid everyone can read first, then current for new writes.
    const oldBoxKid = ms1.keyring.currentKid;
    const box = stageClusterKey({ dir });
    await waitFor("ms2 to know the new cluster kid", () => (ms2.keyring.kids().includes(box.kid) ? true : undefined), 15_000);
    assert.is(ms1.keyring.currentKid, oldBoxKid, "a staged cluster key is not used for writing");
    refusedWith("KEYS_UNKNOWN_KID", () => activateClusterKey({ dir, kid: "k9-nothere" }));
    activateClusterKey({ dir, kid: box.kid });
    await waitFor("ms1 to write with the new cluster kid", () => (ms1.keyring.currentKid === box.kid ? true : undefined), 15_000);
    await moreWrites(load, 5, "under the new cluster key");
    refusedWith("KEYS_CURRENT", () => retireKey({ dir, kid: box.kid }));

    // 3. The supervisor's grant key, then a promotion granted with it while writes go on.
    const oldSupKid = loadSigningKey({ dir, host: "sup1" }).kid;
    const supStaged = stageSigningKey({ dir, host: "sup1", role: "supervisor" });
    activateSigningKey({ dir, host: "sup1", role: "supervisor" });
    assert.is.not(supStaged.kid, oldSupKid);
    const m = await promote(sys, { accounts: ACCOUNT, destination: MS2 });
    assert.is(m.state, "successful", JSON.stringify(m.failed));
    assert.is(sys.supervisor!.grantKey.signer().kid, supStaged.kid, "the running supervisor signed with its new key");
    await moreWrites(load, 5, "on the new primary");
  } finally {
    await load.stop();
  }
  const acked = load.acked();
  // A new replica, seeded from seq 1: entries of every key generation, and both Promoted grants.
  await sys.startMailstore(MS3);
  await addReplicas(sys, [ACCOUNT], MS3, 20);
  const st = (await sys.admin("getAccountStatus", { accounts: ACCOUNT })).accounts[0];
  const r3 = st.replicas.find((x: { destination: string }) => x.destination === MS3);
  assert.ok(r3?.available, JSON.stringify(st));
  assert.is(r3.sequence, st.sequence, "ms3 applied the whole log");
  // `total` counts every item (a page holds at most 1000: a fast load acknowledges more).
  const items = await sys.mailbox("listItems", { account: ACCOUNT, limit: 1 });
  assert.is(items.total, acked, "every acknowledged write is there, once");
  const v = await sys.admin("verifyReplicas", { accounts: ACCOUNT });
  assert.equal({ equal: v.equal, different: v.different }, { equal: 1, different: 0 }, JSON.stringify(v));
  assert.is(sys.inProcess.get(MS3)!.store.replicaState(id)?.primaryHost, MS2);

  // Retiring ms1's first key does what keys retire warns of: a copy seeded from the start of
  // the log again stops at the first entry that key signed.
  const retired = retireKey({ dir, kid: oldMs1Kid });
  assert.match(retired.warning, /becomes unavailable there/);
  const ms3 = sys.inProcess.get(MS3)!;
  await waitFor("ms3 to read the retirement", () => (ms3.keyring.trust.byKid(oldMs1Kid)?.retiredAt !== undefined ? true : undefined), 15_000);
  await sys.admin("restartReplicas", { accounts: ACCOUNT, destination: MS3 });
  const refused = await waitFor(
    "ms3's re-seeded copy to stop at the retired key",
    async () => {
      const a = (await sys.admin("getAccountStatus", { accounts: ACCOUNT })).accounts[0];
      const x = a.replicas.find((y: { destination: string }) => y.destination === MS3);
      return x?.status === "unavailable" ? x : undefined;
    },
    30_000,
  );
  assert.ok(String(refused.error).includes("ENVELOPE_SIGNER_RETIRED"), refused.error);
  // The copies that applied those entries before are untouched.
  const ms2State = sys.inProcess.get(MS2)!.store.replicaState(id)!;
  assert.equal([ms2State.status, ms2State.role], ["available", "primary"]);
});

test.run();
