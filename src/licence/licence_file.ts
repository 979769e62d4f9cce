// The licence file: which HA quantity this installation may use, signed by an issuer the
// supervisor trusts.
//
//   { "licence": { "quantity": N, "validUntil": "ISO date", "issuedTo": "...", "features": ["ha_basic"] },
//     "signature": base64 ed25519 signature over canonicalJson(licence),
//     "issuer": base64 ed25519 public key }
//
// The signature covers the canonical JSON of `licence` (keys sorted, no spaces), so a file
// re-indented by an editor stays valid while any change of a value does not. The issuer key
// named in the file is only a hint: a licence is accepted only when that key is one the
// supervisor trusts: the issuer key pinned in the code, or a development issuer the
// configuration names explicitly (licence_issuer.ts).
import { randomBytes } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import nacl from "tweetnacl";

/** The feature that licenses replicas (Carbonio's name). */
export const HA_FEATURE = "ha_basic";
/** In the keys folder: a development issuer's public key (base64, one line); trusted only through licence.devIssuerKeyFile. */
export const ISSUER_PUBLIC_FILE = "licence-issuer.pub";
/** In the keys folder: the issuer key pair, mode 0600; only make_licence reads it. */
export const ISSUER_SECRET_FILE = "licence-issuer.secret.json";

export interface LicenceTerms {
  /** accounts that may have replicas */
  quantity: number;
  /** ISO 8601 date or date-time; the licence is valid up to this instant */
  validUntil: string;
  issuedTo: string;
  features: string[];
}

export interface SignedLicence {
  licence: LicenceTerms;
  signature: string;
  issuer: string;
}

/** Why a licence is refused; stable words for logs, getLicenseInfo and tests. */
export type LicenceProblem = "missing" | "unreadable" | "malformed" | "no-trusted-issuer" | "untrusted-issuer" | "bad-signature" | "expired" | "no-ha-feature";

export type LicenceVerdict =
  | { valid: true; licence: LicenceTerms; validUntilMs: number; issuer: string }
  | { valid: false; problem: LicenceProblem; reason: string; licence?: LicenceTerms };

/** JSON with object keys sorted at every depth and no whitespace: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const enc = new TextEncoder();
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromB64(value: unknown, length: number): Uint8Array | undefined {
  if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, "base64");
  return bytes.length === length ? new Uint8Array(bytes) : undefined;
}

/** Signs `terms` with an ed25519 secret key (tweetnacl's 64-byte form). */
export function signLicence(terms: LicenceTerms, secretKey: Uint8Array): SignedLicence {
  const pair = nacl.sign.keyPair.fromSecretKey(secretKey);
  const signature = nacl.sign.detached(enc.encode(canonicalJson(terms)), secretKey);
  return { licence: terms, signature: b64(signature), issuer: b64(pair.publicKey) };
}

/** The terms' own problems (types, ranges), or undefined when they are well formed. */
function termsProblem(l: unknown): string | undefined {
  if (typeof l !== "object" || l === null || Array.isArray(l)) return `"licence" is missing or not an object`;
  const t = l as Record<string, unknown>;
  if (!Number.isSafeInteger(t.quantity) || (t.quantity as number) < 0) return `"licence.quantity" must be a whole number of at least 0`;
  if (typeof t.validUntil !== "string" || Number.isNaN(Date.parse(t.validUntil)))
    return `"licence.validUntil" must be an ISO date such as 2027-01-31T00:00:00Z`;
  if (typeof t.issuedTo !== "string") return `"licence.issuedTo" must be a string`;
  if (!Array.isArray(t.features) || !t.features.every((f) => typeof f === "string"))
    return `"licence.features" must be an array of strings such as ["${HA_FEATURE}"]`;
  return undefined;
}

/**
 * Checks a licence file's text: well formed, signed by one of `trusted` (base64 public
 * keys), untampered, not expired at `now`, and licensing the HA feature. Never throws.
 */
