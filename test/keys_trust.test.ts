// A mailstore whose own signing key is not in trusted-signers.json, on a real system: it
// starts (and says so loudly), writes nothing (SIGNER_NOT_TRUSTED), `test` reports it; once
// the operator lists its key, it writes without a restart.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { readTrustList, trustKeyFile, writeTrustList } from "../src/keys/index.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";

let sys: TestSystem;
test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  await sys.startSupervisor("sup1");
});
test.after(async () => {
  await sys?.stop();
});

test("keys trust - an untrusted mailstore starts, warns, writes nothing and `test` says why; listed, it writes at once", async () => {
  const dir = sys.config.keys.dir;
  writeTrustList(
    dir,
    readTrustList(dir).entries.filter((e) => e.host !== MS1),
  );
  const ms1 = await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  // startMailstore's log goes nowhere in tests: the node's own check is what it logs from.
  assert.is(ms1.keyring.ownKeyTrusted(), false);
  let refused: { data?: { code?: string; alias?: string }; message?: string } | undefined;
  await sys.mailbox("createAccount", { name: "untrusted@example.com", mailHost: MS1 }).catch((e) => (refused = e));
  assert.is(refused?.data?.alias, "SIGNER_NOT_TRUSTED", JSON.stringify(refused));
  assert.is(refused?.data?.code, "UNAVAILABLE");
  assert.match(String(refused?.message), /trusted-signers\.json/);
  const report = await waitFor("test to report ms1's untrusted key", async () => {
    const r = await sys.admin("test", {}, 30_000);
    const c = r.checks.find((x: { check: string }) => x.check === `signing key mailstore ${MS1}`);
    return c?.status === "fail" ? r : undefined;
  });
  const ok2 = report.checks.find((x: { check: string }) => x.check === `signing key mailstore ${MS2}`);
  assert.is(ok2?.status, "ok");
  assert.is(report.checks.find((x: { check: string }) => x.check === "grant key supervisor sup1")?.status, "ok");

  assert.is(report.checks.find((x: { check: string }) => x.check === "trusted signers")?.status, "ok", "one shared folder: every list is the same");

  // The operator lists it: the running mailstore reads the file again (within 3 s), no restart.
  trustKeyFile({ dir, host: MS1 });
  let attempt = 0;
  const name = await waitFor("ms1 to write once its key is listed", () => {
    const n = `listed-${++attempt}@example.com`;
    return sys.mailbox("createAccount", { name: n, mailHost: MS1 }).then(
      () => n,
      () => undefined,
    );
  });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(1, name) });
  assert.is(ms1.keyring.ownKeyTrusted(), true);
});

test("keys trust - `test` fails when a mailstore holds another trusted-signers.json than the supervisor", async () => {
  const ms2 = sys.inProcess.get(MS2)!;
  const all = readTrustList(sys.config.keys.dir).entries;
  // ms2 reads the list the test above changed now: its 3 s poll may not have run yet, and a
  // reload still due would undo the change below (a reload reads only a changed file).
  ms2.reloadKeys();
  // As if ms2's folder held an older copy of the list (without ms1's key).
  ms2.keyring.setTrustList(all.filter((e) => e.host !== MS1));
  try {
    const c = await waitFor("test to report ms2's different list", async () => {
      const r = await sys.admin("test", {}, 30_000);
      const x = r.checks.find((y: { check: string }) => y.check === "trusted signers");
      return x?.status === "fail" ? x : undefined;
    });
    assert.ok(c.detail.startsWith(`${MS2} holds another`), c.detail);
  } finally {
    ms2.keyring.setTrustList(all);
  }
});

test.run();
