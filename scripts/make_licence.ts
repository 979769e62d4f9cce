// Writes a signed development licence (actors/licence_file.ts):
//
//   node dist/scripts/make_licence.js --quantity 1000 --days 365 [--out FILE] [--keys DIR] [--issued-to NAME]
//
// The issuer key pair lives in the keys folder (default: keys.dir of the configuration, i.e.
// var/keys or MR_KEYS_DIR): `licence-issuer.secret.json` (mode 0600, never printed) is created
// on the first run, and `licence-issuer.pub` is what the supervisor trusts. The licence goes to
// --out (default: licence.file of the configuration, else var/licence.json); point the
// supervisor at it with licence.file / MR_LICENCE_FILE.
import { join, resolve } from "node:path";
import { loadConfig } from "../src/config/index.js";
import { projectRoot } from "../src/paths.js";
import { HA_FEATURE, ensureIssuerKeys, signLicence, writeLicenceFile } from "../actors/licence_file.js";

const USAGE = "usage: node dist/scripts/make_licence.js --quantity N --days D [--out FILE] [--keys DIR] [--issued-to NAME]";

interface Args {
  quantity: number;
  days: number;
  out?: string;
  keys?: string;
  issuedTo: string;
}

class UsageError extends Error {}

function wholeNumber(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${raw === undefined ? "nothing" : JSON.stringify(raw)}`);
  return n;
}

function parse(argv: string[]): Args {
  const given = new Map<string, string>();
  const flags = ["--quantity", "--days", "--out", "--keys", "--issued-to"];
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
  if (keysDir === undefined || out === undefined) {
    const config = loadConfig();
    keysDir ??= config.keys.dir;
    out ??= config.licence.file ?? join(projectRoot(), "var", "licence.json");
  }
  const issuer = ensureIssuerKeys(keysDir);
  const validUntil = new Date(Date.now() + args.days * 24 * 3600_000).toISOString();
  const signed = signLicence({ quantity: args.quantity, validUntil, issuedTo: args.issuedTo, features: [HA_FEATURE] }, issuer.secretKey);
  writeLicenceFile(out, signed);
  const lines = [
    `licence written to ${resolve(out)}: ${args.quantity} accounts with replicas until ${validUntil}, issued to ${args.issuedTo}`,
    `issuer public key ${issuer.publicKey} (${issuer.created ? "new key pair" : "existing key pair"} in ${resolve(keysDir)}; the supervisor trusts ${issuer.publicFile})`,
    `use it: MR_LICENCE_FILE=${resolve(out)} MR_KEYS_DIR=${resolve(keysDir)} mailreplica supervisor`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  process.stderr.write(`make_licence: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
