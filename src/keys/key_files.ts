import { createPrivateKey, randomBytes } from "node:crypto";
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  chmodSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import nacl from "tweetnacl";
import { CodedError } from "../errors/index.js";
import {
  EnvelopeError,
  EnvelopeKeyring,
  isHostName,
  SECRETBOX_KEY_LENGTH,
  SIGNING_PUBLIC_KEY_LENGTH,
  SIGNING_SECRET_KEY_LENGTH,
  isKid,
  signingKid,
  SIGNER_ROLES,
  TrustList,
  type GrantSigner,
  type SignerRole,
  type TrustedKeyEntry,
} from "../envelope/index.js";
import { errnoCode } from "../text/file_read_problem.js";

// Key files, one folder per node (default `keys/`):
//   cluster.secretbox.json   {"current": kid, "keys": {kid: base64 32 bytes}}   same on every node
//   <host>.ed25519.json      {"host", "kid", "role", "publicKey": base64 32, "secretKey": base64 64}
//   <host>.supervisor-ed25519.json   the same, for a supervisor's grant-signing key
//   trusted-signers.json     {"version": 1, "signers": [{kid, host, role, publicKey, addedAt,
//                            retiredAt?}]}   same on every node; public keys only
// secretKey is tweetnacl's form (seed then public key). Secret files are 0600, the folder
// 0700. A signing file without "kid" (written before kids existed) gets signingKid(publicKey).

export const SECRETBOX_FILE = "cluster.secretbox.json";
export const SIGNING_FILE_SUFFIX = ".ed25519.json";
/** A supervisor's grant-signing key: `<host>.supervisor-ed25519.json` (not matched by SIGNING_FILE_SUFFIX). */
export const SUPERVISOR_FILE_SUFFIX = ".supervisor-ed25519.json";
export const TRUST_FILE = "trusted-signers.json";
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export type KeyFilesErrorCode =
  | "KEYS_NOT_STAGED"
  | "KEYS_NOT_TRUSTED"
  | "KEYS_CURRENT"
  | "KEYS_UNKNOWN_KID"
  | "KEYS_EXIST"
  | "KEYS_BAD_HOST"
  | "KEYS_BAD_ROLE"
  | "KEYS_INSECURE_MODE"
  | "KEYS_MISSING"
  | "KEYS_MALFORMED"
  | "KEYS_IO";

