import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder (the one holding package.json), found from this file's place,
 *  so it is the same whether the code runs from `src/` via a loader or from `dist/`. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "tsconfig.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("mailreplica: cannot find the project root (no package.json above " + fileURLToPath(import.meta.url) + ")");
    dir = up;
  }
}
