// Key rotation without downtime. Readers must know a key before a writer uses it, so every
// rotation has two steps with a copy in between:
//   signing key (mailstore or supervisor):
//     rotate    a new pair is staged in `<signing file>.next` and its public key added to
//               trusted-signers.json; the host still signs with its current key
//     (copy trusted-signers.json to every node: they now accept both keys)
//     activate  the staged pair replaces the signing file; the running process signs with it
//               within seconds (it watches the file). The old public key stays trusted, so
//               what it signed stays readable, until `retire`.
//   cluster key (secretbox):
//     rotate    a new kid is added to cluster.secretbox.json, not current
//     (copy the file to every mailstore: they can now read both kids)
//     activate  that kid becomes current: new writes use it (copy the file again)
//   retire      a signing kid is marked retired in trusted-signers.json (entries under it are
//               refused by readers that have not applied them yet), or a secretbox kid is
//               dropped from cluster.secretbox.json (entries under it cannot be decrypted by
//               new replicas). A key in use (current) is refused.
import { randomBytes } from "node:crypto";
import { readdirSync, renameSync } from "node:fs";
import { join, resolve } from "node:path";
import nacl from "tweetnacl";
import { SECRETBOX_KEY_LENGTH, signingKid, type SignerRole } from "../envelope/index.js";
import {
  addTrustedSigner,
  b64,
  checkHost,
  checkRole,
  exists,
  KeyFilesError,
  readSecretboxFile,
  readSigning,
  readTrustList,
  SECRETBOX_FILE,
  SIGNING_FILE_SUFFIX,
  SUPERVISOR_FILE_SUFFIX,
  signingFileOf,
  writeSecret,
  writeTrustList,
} from "./key_files.js";

export const STAGED_SUFFIX = ".next";

export interface RotateSigningResult {
  host: string;
  role: SignerRole;
  /** the staged key (rotate) or the key now in use (activate) */
  kid: string;
  publicKey: string;
  /** the key in use before (activate) or still in use (rotate) */
  currentKid: string;
  stagedFile: string;
  signingFile: string;
  trustFile: string;
}

/** Step 1: stages a new signing key pair and trusts its public key in the folder's list. */
export function stageSigningKey(opts: { dir: string; host: string; role?: SignerRole }): RotateSigningResult {
  const host = checkHost(opts.host);
  const role = checkRole(opts.role ?? "mailstore");
  const dir = resolve(opts.dir);
  const signingFile = signingFileOf(dir, host, role);
  const stagedFile = signingFile + STAGED_SUFFIX;
  const current = readSigning(signingFile, host);
  if (exists(stagedFile)) {
    const staged = readSigning(stagedFile, host);
    throw new KeyFilesError(
      "KEYS_EXIST",
      `${stagedFile} already holds a staged key (${staged.kid}): activate it (keys rotate --host ${host}${role === "supervisor" ? " --role supervisor" : ""} --activate) or delete that file to start over`,
      stagedFile,
    );
  }
  const pair = nacl.sign.keyPair();
  const kid = signingKid(pair.publicKey);
  // Trusted before it can ever be used: readers must know it first.
  const trustFile = addTrustedSigner(dir, { kid, host, role, publicKey: pair.publicKey, addedAt: Date.now() });
  writeSecret(stagedFile, { host, kid, role, publicKey: b64(pair.publicKey), secretKey: b64(pair.secretKey) }, false);
  return { host, role, kid, publicKey: b64(pair.publicKey), currentKid: current.kid, stagedFile, signingFile, trustFile };
}

/** Step 2: the staged pair becomes the signing key. Refused unless the folder's list trusts it. */
export function activateSigningKey(opts: { dir: string; host: string; role?: SignerRole }): RotateSigningResult {
  const host = checkHost(opts.host);
  const role = checkRole(opts.role ?? "mailstore");
  const dir = resolve(opts.dir);
  const signingFile = signingFileOf(dir, host, role);
  const stagedFile = signingFile + STAGED_SUFFIX;
  if (!exists(stagedFile)) {
    throw new KeyFilesError(
      "KEYS_NOT_STAGED",
      `no staged key in ${stagedFile}: run \`mailreplica keys rotate --host ${host}${role === "supervisor" ? " --role supervisor" : ""}\` first, then copy trusted-signers.json to every node`,
      stagedFile,
    );
  }
  const current = readSigning(signingFile, host);
  const staged = readSigning(stagedFile, host);
  const list = readTrustList(dir);
  const entry = list.entries.find((e) => e.kid === staged.kid);
  if (!entry || entry.role !== role || entry.retiredAt !== undefined) {
    throw new KeyFilesError(
      "KEYS_NOT_TRUSTED",
      `staged key ${staged.kid} is not a trusted ${role} key in ${list.file}: every reader would refuse what it signs; put this folder's trusted-signers.json (from 'keys rotate') on every node first`,
      list.file,
    );
  }
  try {
    renameSync(stagedFile, signingFile); // atomic: a reader sees the old pair or the new one
  } catch (e) {
    throw new KeyFilesError(
      "KEYS_IO",
      `cannot move ${stagedFile} onto ${signingFile} (${(e as { code?: string }).code ?? "error"}): check the folder's permissions`,
      signingFile,
      { cause: e },
    );
  }
  return { host, role, kid: staged.kid, publicKey: b64(staged.secretKey.subarray(32)), currentKid: current.kid, stagedFile, signingFile, trustFile: list.file };
}