/** A key file problem. Messages name files and fields, never key material. */
export class KeyFilesError extends CodedError<KeyFilesErrorCode> {
  constructor(
    code: KeyFilesErrorCode,
    message: string,
    /** The file (or folder) concerned, when there is one. */
    readonly file?: string,
    /** `cause`: the fs error behind a KEYS_IO */
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export interface InitKeysOptions {
  dir: string;
  host: string;
  /** Replace this host's existing signing key pair (the old public key stays trusted for what it signed). */
  force?: boolean;
  /** What the key signs: log entries (mailstore, the default) or promotion grants (supervisor). */
  role?: SignerRole;
}

/** What `initKeys` did. Holds nothing secret: the CLI prints it. */
export interface InitKeysResult {
  dir: string;
  secretboxFile: string;
  signingFile: string;
  /** Current cluster key id. */
  kid: string;
  /** This host's ed25519 public key, base64. */
  publicKey: string;
  /** Key id of this host's new signing key. */
  signingKid: string;
  role: SignerRole;
  /** The trusted-signers.json the key was added to. */
  trustFile: string;
  /** False when the cluster key file already existed and was reused (always false for a supervisor). */
  createdSecretbox: boolean;
}

export interface LoadKeyringOptions {
  dir: string;
  host: string;
  /** More mailstore public keys by host, besides trusted-signers.json (tools and tests). */
  trusted?: Record<string, Uint8Array>;
}

/** Writes this host's signing key pair, and the cluster secretbox key unless the folder
 *  already has one (every node shares it: copy that file to the other nodes). */
export function initKeys(opts: InitKeysOptions): InitKeysResult {
  const host = checkHost(opts.host);
  const role = checkRole(opts.role ?? "mailstore");
  const dir = resolve(opts.dir);
  const secretboxFile = join(dir, SECRETBOX_FILE);
  const signingFile = signingFileOf(dir, host, role);
  ensureDir(dir);
  if (!opts.force && exists(signingFile)) {
    throw new KeyFilesError(
      "KEYS_EXIST",
      `${signingFile} already exists: keep it, or run again with --force to replace this host's signing key (other nodes must then trust the new public key)`,
      signingFile,
    );
  }

  let createdSecretbox = false;
  let kid = "";
  // A supervisor signs grants only: it never opens the log, so it gets no cluster key.
  if (role === "supervisor") {
    if (exists(secretboxFile)) kid = readSecretbox(secretboxFile).current;
  } else if (exists(secretboxFile)) {
    kid = readSecretbox(secretboxFile).current;
  } else {
    kid = `k1-${randomBytes(4).toString("hex")}`;
    const body = { current: kid, keys: { [kid]: b64(nacl.randomBytes(SECRETBOX_KEY_LENGTH)) } };
    createdSecretbox = writeSecret(secretboxFile, body, false);
    // Another node initialising the same folder at the same moment won: use its key.
    if (!createdSecretbox) kid = readSecretbox(secretboxFile).current;
  }

  const pair = nacl.sign.keyPair();
  const publicKey = b64(pair.publicKey);
  const sKid = signingKid(pair.publicKey);
  // Trusted first: a key in use before the list names it would sign entries others refuse.
  const trustFile = addTrustedSigner(dir, { kid: sKid, host, role, publicKey: pair.publicKey, addedAt: Date.now() });
  if (!writeSecret(signingFile, { host, kid: sKid, role, publicKey, secretKey: b64(pair.secretKey) }, opts.force === true)) {
    throw new KeyFilesError(
      "KEYS_EXIST",
      `${signingFile} was created by someone else meanwhile: keep it, or run again with --force to replace it`,
      signingFile,
    );
  }
  return { dir, secretboxFile, signingFile, kid, publicKey, signingKid: sKid, role, trustFile, createdSecretbox };
}

/** The operator's trusted-signers.json of a folder. A missing file is an empty list (`missing`). */
export function readTrustList(dir: string): { file: string; entries: TrustedKeyEntry[]; missing: boolean } {
  const file = join(resolve(dir), TRUST_FILE);
  if (!exists(file)) return { file, entries: [], missing: true };
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw io(file, e);
  }
  // Whoever can change this file decides who may write the log.
  if ((st.mode & 0o022) !== 0) {
    throw new KeyFilesError(
      "KEYS_INSECURE_MODE",
      `${file} has mode ${(st.mode & 0o777).toString(8).padStart(3, "0")}, so other users may add signers to it: run \`chmod 644 ${file}\``,
      file,
    );
  }
  const o = parseObject(file, readText(file));
  if (o.version !== 1) throw malformed(file, "version", "is not 1 (this mailreplica reads version 1)");
  if (!Array.isArray(o.signers)) throw malformed(file, "signers", "is missing or not a list");
  const entries: TrustedKeyEntry[] = o.signers.map((raw: unknown, i: number) => {
    const where = `signers[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw malformed(file, where, "is not an object");
    const e = raw as Record<string, unknown>;
    if (!isKid(e.kid)) throw malformed(file, `${where}.kid`, "is missing or not a key id");
    if (!isHostName(e.host)) throw malformed(file, `${where}.host`, "is missing or not a host name");
    if (!SIGNER_ROLES.includes(e.role as SignerRole)) throw malformed(file, `${where}.role`, `is not one of ${SIGNER_ROLES.join(", ")}`);
    if (!Number.isSafeInteger(e.addedAt)) throw malformed(file, `${where}.addedAt`, "is not a time in ms");
    if (e.retiredAt !== undefined && !Number.isSafeInteger(e.retiredAt)) throw malformed(file, `${where}.retiredAt`, "is not a time in ms");
    return {
      kid: e.kid,
      host: e.host,
      role: e.role as SignerRole,
      publicKey: base64Value(file, `${where}.publicKey`, e.publicKey, SIGNING_PUBLIC_KEY_LENGTH),
      addedAt: e.addedAt as number,
      ...(e.retiredAt !== undefined ? { retiredAt: e.retiredAt as number } : {}),
    };
  });
  try {
    new TrustList(entries);
  } catch (e) {
    throw malformed(file, "signers", (e as Error).message);
  }
  return { file, entries, missing: false };
}

/** Writes the list all at once (mode 0600 like the other key files; public keys only, but only the owner may change it). */
export function writeTrustList(dir: string, entries: readonly TrustedKeyEntry[]): string {
  const file = join(resolve(dir), TRUST_FILE);
  new TrustList(entries); // refuses duplicates and bad keys before anything is written
  const body = {
    version: 1,
    signers: entries.map((e) => ({
      kid: e.kid,
      host: e.host,
      role: e.role,
      publicKey: b64(e.publicKey),
      addedAt: e.addedAt,
      ...(e.retiredAt !== undefined ? { retiredAt: e.retiredAt } : {}),
    })),
  };
  writeFileAtomically(file, body, 0o600);
  return file;
}

/** Adds one key to the folder's trusted-signers.json (kept once when already there). */
export function addTrustedSigner(dir: string, entry: TrustedKeyEntry): string {
  ensureDir(resolve(dir));
  const { entries } = readTrustList(dir);
  if (entries.some((e) => e.kid === entry.kid)) return join(resolve(dir), TRUST_FILE);
  return writeTrustList(dir, [...entries, entry]);
}

/**
 * Puts an existing `<host>.ed25519.json`'s public key in the folder's trusted-signers.json
 * (key files written before that list existed; the dev cluster). Returns whether it was added.
 */
export function trustKeyFile(opts: { dir: string; host: string; role?: SignerRole }): { kid: string; added: boolean; trustFile: string } {
  const host = checkHost(opts.host);
  const role = checkRole(opts.role ?? "mailstore");
  const dir = resolve(opts.dir);
  const signing = readSigning(signingFileOf(dir, host, role), host);
  const publicKey = signing.secretKey.subarray(32);
  const { entries, file } = readTrustList(dir);
  if (entries.some((e) => e.kid === signing.kid)) return { kid: signing.kid, added: false, trustFile: file };
  addTrustedSigner(dir, { kid: signing.kid, host, role, publicKey: new Uint8Array(publicKey), addedAt: Date.now() });
  return { kid: signing.kid, added: true, trustFile: file };
}

/** This host's signing key as a grant signer (supervisors). */
export function loadSigningKey(opts: { dir: string; host: string; role?: SignerRole }): GrantSigner {
  const host = checkHost(opts.host);
  const signing = readSigning(signingFileOf(resolve(opts.dir), host, checkRole(opts.role ?? "supervisor")), host);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(signing.secretKey.subarray(0, 32))]), format: "der", type: "pkcs8" });
  return { kid: signing.kid, host, key };
}

/** Reads this host's keys into a keyring, refusing files others could read. */
export function loadKeyring(opts: LoadKeyringOptions): EnvelopeKeyring {
  const host = checkHost(opts.host);
  const dir = resolve(opts.dir);
  const secretboxFile = join(dir, SECRETBOX_FILE);
  const signingFile = signingFileOf(dir, host);
  const box = readSecretbox(secretboxFile, host);
  const signing = readSigning(signingFile, host);
  const trust = readTrustList(dir);
  let keyring: EnvelopeKeyring;
  try {
    // Only the operator's list makes a key trusted, this node's own included.
    keyring = new EnvelopeKeyring({
      keys: box.keys,
      currentKid: box.current,
      signerId: host,
      signingSecretKey: signing.secretKey,
      signingKid: signing.kid,
      trustOwnKey: false,
    });
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    throw malformed(
      signingFile,
      "secretKey",
      "is not the private half of publicKey; the pair is corrupt: run `mailreplica keys init --host " + host + " --force`",
    );
  }
  try {
    keyring.setTrustList(trust.entries);
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    throw malformed(trust.file, "signers", e.message);
  }
  // Trusted keys from the caller: their errors are the caller's.
  for (const [id, publicKey] of Object.entries(opts.trusted ?? {})) keyring.trustSigner(id, publicKey);
  return keyring;
}

/** Public keys (base64) of every `<host>.ed25519.json` in a folder, by host. */
export function listPublicKeys(dir: string): Record<string, string> {
  const folder = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (e) {
    if (errnoCode(e) === "ENOENT")
      throw new KeyFilesError("KEYS_MISSING", `key folder ${folder} does not exist: run \`mailreplica keys init --host H\` for each mailstore`, folder);
    throw io(folder, e);
  }
  const out: Record<string, string> = {};
  for (const name of names.sort()) {
    if (!name.endsWith(SIGNING_FILE_SUFFIX)) continue;
    const host = name.slice(0, -SIGNING_FILE_SUFFIX.length);
    const file = join(folder, name);
    if (!isHostName(host)) throw malformed(file, "file name", "is not <host>.ed25519.json with a valid host name; rename or remove it");
    const o = parseObject(file, readText(file));
    if (o.host !== host) throw malformed(file, "host", `does not match the file name's host "${host}"`);
    out[host] = b64(base64Field(file, o, "publicKey", SIGNING_PUBLIC_KEY_LENGTH));
  }
  return out;
}

/** The cluster key file's kids and current kid (for reloads). */
export function readSecretboxFile(file: string): { current: string; keys: Record<string, Uint8Array> } {
  return readSecretbox(file);
}

function readSecretbox(file: string, host?: string): { current: string; keys: Record<string, Uint8Array> } {
  const o = parseObject(file, readSecret(file, host));
  if (!isKid(o.current)) throw malformed(file, "current", "is missing or not a key id");
  const keysField = o.keys;
  if (typeof keysField !== "object" || keysField === null || Array.isArray(keysField))
    throw malformed(file, "keys", "is missing or not an object of kid: base64 key");
  const keys: Record<string, Uint8Array> = {};
  for (const [kid, value] of Object.entries(keysField as Record<string, unknown>)) {
    if (!isKid(kid)) throw malformed(file, "keys", `has an entry whose key id is not valid`);
    keys[kid] = base64Value(file, `keys.${kid}`, value, SECRETBOX_KEY_LENGTH);
  }
  if (!Object.hasOwn(keys, o.current)) throw malformed(file, "current", `names key id "${o.current}", which is not in "keys"`);
  return { current: o.current, keys };
}

export function readSigning(file: string, host: string): { secretKey: Uint8Array; kid: string } {
  const o = parseObject(file, readSecret(file, host));
  if (o.host !== host) throw malformed(file, "host", `is not "${host}"`);
  const publicKey = base64Field(file, o, "publicKey", SIGNING_PUBLIC_KEY_LENGTH);
  const secretKey = base64Field(file, o, "secretKey", SIGNING_SECRET_KEY_LENGTH);
  if (!Buffer.from(secretKey.subarray(32)).equals(publicKey))
    throw malformed(file, "secretKey", "does not end with publicKey; the pair is corrupt: run `mailreplica keys init --host " + host + " --force`");
  if (o.kid !== undefined && !isKid(o.kid)) throw malformed(file, "kid", "is not a key id");
  return { secretKey, kid: (o.kid as string | undefined) ?? signingKid(publicKey) };
}

/** Reads a file holding secrets through one descriptor, so the mode checked is the mode of
 *  the file read. */
function readSecret(file: string, host: string | undefined): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    if (errnoCode(e) === "ENOENT")
      throw new KeyFilesError(
        "KEYS_MISSING",
        `${file} does not exist: run \`mailreplica keys init --host ${host ?? "H"}\` (or copy cluster.secretbox.json from another node)`,
        file,
      );
    throw io(file, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw malformed(file, "file", "is not a regular file");
    if ((st.mode & 0o077) !== 0) {
      throw new KeyFilesError(
        "KEYS_INSECURE_MODE",
        `${file} has mode ${(st.mode & 0o777).toString(8).padStart(3, "0")}, so other users may read or change its keys: run \`chmod 600 ${file}\``,
        file,
      );
    }
    return readFileSync(fd, "utf8");
  } catch (e) {
    if (e instanceof KeyFilesError) throw e;
    throw io(file, e);
  } finally {
    closeSync(fd);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw io(file, e);
  }
}

