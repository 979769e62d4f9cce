import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, chmodSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import nacl from "tweetnacl";
import { EnvelopeError, EnvelopeKeyring, isHostName, SECRETBOX_KEY_LENGTH, SIGNING_PUBLIC_KEY_LENGTH, SIGNING_SECRET_KEY_LENGTH, isKid } from "../envelope/index.js";

// Key files, one folder per node (default `keys/`):
//   cluster.secretbox.json   {"current": kid, "keys": {kid: base64 32 bytes}}   same on every node
//   <host>.ed25519.json      {"host", "publicKey": base64 32, "secretKey": base64 64}
// secretKey is tweetnacl's form (seed then public key). Files are 0600, the folder 0700.

export const SECRETBOX_FILE = "cluster.secretbox.json";
export const SIGNING_FILE_SUFFIX = ".ed25519.json";

export type KeyFilesErrorCode = "KEYS_EXIST" | "KEYS_BAD_HOST" | "KEYS_INSECURE_MODE" | "KEYS_MISSING" | "KEYS_MALFORMED" | "KEYS_IO";

/** A key file problem. Messages name files and fields, never key material. */
export class KeyFilesError extends Error {
  override readonly name = "KeyFilesError";
  readonly code: KeyFilesErrorCode;
  /** The file (or folder) concerned, when there is one. */
  readonly file: string | undefined;

  constructor(code: KeyFilesErrorCode, message: string, file?: string) {
    super(message);
    this.code = code;
    this.file = file;
  }
}

export interface InitKeysOptions {
  dir: string;
  host: string;
  /** Replace this host's existing signing key pair. */
  force?: boolean;
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
  /** False when the cluster key file already existed and was reused. */
  createdSecretbox: boolean;
}

export interface LoadKeyringOptions {
  dir: string;
  host: string;
  /** Other mailstores' public keys by host (the node's own key is trusted anyway). */
  trusted?: Record<string, Uint8Array>;
}

/** Writes this host's signing key pair, and the cluster secretbox key unless the folder
 *  already has one (every node shares it: copy that file to the other nodes). */
