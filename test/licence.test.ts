// The licence: the signed file format, scripts/make_licence, and the supervisor's quota from
// the default, from a valid file, and with invalid files (tampered, untrusted, expired,
// missing) that allow no new enablement while existing replicas keep working.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { refused } from "./helpers/refused.js";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nacl from "tweetnacl";
import { projectRoot } from "../src/paths.js";
import { SupervisorNode, type SupervisorOptions } from "../actors/supervisor/node.js";
import {
  ISSUER_PUBLIC_FILE,
  ISSUER_SECRET_FILE,
  canonicalJson,
  ensureIssuerKeys,
  signLicence,
  verifyLicence,
  writeLicenceFile,
  type LicenceTerms,
} from "../src/licence/licence_file.js";
import { PINNED_ISSUER_KEY } from "../src/licence/licence_issuer.js";
import { configProblems } from "../config/schema.js";
import { defaultConfig } from "../config/defaults.js";
import { ConfigError } from "../src/config/errors.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { tempDir, waitFor } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const DAY = 24 * 3600_000;

const terms = (over: Partial<LicenceTerms> = {}): LicenceTerms => ({
  quantity: 3,
  validUntil: new Date(Date.now() + 30 * DAY).toISOString(),
  issuedTo: "Example Ltd",
  features: ["ha_basic"],
  ...over,
});

// ---------------------------------------------------------------- the file format

test("licence file - canonical JSON sorts keys at every depth, so re-indenting keeps the signature valid", () => {
  assert.is(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: "s" } }), '{"a":{"c":"s","d":[2,{"x":2,"y":1}]},"b":1}');
  const pair = nacl.sign.keyPair();
  const pub = Buffer.from(pair.publicKey).toString("base64");
  const signed = signLicence(terms(), pair.secretKey);
  const reordered = {
    issuer: signed.issuer,
    signature: signed.signature,
    licence: { features: signed.licence.features, validUntil: signed.licence.validUntil, quantity: 3, issuedTo: "Example Ltd" },
  };
  const v = verifyLicence(JSON.stringify(reordered, null, 8), [pub], Date.now());
  assert.ok(v.valid, JSON.stringify(v));
});

test("licence file - every refusal has its reason", () => {
  const pair = nacl.sign.keyPair();
  const other = nacl.sign.keyPair();
  const pub = Buffer.from(pair.publicKey).toString("base64");
  const now = Date.now();
  const good = signLicence(terms(), pair.secretKey);
  const check = (doc: unknown, trusted = [pub]) => verifyLicence(typeof doc === "string" ? doc : JSON.stringify(doc), trusted, now);
  assert.ok(check(good).valid);
  const cases: Array<[unknown, string[], string, RegExp]> = [
    ["{not json", [pub], "malformed", /not valid JSON/],
    [{ ...good, licence: { ...good.licence, quantity: -1 } }, [pub], "malformed", /quantity/],
    [{ ...good, licence: { ...good.licence, validUntil: "soon" } }, [pub], "malformed", /validUntil/],
    [{ ...good, signature: "abc" }, [pub], "malformed", /signature/],
    [{ ...good, licence: { ...good.licence, quantity: 1_000_000 } }, [pub], "bad-signature", /changed after it was signed/],
    [signLicence(terms(), other.secretKey), [pub], "untrusted-issuer", /not a trusted issuer/],
    [good, [], "no-trusted-issuer", /no trusted licence issuer key/],
    [signLicence(terms({ validUntil: new Date(now - DAY).toISOString() }), pair.secretKey), [pub], "expired", /expired on/],
    [signLicence(terms({ features: ["other"] }), pair.secretKey), [pub], "no-ha-feature", /ha_basic/],
  ];
  for (const [doc, trusted, problem, reason] of cases) {
    const v = check(doc, trusted);
    assert.is(v.valid, false, JSON.stringify(doc));
    if (!v.valid) {
      assert.is(v.problem, problem);
      assert.match(v.reason, reason);
    }
  }
});