function parseObject(file: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be key material.
    throw malformed(file, "file", "is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed(file, "file", "is not a JSON object");
  return value as Record<string, unknown>;
}

function base64Field(file: string, o: Record<string, unknown>, field: string, length: number): Uint8Array {
  return base64Value(file, field, o[field], length);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Value(file: string, field: string, value: unknown, length: number): Uint8Array {
  if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) throw malformed(file, field, `is missing or not base64`);
  const bytes = Buffer.from(value, "base64");
  if (bytes.length !== length) throw malformed(file, field, `holds ${bytes.length} bytes, not ${length}`);
  return new Uint8Array(bytes);
}

/** Writes `body` as JSON, mode 0600, all at once: a reader never sees half a key file.
 *  Without `replace`, returns false (writing nothing) when the file already exists. */
export function writeSecret(file: string, body: object, replace: boolean): boolean {
  if (replace) {
    writeFileAtomically(file, body, 0o600);
    return true;
  }
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(body, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600); // the umask may only narrow it, but say exactly what is meant
    try {
      linkSync(tmp, file); // fails if the file exists, unlike rename
      return true;
    } catch (e) {
      if (errnoCode(e) === "EEXIST") return false;
      throw e;
    }
  } catch (e) {
    throw io(file, e);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed into place, or never written
    }
  }
}

