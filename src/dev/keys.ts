// Key files of the dev mailstores and supervisor: created once, kept afterwards (a second run
// reuses them, so the data written with them stays readable). Every key is put in the
// folder's trusted-signers.json, also keys made before that list existed.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { initKeys, signingFileName, trustKeyFile } from "../keys/index.js";
import type { SignerRole } from "../envelope/index.js";

export interface DevKeys {
  dir: string;
  created: string[];
  existing: string[];
}

/** Writes the signing key pair of every host that has none (and the cluster key if missing). Prints nothing secret. */
export function ensureDevKeys(dir: string, hosts: readonly string[], supervisor?: string): DevKeys {
  const out: DevKeys = { dir, created: [], existing: [] };
  const all: Array<[string, SignerRole]> = [
    ...hosts.map((h): [string, SignerRole] => [h, "mailstore"]),
    ...(supervisor ? [[supervisor, "supervisor"] as [string, SignerRole]] : []),
  ];
  for (const [host, role] of all) {
    if (existsSync(join(dir, signingFileName(host, role)))) {
      trustKeyFile({ dir, host, role });
      out.existing.push(host);
      continue;
    }
    initKeys({ dir, host, role });
    out.created.push(host);
  }
  return out;
}
