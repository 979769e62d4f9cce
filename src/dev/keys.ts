// Key files of the dev mailstores: created once, kept afterwards (a second run reuses them,
// so the data written with them stays readable).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { initKeys, SIGNING_FILE_SUFFIX } from "../keys/index.js";

export interface DevKeys {
  dir: string;
  created: string[];
  existing: string[];
}

/** Writes the signing key pair of every host that has none (and the cluster key if missing). Prints nothing secret. */
export function ensureDevKeys(dir: string, hosts: readonly string[]): DevKeys {
  const out: DevKeys = { dir, created: [], existing: [] };
  for (const host of hosts) {
    if (existsSync(join(dir, `${host}${SIGNING_FILE_SUFFIX}`))) {
      out.existing.push(host);
      continue;
    }
    initKeys({ dir, host });
    out.created.push(host);
  }
  return out;
}