/** Writes `body` as JSON with `mode` through a temporary file and a rename. */
function writeFileAtomically(file: string, body: object, mode: number): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(body, null, 2) + "\n", { mode, flag: "wx" });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw io(file, e);
  }
}

export function checkRole(role: string): SignerRole {
  if (!SIGNER_ROLES.includes(role as SignerRole)) {
    throw new KeyFilesError(
      "KEYS_BAD_ROLE",
      `role ${JSON.stringify(String(role).slice(0, 40))} is not one of ${SIGNER_ROLES.join(", ")}: mailstores sign log entries, supervisors sign promotion grants`,
    );
  }
  return role as SignerRole;
}

function ensureDir(dir: string): void {
  try {
    const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) chmodSync(dir, 0o700);
  } catch (e) {
    throw io(dir, e);
  }
}

export function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return false;
    throw io(file, e);
  }
}

export function checkHost(host: string): string {
  if (!isHostName(host)) {
    throw new KeyFilesError(
      "KEYS_BAD_HOST",
      `host ${JSON.stringify(String(host).slice(0, 80))} is not a DNS host name (letters, digits, "-" and "." only, like mailstore1.example.com): pass the mailstore's FQDN`,
    );
  }
  return host;
}

export function signingFileOf(dir: string, host: string, role: SignerRole = "mailstore"): string {
  return join(dir, signingFileName(host, role));
}

/** File name of a host's signing key: a machine may run a mailstore and a supervisor under one name. */
export function signingFileName(host: string, role: SignerRole): string {
  return host + (role === "supervisor" ? SUPERVISOR_FILE_SUFFIX : SIGNING_FILE_SUFFIX);
}

function malformed(file: string, field: string, what: string): KeyFilesError {
  return new KeyFilesError("KEYS_MALFORMED", `${file}: ${field === "file" ? "the file" : `field "${field}"`} ${what}`, file);
}

function io(file: string, e: unknown): KeyFilesError {
  if (e instanceof KeyFilesError) return e;
  const code = errnoCode(e) ?? "unknown error";
  return new KeyFilesError("KEYS_IO", `cannot read or write ${file} (${code}): check the path and its permissions`, file, { cause: e });
}

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