export function initKeys(opts: InitKeysOptions): InitKeysResult {
  const host = checkHost(opts.host);
  const dir = resolve(opts.dir);
  const secretboxFile = join(dir, SECRETBOX_FILE);
  const signingFile = signingFileOf(dir, host);
  ensureDir(dir);
  if (!opts.force && exists(signingFile)) {
    throw new KeyFilesError("KEYS_EXIST", `${signingFile} already exists: keep it, or run again with --force to replace this host's signing key (other nodes must then trust the new public key)`, signingFile);
  }

  let createdSecretbox = false;
  let kid: string;
  if (exists(secretboxFile)) {
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
  if (!writeSecret(signingFile, { host, publicKey, secretKey: b64(pair.secretKey) }, opts.force === true)) {
    throw new KeyFilesError("KEYS_EXIST", `${signingFile} was created by someone else meanwhile: keep it, or run again with --force to replace it`, signingFile);
  }
  return { dir, secretboxFile, signingFile, kid, publicKey, createdSecretbox };
}

/** Reads this host's keys into a keyring, refusing files others could read. */
export function loadKeyring(opts: LoadKeyringOptions): EnvelopeKeyring {
  const host = checkHost(opts.host);
  const dir = resolve(opts.dir);
  const secretboxFile = join(dir, SECRETBOX_FILE);
  const signingFile = signingFileOf(dir, host);
  const box = readSecretbox(secretboxFile, host);
  const signing = readSigning(signingFile, host);
  let keyring: EnvelopeKeyring;
  try {
    keyring = new EnvelopeKeyring({ keys: box.keys, currentKid: box.current, signerId: host, signingSecretKey: signing.secretKey });
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    throw malformed(signingFile, "secretKey", "is not the private half of publicKey; the pair is corrupt: run `mailreplica keys init --host " + host + " --force`");
  }
  // Trusted keys come from the caller, not the files: their errors are the caller's.
  for (const [id, publicKey] of Object.entries(opts.trusted ?? {})) {
    if (id !== host) keyring.trustSigner(id, publicKey);
  }
  return keyring;
}

/** Public keys (base64) of every `<host>.ed25519.json` in a folder, by host. */
export function listPublicKeys(dir: string): Record<string, string> {
  const folder = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (e) {
    if (errno(e) === "ENOENT") throw new KeyFilesError("KEYS_MISSING", `key folder ${folder} does not exist: run \`mailreplica keys init --host H\` for each mailstore`, folder);
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

function readSecretbox(file: string, host?: string): { current: string; keys: Record<string, Uint8Array> } {
  const o = parseObject(file, readSecret(file, host));
  if (!isKid(o.current)) throw malformed(file, "current", "is missing or not a key id");
  const keysField = o.keys;
  if (typeof keysField !== "object" || keysField === null || Array.isArray(keysField)) throw malformed(file, "keys", "is missing or not an object of kid: base64 key");
  const keys: Record<string, Uint8Array> = {};
  for (const [kid, value] of Object.entries(keysField as Record<string, unknown>)) {
    if (!isKid(kid)) throw malformed(file, "keys", `has an entry whose key id is not valid`);
    keys[kid] = base64Value(file, `keys.${kid}`, value, SECRETBOX_KEY_LENGTH);
  }
  if (!Object.hasOwn(keys, o.current)) throw malformed(file, "current", `names key id "${o.current}", which is not in "keys"`);
  return { current: o.current, keys };
}

function readSigning(file: string, host: string): { secretKey: Uint8Array } {
  const o = parseObject(file, readSecret(file, host));
  if (o.host !== host) throw malformed(file, "host", `is not "${host}"`);
  const publicKey = base64Field(file, o, "publicKey", SIGNING_PUBLIC_KEY_LENGTH);
  const secretKey = base64Field(file, o, "secretKey", SIGNING_SECRET_KEY_LENGTH);
  if (!Buffer.from(secretKey.subarray(32)).equals(publicKey)) throw malformed(file, "secretKey", "does not end with publicKey; the pair is corrupt: run `mailreplica keys init --host " + host + " --force`");
  return { secretKey };
}

/** Reads a file holding secrets through one descriptor, so the mode checked is the mode of
 *  the file read. */
function readSecret(file: string, host: string | undefined): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    if (errno(e) === "ENOENT") throw new KeyFilesError("KEYS_MISSING", `${file} does not exist: run \`mailreplica keys init --host ${host ?? "H"}\` (or copy cluster.secretbox.json from another node)`, file);
    throw io(file, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw malformed(file, "file", "is not a regular file");
    if ((st.mode & 0o077) !== 0) {
      throw new KeyFilesError("KEYS_INSECURE_MODE", `${file} has mode ${(st.mode & 0o777).toString(8).padStart(3, "0")}, so other users may read or change its keys: run \`chmod 600 ${file}\``, file);
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
function writeSecret(file: string, body: object, replace: boolean): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(body, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600); // the umask may only narrow it, but say exactly what is meant
    if (replace) {
      renameSync(tmp, file);
      return true;
    }
    try {
      linkSync(tmp, file); // fails if the file exists, unlike rename
      return true;
    } catch (e) {
      if (errno(e) === "EEXIST") return false;
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

function ensureDir(dir: string): void {
  try {
    const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) chmodSync(dir, 0o700);
  } catch (e) {
    throw io(dir, e);
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (e) {
    if (errno(e) === "ENOENT") return false;
    throw io(file, e);
  }
}

function checkHost(host: string): string {
  if (!isHostName(host)) {
    throw new KeyFilesError("KEYS_BAD_HOST", `host ${JSON.stringify(String(host).slice(0, 80))} is not a DNS host name (letters, digits, "-" and "." only, like mailstore1.example.com): pass the mailstore's FQDN`);
  }
  return host;
}

function signingFileOf(dir: string, host: string): string {
  return join(dir, host + SIGNING_FILE_SUFFIX);
}

function malformed(file: string, field: string, what: string): KeyFilesError {
  return new KeyFilesError("KEYS_MALFORMED", `${file}: ${field === "file" ? "the file" : `field "${field}"`} ${what}`, file);
}

function io(file: string, e: unknown): KeyFilesError {
  if (e instanceof KeyFilesError) return e;
  const code = errno(e) ?? "unknown error";
  return new KeyFilesError("KEYS_IO", `cannot read or write ${file} (${code}): check the path and its permissions`, file);
}

function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" ? (e as { code: string }).code : undefined;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
