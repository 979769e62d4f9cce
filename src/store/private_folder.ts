// The data folder holds every account's mail metadata: only its owner may enter it.
import { chmodSync, mkdirSync } from "node:fs";

/** Creates `dir` (and missing parents) and makes `dir` itself mode 0700. */
export function privateFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
