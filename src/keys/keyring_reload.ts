// Keeps a running node's keyring in step with its key files, without a restart: the
// operator's trusted-signers.json (new keys trusted, retired ones refused) and
// cluster.secretbox.json (new kids readable, a new current kid used for new writes), and the
// node's own <host>.ed25519.json (an activated rotation: signs with the new key). Cheap to
// call often: a file is read again only when its mtime, size or inode changed. A forced check
// (SIGHUP) reads every file whatever its stamp: a change the stamp cannot see (a file rewritten
// in place with the same size and its old mtime, as `cp -p` or a restore can leave it, or on a
// filesystem with coarse or cached timestamps) is read then too.
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { EnvelopeKeyring } from "../envelope/index.js";
import { readSecretboxFile, readSigning, readTrustList, SECRETBOX_FILE, signingFileName, TRUST_FILE } from "./key_files.js";

export interface KeyringReloadResult {
  /** what changed, for the log (empty when nothing did) */
  changes: string[];
  /** a file that changed but could not be used (the keyring keeps what it had) */
  errors: string[];
}

export class KeyringReloader {
  private readonly stamps = new Map<string, string>();

  private readonly signingName: string;

  constructor(
    private readonly keyring: EnvelopeKeyring,
    private readonly dir: string,
  ) {
    this.signingName = signingFileName(keyring.signerId, "mailstore");
    // The files as loaded at start are the baseline.
    for (const f of [TRUST_FILE, SECRETBOX_FILE, this.signingName]) this.stamps.set(f, stampOf(join(resolve(dir), f)));
  }

  /**
   * Reads the files that changed since the last call into the keyring; `force`: every file,
   * and only what differs from the keyring counts as a change.
   */
  check(opts: { force?: boolean } = {}): KeyringReloadResult {
    const force = opts.force === true;
    const out: KeyringReloadResult = { changes: [], errors: [] };
    const dir = resolve(this.dir);
    const trustFile = join(dir, TRUST_FILE);
    const trustStamp = stampOf(trustFile);
    if (force || trustStamp !== this.stamps.get(TRUST_FILE)) {
      try {
        const before = new Set(this.keyring.trust.entries().map((k) => `${k.kid}:${k.retiredAt ?? ""}`));
        const digest = this.keyring.trust.digest();
        const list = readTrustList(dir);
        this.keyring.setTrustList(list.entries);
        const now = list.entries.map((k) => `${k.kid}:${k.retiredAt ?? ""}`).filter((k) => !before.has(k));
        if (!force || this.keyring.trust.digest() !== digest) {
          out.changes.push(
            `${TRUST_FILE} reloaded (${list.entries.length} keys${now.length ? `; new or changed: ${now.map((k) => k.split(":")[0]).join(", ")}` : ""})`,
          );
        }
        this.stamps.set(TRUST_FILE, trustStamp);
      } catch (e) {
        // Kept unstamped: a half-copied file is read again on the next call.
        out.errors.push(`${trustFile} not reloaded: ${(e as Error).message}`);
      }
    }
    const boxFile = join(dir, SECRETBOX_FILE);
    const boxStamp = stampOf(boxFile);
    if (force || boxStamp !== this.stamps.get(SECRETBOX_FILE)) {
      try {
        const box = readSecretboxFile(boxFile);
        const known = new Set(this.keyring.kids());
        const added = Object.keys(box.keys).filter((kid) => !known.has(kid));
        for (const kid of added) this.keyring.addKey(kid, box.keys[kid]!);
        const was = this.keyring.currentKid;
        this.keyring.addKey(box.current, box.keys[box.current]!, { current: true });
        if (!force || added.length > 0 || was !== box.current) {
          out.changes.push(
            `${SECRETBOX_FILE} reloaded (kids ${Object.keys(box.keys).join(", ")}; current ${box.current}${was !== box.current ? `, was ${was}` : ""})`,
          );
        }
        this.stamps.set(SECRETBOX_FILE, boxStamp);
      } catch (e) {
        out.errors.push(`${boxFile} not reloaded: ${(e as Error).message}`);
      }
    }
    const signingFile = join(dir, this.signingName);
    const signingStamp = stampOf(signingFile);
    if (force || signingStamp !== this.stamps.get(this.signingName)) {
      try {
        const signing = readSigning(signingFile, this.keyring.signerId);
        const was = this.keyring.signingKid;
        if (signing.kid !== was) {
          this.keyring.setSigningKey(signing.secretKey, signing.kid);
          out.changes.push(`${this.signingName} reloaded: signing with ${signing.kid} (was ${was})`);
        }
        this.stamps.set(this.signingName, signingStamp);
      } catch (e) {
        out.errors.push(`${signingFile} not reloaded: ${(e as Error).message}`);
      }
    }
    return out;
  }
}

function stampOf(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return "missing";
  }
}