test("make_licence - creates the issuer key pair once (secret 0600, never printed) and writes a licence the supervisor trusts", () => {
  const dir = tempDir("mr-licence-");
  const keys = join(dir, "keys");
  const out = join(dir, "licence.json");
  const script = join(projectRoot(), "dist", "scripts", "make_licence.js");
  const run = (args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: "utf8", env: { ...process.env, MR_CONFIG: "" } });

  const first = run(["--quantity", "1000", "--days", "365", "--out", out, "--keys", keys]);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stdout, /1000 accounts with replicas/);
  const secretFile = join(keys, ISSUER_SECRET_FILE);
  assert.is(statSync(secretFile).mode & 0o777, 0o600);
  const secret = JSON.parse(readFileSync(secretFile, "utf8")).secretKey as string;
  assert.not.ok(first.stdout.includes(secret) || first.stderr.includes(secret), "the secret key is never printed");
  const pub = readFileSync(join(keys, ISSUER_PUBLIC_FILE), "utf8").trim();
  assert.match(first.stdout, /NOT the pinned production issuer/);
  assert.ok(first.stdout.includes(`MR_LICENCE_DEV_ISSUER=${join(keys, ISSUER_PUBLIC_FILE)}`), first.stdout);
  assert.is(
    verifyLicence(readFileSync(out, "utf8"), [PINNED_ISSUER_KEY], Date.now()).valid,
    false,
    "a development licence is not trusted by the pinned key alone",
  );
  const v = verifyLicence(readFileSync(out, "utf8"), [pub], Date.now());
  assert.ok(v.valid, JSON.stringify(v));
  if (v.valid) {
    assert.is(v.licence.quantity, 1000);
    assert.ok(Math.abs(v.validUntilMs - (Date.now() + 365 * DAY)) < 60_000);
  }

  const second = run(["--quantity", "5", "--days", "1", "--out", out, "--keys", keys, "--issued-to", "Test"]);
  assert.is(second.status, 0, second.stderr);
  assert.is(readFileSync(join(keys, ISSUER_PUBLIC_FILE), "utf8").trim(), pub, "the existing issuer key pair is reused");
  assert.match(second.stdout, /existing development key pair/);

  for (const [args, msg] of [
    [["--days", "3"], /--quantity is required/],
    [["--quantity", "ten"], /--quantity must be a whole number/],
    [["--quantity", "1", "--days", "0"], /--days must be a whole number from 1/],
    [["--quantity", "1", "--colour", "red"], /unknown option "--colour"/],
    [["--quantity", "1", "--issuer-secret", join(dir, "none.json")], /does not exist/],
  ] as Array<[string[], RegExp]>) {
    const r = run([...args, "--out", join(dir, "x.json"), "--keys", keys]);
    assert.is(r.status, args.includes("--issuer-secret") ? 1 : 2, r.stdout);
    assert.match(r.stderr, msg);
  }
});

test("make_licence - --issuer-secret signs with that key pair; only the pinned key's licences are trusted without the override", () => {
  const dir = tempDir("mr-licence-");
  const prod = ensureIssuerKeys(join(dir, "issuer"));
  const out = join(dir, "licence.json");
  const r = spawnSync(
    process.execPath,
    [join(projectRoot(), "dist", "scripts", "make_licence.js"), "--quantity", "7", "--out", out, "--issuer-secret", prod.secretFile],
    { encoding: "utf8", env: { ...process.env, MR_CONFIG: "" } },
  );
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`issuer public key ${prod.publicKey}`), r.stdout);
  assert.match(r.stdout, /NOT the pinned production issuer/);
  const v = verifyLicence(readFileSync(out, "utf8"), [prod.publicKey], Date.now());
  assert.ok(v.valid && v.licence.quantity === 7, JSON.stringify(v));
});

// ---------------------------------------------------------------- the supervisor's quota

let sys: TestSystem;
let logs: string[] = [];

function startSupervisor(extra: Partial<SupervisorOptions>): Promise<SupervisorNode> {
  logs = [];
  return sys.startSupervisor("sup-licence", { log: (l) => logs.push(l), ...extra });
}

async function enabledAccounts(): Promise<number> {
  return (await sys.admin("getLicenseInfo")).accountsEnabled;
}