export interface RotateClusterResult {
  file: string;
  /** the new kid (rotate) or the kid now current (activate) */
  kid: string;
  /** current kid before the call */
  previousKid: string;
  kids: string[];
}

/** Step 1: adds a new secretbox key under a new kid; the current kid does not change. */
export function stageClusterKey(opts: { dir: string }): RotateClusterResult {
  const file = join(resolve(opts.dir), SECRETBOX_FILE);
  const box = readSecretboxFile(file);
  const kid = `k${Object.keys(box.keys).length + 1}-${randomBytes(4).toString("hex")}`;
  const keys = { ...Object.fromEntries(Object.entries(box.keys).map(([k, v]) => [k, b64(v)])), [kid]: b64(nacl.randomBytes(SECRETBOX_KEY_LENGTH)) };
  writeSecret(file, { current: box.current, keys }, true);
  return { file, kid, previousKid: box.current, kids: Object.keys(keys) };
}

/** Step 2: `kid` (already in the file) becomes the key new writes use. */
export function activateClusterKey(opts: { dir: string; kid: string }): RotateClusterResult {
  const file = join(resolve(opts.dir), SECRETBOX_FILE);
  const box = readSecretboxFile(file);
  if (!Object.hasOwn(box.keys, opts.kid)) {
    throw new KeyFilesError(
      "KEYS_UNKNOWN_KID",
      `${file} has no key ${JSON.stringify(String(opts.kid).slice(0, 80))} (has ${Object.keys(box.keys).join(", ")}): run \`mailreplica keys rotate-cluster\` first and copy the file to every mailstore`,
      file,
    );
  }
  writeSecret(file, { current: opts.kid, keys: Object.fromEntries(Object.entries(box.keys).map(([k, v]) => [k, b64(v)])) }, true);
  return { file, kid: opts.kid, previousKid: box.current, kids: Object.keys(box.keys) };
}

export interface RetireResult {
  kid: string;
  kind: "signing" | "cluster";
  file: string;
  /** what the operator must know: entries under this key become unreadable to new copies */
  warning: string;
}

/** Retires a signing kid (marked in trusted-signers.json) or a cluster kid (dropped). Refuses a key in use here. */
export function retireKey(opts: { dir: string; kid: string }): RetireResult {
  const dir = resolve(opts.dir);
  const kid = opts.kid;
  const list = readTrustList(dir);
  const signing = list.entries.find((e) => e.kid === kid);
  if (signing) {
    for (const file of localSigningFiles(dir)) {
      const f = readSigning(file.path, file.host);
      if (f.kid === kid) {
        throw new KeyFilesError(
          "KEYS_CURRENT",
          `key ${kid} is in use: ${file.path} signs with it; rotate that host's key first (keys rotate --host ${file.host} ..., then --activate)`,
          file.path,
        );
      }
    }
    if (signing.retiredAt !== undefined) return { kid, kind: "signing", file: list.file, warning: `key ${kid} was already retired` };
    writeTrustList(
      dir,
      list.entries.map((e) => (e.kid === kid ? { ...e, retiredAt: Date.now() } : e)),
    );
    return {
      kid,
      kind: "signing",
      file: list.file,
      warning: `entries ${signing.host} signed with ${kid} are refused from now on by any copy that has not applied them yet: a replica reading one becomes unavailable there (retire a signing key only once every account was snapshotted and compacted past its entries: snapshotAccounts all compact true, after retention.keepDays). Copy ${list.file} to every node.`,
    };
  }
  const file = join(dir, SECRETBOX_FILE);
  const box = readSecretboxFile(file);
  if (Object.hasOwn(box.keys, kid)) {
    if (box.current === kid)
      throw new KeyFilesError(
        "KEYS_CURRENT",
        `cluster key ${kid} is current: new writes use it; activate another one first (keys rotate-cluster, then --activate KID)`,
        file,
      );
    const keys = Object.fromEntries(
      Object.entries(box.keys)
        .filter(([k]) => k !== kid)
        .map(([k, v]) => [k, b64(v)]),
    );
    writeSecret(file, { current: box.current, keys }, true);
    return {
      kid,
      kind: "cluster",
      file,
      warning: `entries encrypted under ${kid} can no longer be decrypted with this file: a replica reading one becomes unavailable there, and so does one seeding from a snapshot sealed under it (snapshot and compact every account first: snapshotAccounts all compact true, after retention.keepDays). Keep a backup of the old file. Copy ${file} to every mailstore.`,
    };
  }
  throw new KeyFilesError("KEYS_UNKNOWN_KID", `no key ${JSON.stringify(String(kid).slice(0, 80))} in ${list.file} or ${file}: list them there`, list.file);
}

/** Signing key files (mailstore and supervisor, current and staged) in a folder. */
function localSigningFiles(dir: string): Array<{ path: string; host: string }> {
  const out: Array<{ path: string; host: string }> = [];
  for (const name of readdirSync(dir)) {
    for (const suffix of [SIGNING_FILE_SUFFIX, SUPERVISOR_FILE_SUFFIX, SIGNING_FILE_SUFFIX + STAGED_SUFFIX, SUPERVISOR_FILE_SUFFIX + STAGED_SUFFIX]) {
      if (name.endsWith(suffix) && !(suffix === SIGNING_FILE_SUFFIX && name.endsWith(SUPERVISOR_FILE_SUFFIX))) {
        out.push({ path: join(dir, name), host: name.slice(0, -suffix.length) });
        break;
      }
    }
  }
  return out;
}