export function verifyLicence(text: string, trusted: readonly string[], now: number): LicenceVerdict {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { valid: false, problem: "malformed", reason: "the file is not valid JSON" };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return { valid: false, problem: "malformed", reason: "the file is not a JSON object with licence, signature and issuer" };
  const d = doc as Record<string, unknown>;
  const problem = termsProblem(d.licence);
  if (problem) return { valid: false, problem: "malformed", reason: problem };
  const terms = d.licence as LicenceTerms;
  const issuer = fromB64(d.issuer, 32);
  if (!issuer) return { valid: false, problem: "malformed", reason: `"issuer" must be a base64 ed25519 public key (32 bytes)`, licence: terms };
  const signature = fromB64(d.signature, 64);
  if (!signature) return { valid: false, problem: "malformed", reason: `"signature" must be a base64 ed25519 signature (64 bytes)`, licence: terms };
  if (trusted.length === 0) {
    return { valid: false, problem: "no-trusted-issuer", reason: "no trusted licence issuer key is configured", licence: terms };
  }
  const issuerB64 = b64(issuer);
  if (!trusted.includes(issuerB64)) {
    return {
      valid: false,
      problem: "untrusted-issuer",
      reason: `the licence is signed by issuer ${issuerB64.slice(0, 12)}..., which is not a trusted issuer (the pinned production issuer${trusted.length > 1 ? " or the configured development issuer" : ""})`,
      licence: terms,
    };
  }
  if (!nacl.sign.detached.verify(enc.encode(canonicalJson(terms)), signature, issuer)) {
    return {
      valid: false,
      problem: "bad-signature",
      reason: "the signature does not match the licence terms: the file was changed after it was signed",
      licence: terms,
    };
  }
  const validUntilMs = Date.parse(terms.validUntil);
  if (validUntilMs <= now)
    return { valid: false, problem: "expired", reason: `the licence expired on ${new Date(validUntilMs).toISOString()}`, licence: terms };
  if (!terms.features.includes(HA_FEATURE))
    return { valid: false, problem: "no-ha-feature", reason: `the licence does not include the ${HA_FEATURE} feature`, licence: terms };
  return { valid: true, licence: terms, validUntilMs, issuer: issuerB64 };
}

export interface IssuerKeys {
  publicKey: string;
  secretKey: Uint8Array;
  /** true when this call created the pair */
  created: boolean;
  publicFile: string;
  secretFile: string;
}

/**
 * The issuer key pair of `keysDir`, created if missing: the secret file is written mode 0600
 * and whole (a temp file linked into place, so two runs at once never mix two pairs), then
 * the public file. The secret never leaves this function except as the returned bytes.
 */
export function ensureIssuerKeys(keysDir: string): IssuerKeys {
  const dir = resolve(keysDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secretFile = join(dir, ISSUER_SECRET_FILE);
  const publicFile = join(dir, ISSUER_PUBLIC_FILE);
  let created = false;
  let pair = readIssuerSecret(secretFile);
  if (!pair) {
    const fresh = nacl.sign.keyPair();
    const tmp = `${secretFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, JSON.stringify({ publicKey: b64(fresh.publicKey), secretKey: b64(fresh.secretKey) }, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600);
    try {
      linkSync(tmp, secretFile);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      unlinkSync(tmp);
    }
    pair = readIssuerSecret(secretFile)!;
  }
  const publicKey = b64(pair.slice(32));
  // Always (re)written from the secret: a lost or stale public file is repaired.
  const tmpPub = `${publicFile}.${process.pid}.tmp`;
  writeFileSync(tmpPub, `${publicKey}\n`, { mode: 0o644 });
  renameSync(tmpPub, publicFile);
  return { publicKey, secretKey: pair, created, publicFile, secretFile };
}

/** The issuer secret key in `file` (make_licence --issuer-secret); a missing file is an error. */
export function readIssuerSecretFile(file: string): Uint8Array {
  const key = readIssuerSecret(file);
  if (!key) throw new Error(`${file} does not exist; give the issuer secret key file (licence-issuer.secret.json)`);
  return key;
}

function readIssuerSecret(file: string): Uint8Array | undefined {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    // Whoever can read this key can mint licences: refuse it as the other key files do.
    if ((mode & 0o077) !== 0)
      throw new Error(`${file} has mode ${mode.toString(8).padStart(3, "0")}, so other users may read the licence issuer key: run \`chmod 600 ${file}\``);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let o: { secretKey?: unknown };
  try {
    o = JSON.parse(text) as { secretKey?: unknown };
  } catch {
    // JSON.parse's message may quote the key material: say only what is wrong.
    throw new Error(`${file} is not valid JSON; move it away to create a new issuer key pair (licences signed by the old one stop being trusted)`);
  }
  const secretKey = fromB64(o.secretKey, 64);
  if (!secretKey) throw new Error(`${file}: field "secretKey" is missing or not a 64-byte base64 ed25519 key`);
  return secretKey;
}

/** Writes a signed licence file (readable by the supervisor; it holds no secret). */
export function writeLicenceFile(file: string, signed: SignedLicence): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(signed, null, 2) + "\n");
}

/**
 * Development and tests: signs a licence for `quantity` accounts (valid `days`) with the
 * development issuer of `keysDir` (created if missing) and writes it to `file`. A supervisor
 * trusts it only with `devIssuerKeyFile` as licence.devIssuerKeyFile.
 */
export function writeDevelopmentLicence(keysDir: string, file: string, quantity: number, days = 365): { file: string; devIssuerKeyFile: string } {
  const issuer = ensureIssuerKeys(keysDir);
  const validUntil = new Date(Date.now() + days * 24 * 3600_000).toISOString();
  writeLicenceFile(file, signLicence({ quantity, validUntil, issuedTo: "development", features: [HA_FEATURE] }, issuer.secretKey));
  return { file, devIssuerKeyFile: issuer.publicFile };
}