test("licence - without a licence file the default quota applies", async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1, MS2], config: (c) => (c.licence.defaultQuota = 2) });
  for (let i = 1; i <= 6; i++) await sys.mailbox("createAccount", { name: `l${i}@example.com`, mailHost: MS1 });

  const info = await sys.admin("getLicenseInfo");
  assert.equal(info, {
    ZxHA: { quantity: 2, licensed: true },
    features: [{ name: "ha_basic", quantity: 2, enabled: true }],
    accountsEnabled: 0,
    validUntil: null,
    source: "default",
    valid: true,
  });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l1@example.com,l2@example.com" });
  const over = await refused(sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l3@example.com" }), "LICENCE_EXCEEDED");
  assert.match(over.message, /allows 2 accounts/);
  assert.is(await enabledAccounts(), 2, "nothing was changed");
});

test("licence - a valid licence file sets the quantity; tampered, untrusted, expired or missing ones allow no new replica, and existing ones keep working", async () => {
  const keys = sys.config.keys.dir;
  const file = join(sys.root, "licence.json");
  const issuer = ensureIssuerKeys(keys);
  writeLicenceFile(file, signLicence(terms({ quantity: 3 }), issuer.secretKey));
  await startSupervisor({ licenceFile: file, licenceDevIssuerKeyFile: issuer.publicFile });
  assert.ok(
    logs.some((l) => l.includes(`licence: ${file} is valid: 3 accounts with replicas`)),
    logs.join("\n"),
  );
  assert.ok(
    logs.some((l) => l.includes("WARNING: LICENCE DEVELOPMENT ISSUER IN USE") && l.includes(issuer.publicKey)),
    `the development issuer is logged loudly:\n${logs.join("\n")}`,
  );

  const info = await sys.admin("getLicenseInfo");
  assert.equal(info.ZxHA, { quantity: 3, licensed: true });
  assert.equal(info.features, [{ name: "ha_basic", quantity: 3, enabled: true }]);
  assert.is(info.source, "file");
  assert.is(info.valid, true);
  assert.is(info.accountsEnabled, 2);
  assert.is(info.issuedTo, "Example Ltd");
  assert.ok(Date.parse(info.validUntil) > Date.now() + 29 * DAY);
  assert.is(info.developmentIssuer.key, issuer.publicKey, "getLicenseInfo shows the development issuer");
  assert.is(info.developmentIssuer.file, issuer.publicFile);

  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l3@example.com" });
  await refused(sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l4@example.com" }), "LICENCE_EXCEEDED");

  const invalid = async (doc: unknown, reason: RegExp) => {
    writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
    const i = await sys.admin("getLicenseInfo");
    assert.is(i.valid, false);
    assert.match(i.reason, reason);
    assert.equal(i.ZxHA, { quantity: 0, licensed: false });
    assert.equal(i.features, [{ name: "ha_basic", quantity: 0, enabled: false }]);
    assert.is(i.accountsEnabled, 3);
    const e = await refused(sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l5@example.com" }), "LICENCE_INVALID");
    assert.match(e.message, reason);
    assert.match(e.message, /existing replicas keep working/);
    assert.is(await enabledAccounts(), 3, "nothing was changed");
    assert.ok(
      logs.some((l) => l.includes("is NOT valid") && reason.test(l)),
      `the supervisor logged it:\n${logs.join("\n")}`,
    );
  };
  const good = signLicence(terms({ quantity: 3 }), issuer.secretKey);
  await invalid({ ...good, licence: { ...good.licence, quantity: 1000 } }, /changed after it was signed/);
  await invalid(signLicence(terms({ quantity: 1000 }), nacl.sign.keyPair().secretKey), /not a trusted issuer/);
  await invalid(signLicence(terms({ validUntil: new Date(Date.now() - DAY).toISOString() }), issuer.secretKey), /expired on/);
  await invalid("", /not valid JSON/);

  // Existing replicas keep working meanwhile, and an account already enabled costs nothing.
  await sys.mailbox("deliverMessage", { account: "l1@example.com", raw: rawMessage(1) });
  await waitFor("l1's replica applies new writes", async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: "l1@example.com" })).accounts[0];
    return a.replicas[0].available && a.replicas[0].sequence === a.sequence;
  });
  await sys.admin("setAccountDestination", { destination: MS2, priority: 20, accounts: "l1@example.com" });

  // A renewed licence is read without a restart.
  writeLicenceFile(file, signLicence(terms({ quantity: 4 }), issuer.secretKey));
  const renewed = await sys.admin("getLicenseInfo");
  assert.is(renewed.valid, true);
  assert.is(renewed.ZxHA.quantity, 4);
  await sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l4@example.com" });
  assert.is(await enabledAccounts(), 4);
});

