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

/** The system configuration file of an installed mailreplica (MR_SYSTEM_CONFIG moves it). */
export const SYSTEM_CONFIG_FILE = "/etc/mailreplica/config.json";

/** The data folder of an installed mailreplica (the default of data.dir when the system config file exists). */
export const INSTALLED_DATA_DIR = "/var/lib/mailreplica";
