// Writes a signed licence (src/licence/licence_file.ts):
//
//   node dist/scripts/make_licence.js --quantity 1000 --days 365 [--out FILE] [--keys DIR] [--issuer-secret FILE] [--issued-to NAME]
//
// The supervisor trusts the issuer key pinned in src/licence/licence_issuer.ts; whoever holds its
// secret key file signs production licences with --issuer-secret FILE. Without it, a
// development issuer key pair in the keys folder is used (default: keys.dir of the
// configuration, i.e. var/keys or MR_KEYS_DIR): `licence-issuer.secret.json` (mode 0600, never
// printed) is created on the first run, and a supervisor trusts its `licence-issuer.pub` only
// when told to with licence.devIssuerKeyFile / MR_LICENCE_DEV_ISSUER (it then logs a warning).
// The licence goes to --out (default: licence.file of the configuration, else
// var/licence.json); point the supervisor at it with licence.file / MR_LICENCE_FILE.
import { join, resolve } from "node:path";
import { loadConfig } from "../src/config/index.js";
import { projectRoot } from "../src/paths.js";
import nacl from "tweetnacl";
import { HA_FEATURE, ensureIssuerKeys, readIssuerSecretFile, signLicence, writeLicenceFile } from "../src/licence/licence_file.js";
import { PINNED_ISSUER_KEY } from "../src/licence/licence_issuer.js";

const USAGE = "usage: node dist/scripts/make_licence.js --quantity N --days D [--out FILE] [--keys DIR] [--issuer-secret FILE] [--issued-to NAME]";

interface Args {
  quantity: number;
  days: number;
  out?: string;
  keys?: string;
  issuerSecret?: string;
  issuedTo: string;
}

class UsageError extends Error {}

function wholeNumber(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${raw === undefined ? "nothing" : JSON.stringify(raw)}`);
  return n;
}

function parse(argv: string[]): Args {
  const given = new Map<string, string>();
  const flags = ["--quantity", "--days", "--out", "--keys", "--issuer-secret", "--issued-to"];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") throw new UsageError("");
    if (!flags.includes(a)) throw new UsageError(`unknown option ${JSON.stringify(a)}; allowed: ${flags.join(", ")}`);
    const v = argv[++i];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
    if (given.has(a)) throw new UsageError(`${a} is given twice`);
    given.set(a, v);
  }
  if (!given.has("--quantity")) throw new UsageError("--quantity is required: the number of accounts that may have replicas");
  return {
    quantity: wholeNumber("--quantity", given.get("--quantity"), 0, 10_000_000),
    days: given.has("--days") ? wholeNumber("--days", given.get("--days"), 1, 36_500) : 365,
    ...(given.has("--out") ? { out: given.get("--out")! } : {}),
    ...(given.has("--keys") ? { keys: given.get("--keys")! } : {}),
    ...(given.has("--issuer-secret") ? { issuerSecret: given.get("--issuer-secret")! } : {}),
    issuedTo: given.get("--issued-to") ?? "development",
  };
}

function main(): number {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) process.stderr.write(`make_licence: ${e.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return e.message ? 2 : 0;
  }
  // The configuration only supplies defaults; explicit options win and need no valid config.
  let keysDir = args.keys;
  let out = args.out;
  if ((keysDir === undefined && args.issuerSecret === undefined) || out === undefined) {
    const config = loadConfig();
    keysDir ??= config.keys.dir;
    out ??= config.licence.file ?? join(projectRoot(), "var", "licence.json");
  }
  const validUntil = new Date(Date.now() + args.days * 24 * 3600_000).toISOString();
  const terms = { quantity: args.quantity, validUntil, issuedTo: args.issuedTo, features: [HA_FEATURE] };
  const lines = [`licence written to ${resolve(out)}: ${args.quantity} accounts with replicas until ${validUntil}, issued to ${args.issuedTo}`];
  let secretKey: Uint8Array;
  let publicKey: string;
  if (args.issuerSecret !== undefined) {
    secretKey = readIssuerSecretFile(args.issuerSecret);
    publicKey = Buffer.from(nacl.sign.keyPair.fromSecretKey(secretKey).publicKey).toString("base64");
    lines.push(`issuer public key ${publicKey} (from ${resolve(args.issuerSecret)})`);
  } else {
    const issuer = ensureIssuerKeys(keysDir!);
    secretKey = issuer.secretKey;
    publicKey = issuer.publicKey;
    lines.push(`issuer public key ${publicKey} (${issuer.created ? "new" : "existing"} development key pair in ${resolve(keysDir!)})`);
  }
  if (publicKey === PINNED_ISSUER_KEY) {
    lines.push(`signed by the pinned production issuer: use it with MR_LICENCE_FILE=${resolve(out)} mailreplica supervisor`);
  } else {
    const pub = args.issuerSecret === undefined ? resolve(keysDir!, "licence-issuer.pub") : "a file holding the public key above";
    lines.push(
      `this is NOT the pinned production issuer: a supervisor trusts this licence only in development, with MR_LICENCE_DEV_ISSUER=${pub} (config licence.devIssuerKeyFile; it logs a warning)`,
      `use it: MR_LICENCE_FILE=${resolve(out)} MR_LICENCE_DEV_ISSUER=${pub} mailreplica supervisor`,
    );
  }
  writeLicenceFile(out, signLicence(terms, secretKey));
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  process.stderr.write(`make_licence: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