test("licence - a configured file that does not exist, or a replaced file signed by a key that is not pinned, is refused with the reason", async () => {
  await startSupervisor({ licenceFile: join(sys.root, "nowhere.json") });
  const missing = await sys.admin("getLicenseInfo");
  assert.is(missing.valid, false);
  assert.match(missing.reason, /nowhere\.json does not exist/);
  assert.is(missing.source, "file");
  assert.is(missing.developmentIssuer, undefined);

  // The attack: a licence signed with one's own key, and its public key put in the keys
  // folder where the trusted key used to be read from. Without the explicit override nothing
  // but the pinned key is trusted.
  const file = join(sys.root, "licence.json");
  const forged = ensureIssuerKeys(tempDir("mr-forged-keys-"));
  writeLicenceFile(file, signLicence(terms({ quantity: 1000 }), forged.secretKey));
  writeFileSync(join(sys.config.keys.dir, ISSUER_PUBLIC_FILE), `${forged.publicKey}\n`);
  await startSupervisor({ licenceFile: file, keysDir: sys.config.keys.dir });
  assert.not.ok(
    logs.some((l) => l.includes("DEVELOPMENT ISSUER")),
    logs.join("\n"),
  );
  const untrusted = await sys.admin("getLicenseInfo");
  assert.is(untrusted.valid, false);
  assert.match(untrusted.reason, /not a trusted issuer \(the pinned production issuer\)/);
  assert.equal(untrusted.ZxHA, { quantity: 0, licensed: false });
  const before = await enabledAccounts();
  const e = await refused(sys.admin("setAccountDestination", { destination: MS2, priority: 10, accounts: "l6@example.com" }), "LICENCE_INVALID");
  assert.match(e.message, /not a trusted issuer/);
  assert.is(await enabledAccounts(), before, "nothing was changed");
});

test("licence - defaultQuota above the unlicensed quota (100) is a configuration error naming both", async () => {
  const c = defaultConfig();
  c.licence.defaultQuota = 101;
  const problems = configProblems(c);
  assert.is(problems.length, 1, JSON.stringify(problems));
  assert.is(problems[0]!.path, "licence.defaultQuota");
  assert.match(problems[0]!.problem, /got 101, more than the unlicensed quota \(100\)/);
  assert.match(problems[0]!.allowed, /licence file/);
  c.licence.defaultQuota = 100;
  assert.equal(configProblems(c), []);

  // A supervisor started without the config loader refuses it too, before it serves anything.
  try {
    await startSupervisor({ licenceQuota: 10_000 });
    assert.unreachable("started with defaultQuota 10000");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).code, "CONFIG_INVALID");
    assert.match((err as Error).message, /licence\.defaultQuota: got 10000, more than the unlicensed quota \(100\)/);
  }
});

test("licence - a development issuer key file that is missing or not a key is a configuration error", async () => {
  const bad = join(sys.root, "bad.pub");
  writeFileSync(bad, "not a key\n");
  for (const [file, msg] of [
    [join(sys.root, "none.pub"), /cannot be read \(ENOENT\)/],
    [bad, /does not hold one base64 ed25519 public key/],
  ] as const) {
    try {
      await startSupervisor({ licenceDevIssuerKeyFile: file });
      assert.unreachable(`started with ${file}`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, /licence\.devIssuerKeyFile/);
      assert.match((err as Error).message, msg);
    }
  }
  sys.supervisor = undefined; // the failed starts stopped the previous one
});

test.after(async () => {
  await sys?.stop();
});

test.run();
