import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvelopeError, open, seal, signingKid } from "../src/envelope/index.js";
import {
  activateSigningKey,
  initKeys,
  KeyFilesError,
  listPublicKeys,
  loadKeyring,
  readTrustList,
  retireKey,
  stageSigningKey,
  trustKeyFile,
  writeTrustList,
  type KeyFilesErrorCode,
} from "../src/keys/index.js";

const H1 = "mailstore1.example.com";
const H2 = "mailstore2.example.com";

/** Runs `body` with a fresh temporary folder, removed afterwards whatever happens. */
function withTemp(body: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), "mr-keys-"));
  try {
    body(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function refusedWith(code: KeyFilesErrorCode, run: () => unknown): KeyFilesError {
  try {
    run();
  } catch (e) {
    assert.instance(e, KeyFilesError);
    const err = e as KeyFilesError;
    assert.is(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.unreachable(`expected ${code}, but it succeeded`);
  throw new Error("unreachable");
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const json = (path: string): Record<string, any> => JSON.parse(readFileSync(path, "utf8"));

test("keys - init creates the folder 0700 and both files 0600 in the documented form", () => {
  withTemp((root) => {
    const dir = join(root, "nested", "keys");
    const r = initKeys({ dir, host: H1 });
    assert.is(r.dir, dir);
    assert.ok(r.createdSecretbox);
    assert.is(mode(dir), 0o700);
    assert.is(mode(r.secretboxFile), 0o600);
    assert.is(mode(r.signingFile), 0o600);
    assert.is(r.secretboxFile, join(dir, "cluster.secretbox.json"));
    assert.is(r.signingFile, join(dir, `${H1}.ed25519.json`));
    assert.match(r.kid, /^k1-[0-9a-f]{8}$/);
    const box = json(r.secretboxFile);
    assert.is(box.current, r.kid);
    assert.equal(Object.keys(box.keys), [r.kid]);
    assert.is(Buffer.from(box.keys[r.kid], "base64").length, 32);
    const signing = json(r.signingFile);
    assert.is(signing.host, H1);
    assert.is(signing.publicKey, r.publicKey);
    assert.is(Buffer.from(signing.publicKey, "base64").length, 32);
    assert.is(Buffer.from(signing.secretKey, "base64").length, 64);
  });
});

test("keys - init result holds nothing secret", () => {
  withTemp((root) => {
    const r = initKeys({ dir: root, host: H1 });
    const printed = JSON.stringify(r);
    const signing = json(r.signingFile);
    const box = json(r.secretboxFile);
    assert.not.ok(printed.includes(signing.secretKey));
    assert.not.ok(printed.includes(signing.secretKey.slice(0, 43))); // the seed half alone
    assert.not.ok(printed.includes(box.keys[r.kid]));
    assert.ok(printed.includes(r.publicKey));
  });
});

test("keys - a second host reuses the cluster key and gets its own signing pair", () => {
  withTemp((root) => {
    const first = initKeys({ dir: root, host: H1 });
    const clusterBefore = readFileSync(first.secretboxFile);
    const second = initKeys({ dir: root, host: H2 });
    assert.not.ok(second.createdSecretbox);
    assert.is(second.kid, first.kid);
    assert.equal(readFileSync(second.secretboxFile), clusterBefore);
    assert.is.not(second.publicKey, first.publicKey);
  });
});

test("keys - init again without force is refused with KEYS_EXIST and changes nothing", () => {
  withTemp((root) => {
    const first = initKeys({ dir: root, host: H1 });
    const before = readFileSync(first.signingFile, "utf8");
    const err = refusedWith("KEYS_EXIST", () => initKeys({ dir: root, host: H1 }));
    assert.match(err.message, first.signingFile);
    assert.match(err.message, "--force");
    assert.is(err.file, first.signingFile);
    assert.is(readFileSync(first.signingFile, "utf8"), before);
  });
});

test("keys - force replaces the signing pair and keeps the cluster key", () => {
  withTemp((root) => {
    const first = initKeys({ dir: root, host: H1 });
    const clusterBefore = readFileSync(first.secretboxFile);
    const again = initKeys({ dir: root, host: H1, force: true });
    assert.is.not(again.publicKey, first.publicKey);
    assert.is(json(again.signingFile).publicKey, again.publicKey);
    assert.is(mode(again.signingFile), 0o600);
    assert.is(again.kid, first.kid);
    assert.equal(readFileSync(again.secretboxFile), clusterBefore);
    assert.is(loadKeyring({ dir: root, host: H1 }).signerId, H1);
  });
});

test("keys - host names that are not DNS names are refused with KEYS_BAD_HOST", () => {
  withTemp((root) => {
    for (const host of [
      "",
      "bad host",
      "under_score.example.com",
      "-lead.example.com",
      "trail-.example.com",
      "../etc",
      "a..b",
      "x.",
      "é.example.com",
      "a".repeat(64) + ".com",
    ]) {
      refusedWith("KEYS_BAD_HOST", () => initKeys({ dir: root, host }));
      refusedWith("KEYS_BAD_HOST", () => loadKeyring({ dir: root, host }));
    }
    initKeys({ dir: root, host: "localhost" });
    initKeys({ dir: root, host: "Mail-Store-9.Example.COM" });
  });
});

test("keys - loaded keyrings of two hosts seal and open each other's envelopes", () => {
  withTemp((root) => {
    const r1 = initKeys({ dir: root, host: H1 });
    initKeys({ dir: root, host: H2 });
    const published = listPublicKeys(root);
    assert.equal(Object.keys(published).sort(), [H1, H2]);
    assert.is(published[H1], r1.publicKey);
    const trusted = Object.fromEntries(Object.entries(published).map(([h, k]) => [h, new Uint8Array(Buffer.from(k, "base64"))]));
    const k1 = loadKeyring({ dir: root, host: H1, trusted });
    const k2 = loadKeyring({ dir: root, host: H2, trusted });
    assert.is(k1.currentKid, r1.kid);
    assert.equal(open(k2, seal(k1, { hello: "from 1" })), { payload: { hello: "from 1" }, kid: r1.kid, signer: H1 });
    assert.equal(open(k1, seal(k2, { hello: "from 2" })).payload, { hello: "from 2" });
  });
});

test("keys - a node trusts its own key because keys init listed it in trusted-signers.json", () => {
  withTemp((root) => {
    initKeys({ dir: root, host: H1 });
    const k = loadKeyring({ dir: root, host: H1 });
    assert.equal(k.trustedSigners(), [H1]);
    assert.equal(open(k, seal(k, { own: true })).payload, { own: true });
  });
});

test("keys - a key file group or others can access is refused with KEYS_INSECURE_MODE", () => {
  withTemp((root) => {
    const r = initKeys({ dir: root, host: H1 });
    for (const file of [r.secretboxFile, r.signingFile]) {
      for (const loose of [0o644, 0o640, 0o604, 0o620]) {
        chmodSync(file, loose);
        const err = refusedWith("KEYS_INSECURE_MODE", () => loadKeyring({ dir: root, host: H1 }));
        assert.match(err.message, `chmod 600 ${file}`);
      }
      chmodSync(file, 0o600);
    }
    chmodSync(r.signingFile, 0o400);
    assert.is(loadKeyring({ dir: root, host: H1 }).signerId, H1);
  });
});

test("keys - missing files are refused with KEYS_MISSING, naming the init command", () => {
  withTemp((root) => {
    let err = refusedWith("KEYS_MISSING", () => loadKeyring({ dir: root, host: H1 }));
    assert.match(err.message, `mailreplica keys init --host ${H1}`);
    const r = initKeys({ dir: root, host: H1 });
    err = refusedWith("KEYS_MISSING", () => loadKeyring({ dir: root, host: H2 }));
    assert.match(err.message, `${H2}.ed25519.json`);
    assert.match(err.message, `mailreplica keys init --host ${H2}`);
    unlinkSync(r.secretboxFile);
    err = refusedWith("KEYS_MISSING", () => loadKeyring({ dir: root, host: H1 }));
    assert.is(err.file, r.secretboxFile);
    refusedWith("KEYS_MISSING", () => listPublicKeys(join(root, "nope")));
  });
});

test("keys - malformed files are refused with KEYS_MALFORMED, naming file and field but no value", () => {
  withTemp((root) => {
    const r = initKeys({ dir: root, host: H1 });
    const box = readFileSync(r.secretboxFile, "utf8");
    const signing = readFileSync(r.signingFile, "utf8");
    const secret = json(r.signingFile).secretKey as string;
    const boxKey = json(r.secretboxFile).keys[r.kid] as string;
    const put = (file: string, text: string): void => writeFileSync(file, text, { mode: 0o600 });
    const expectMalformed = (file: string, field: string, text: string): void => {
      put(file, text);
      const err = refusedWith("KEYS_MALFORMED", () => loadKeyring({ dir: root, host: H1 }));
      assert.match(err.message, file);
      assert.match(err.message, field);
      assert.not.ok(err.message.includes(secret.slice(0, 12)), err.message);
      assert.not.ok(err.message.includes(boxKey.slice(0, 12)), err.message);
    };
    const s = JSON.parse(signing);
    expectMalformed(r.signingFile, "the file", signing.slice(0, signing.length / 2));
    expectMalformed(r.signingFile, "the file", "[1, 2]");
    expectMalformed(r.signingFile, '"publicKey"', JSON.stringify({ ...s, publicKey: Buffer.alloc(31).toString("base64") }));
    expectMalformed(r.signingFile, '"secretKey"', JSON.stringify({ ...s, secretKey: secret.slice(0, 40) }));
    expectMalformed(r.signingFile, '"secretKey"', JSON.stringify({ ...s, secretKey: "!!" + secret.slice(2) }));
    expectMalformed(r.signingFile, '"host"', JSON.stringify({ ...s, host: H2 }));
    const mismatched = Buffer.from(secret, "base64");
    mismatched[0] = mismatched[0]! ^ 1; // the seed no longer yields publicKey
    expectMalformed(r.signingFile, '"secretKey"', JSON.stringify({ ...s, secretKey: mismatched.toString("base64") }));
    put(r.signingFile, signing);
    const b = JSON.parse(box);
    expectMalformed(r.secretboxFile, "the file", "not json " + boxKey);
    expectMalformed(r.secretboxFile, `"keys.${r.kid}"`, JSON.stringify({ ...b, keys: { [r.kid]: Buffer.alloc(16).toString("base64") } }));
    expectMalformed(r.secretboxFile, '"current"', JSON.stringify({ ...b, current: "k9-absent" }));
    expectMalformed(r.secretboxFile, '"current"', JSON.stringify({ ...b, current: "toString" }));
    expectMalformed(r.secretboxFile, '"keys"', JSON.stringify({ current: r.kid }));
    put(r.secretboxFile, box);
    assert.is(loadKeyring({ dir: root, host: H1 }).currentKid, r.kid);
  });
});

test("keys - listPublicKeys refuses a signing file whose host does not match its name", () => {
  withTemp((root) => {
    const r = initKeys({ dir: root, host: H1 });
    writeFileSync(join(root, `${H2}.ed25519.json`), readFileSync(r.signingFile), { mode: 0o600 });
    const err = refusedWith("KEYS_MALFORMED", () => listPublicKeys(root));
    assert.match(err.message, '"host"');
  });
});

test("keys - only trusted-signers.json makes a key trusted, the node's own included", () => {
  withTemp((root) => {
    initKeys({ dir: root, host: H1 });
    initKeys({ dir: root, host: H2 });
    const list = readTrustList(root);
    assert.equal(
      list.entries.map((e) => [e.host, e.role]),
      [
        [H1, "mailstore"],
        [H2, "mailstore"],
      ],
    );
    assert.is(mode(list.file), 0o600);
    // H1 taken out of the list: nobody, H1 included, accepts what it signs.
    writeTrustList(
      root,
      list.entries.filter((e) => e.host !== H1),
    );
    const k1 = loadKeyring({ dir: root, host: H1 });
    const k2 = loadKeyring({ dir: root, host: H2 });
    assert.is(k1.ownKeyTrusted(), false);
    assert.is(k2.ownKeyTrusted(), true);
    for (const reader of [k1, k2]) {
      assert.throws(
        () => open(reader, seal(k1, { n: 1 })),
        (e: unknown) => (e as EnvelopeError).code === "ENVELOPE_UNKNOWN_SIGNER",
      );
    }
    assert.equal(open(k1, seal(k2, { n: 2 })).payload, { n: 2 });
    // Back in the list, but retired: refused with its own code.
    writeTrustList(root, [...readTrustList(root).entries, { ...list.entries[0]!, retiredAt: Date.now() }]);
    assert.throws(
      () => open(loadKeyring({ dir: root, host: H2 }), seal(k1, { n: 3 })),
      (e: unknown) => (e as EnvelopeError).code === "ENVELOPE_SIGNER_RETIRED",
    );
  });
});

test("keys - a trusted list others can write, or a malformed one, is refused with the field named", () => {
  withTemp((root) => {
    initKeys({ dir: root, host: H1 });
    const file = join(root, "trusted-signers.json");
    chmodSync(file, 0o666);
    refusedWith("KEYS_INSECURE_MODE", () => loadKeyring({ dir: root, host: H1 }));
    chmodSync(file, 0o644);
    assert.is(loadKeyring({ dir: root, host: H1 }).ownKeyTrusted(), true, "0644 is fine: public keys only");
    const good = readFileSync(file, "utf8");
    for (const [body, field] of [
      [{ version: 2, signers: [] }, "version"],
      [{ version: 1 }, "signers"],
      [{ version: 1, signers: [{ kid: "s-1", host: H1, role: "admin", publicKey: "AA==", addedAt: 1 }] }, "role"],
      [{ version: 1, signers: [{ kid: "s-1", host: H1, role: "mailstore", publicKey: "AA==", addedAt: 1 }] }, "publicKey"],
    ] as const) {
      writeFileSync(file, JSON.stringify(body));
      const err = refusedWith("KEYS_MALFORMED", () => loadKeyring({ dir: root, host: H1 }));
      assert.ok(err.message.includes(field), err.message);
    }
    writeFileSync(file, good);
  });
});

test("keys - a signing file written before kids existed gets the kid derived from its public key", () => {
  withTemp((root) => {
    const r = initKeys({ dir: root, host: H1 });
    const o = json(r.signingFile);
    delete o.kid;
    delete o.role;
    writeFileSync(r.signingFile, JSON.stringify(o), { mode: 0o600 });
    writeTrustList(root, []);
    const k = loadKeyring({ dir: root, host: H1 });
    assert.is(k.signingKid, signingKid(new Uint8Array(Buffer.from(r.publicKey, "base64"))));
    assert.is(k.signingKid, r.signingKid);
    assert.is(k.ownKeyTrusted(), false);
    assert.equal(trustKeyFile({ dir: root, host: H1 }).added, true);
    assert.equal(trustKeyFile({ dir: root, host: H1 }).added, false);
    assert.is(loadKeyring({ dir: root, host: H1 }).ownKeyTrusted(), true);
  });
});

test("keys - init --force keeps the old public key trusted, so what it signed stays readable", () => {
  withTemp((root) => {
    initKeys({ dir: root, host: H1 });
    const before = loadKeyring({ dir: root, host: H1 });
    const old = seal(before, { old: true });
    initKeys({ dir: root, host: H1, force: true });
    const after = loadKeyring({ dir: root, host: H1 });
    assert.is.not(after.signingKid, before.signingKid);
    assert.equal(open(after, old).payload, { old: true });
    assert.equal(open(after, seal(after, { new: true })).payload, { new: true });
  });
});

test("keys - rotate stages, activate needs a staged trusted key, retire refuses the key in use", () => {
  withTemp((root) => {
    initKeys({ dir: root, host: H1 });
    refusedWith("KEYS_NOT_STAGED", () => activateSigningKey({ dir: root, host: H1 }));
    const before = loadKeyring({ dir: root, host: H1 }).signingKid;
    const staged = stageSigningKey({ dir: root, host: H1 });
    assert.is(loadKeyring({ dir: root, host: H1 }).signingKid, before, "staged, not used");
    assert.is(mode(staged.stagedFile), 0o600);
    // Someone dropped the new key from the list before activation: activating would sign what nobody accepts.
    const list = readTrustList(root).entries;
    writeTrustList(
      root,
      list.filter((e) => e.kid !== staged.kid),
    );
    refusedWith("KEYS_NOT_TRUSTED", () => activateSigningKey({ dir: root, host: H1 }));
    writeTrustList(root, list);
    const done = activateSigningKey({ dir: root, host: H1 });
    assert.equal([done.kid, done.currentKid], [staged.kid, before]);
    assert.is(loadKeyring({ dir: root, host: H1 }).signingKid, staged.kid);
    refusedWith("KEYS_CURRENT", () => retireKey({ dir: root, kid: staged.kid }));
    refusedWith("KEYS_UNKNOWN_KID", () => retireKey({ dir: root, kid: "s-0000000000000000" }));
    const retired = retireKey({ dir: root, kid: before });
    assert.is(retired.kind, "signing");
    assert.match(retired.warning, /refused/);
    assert.ok(readTrustList(root).entries.find((e) => e.kid === before)?.retiredAt !== undefined);
  });
});

test.run();
