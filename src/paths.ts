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

/**
 * The user's own state folder for mailreplica (the REPL's history): $XDG_STATE_HOME/mailreplica,
 * else ~/.local/state/mailreplica (the XDG base directory default). Not the data folder: an
 * operator's history is theirs, not the installation's.
 */
export function userStateDir(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec ignores a relative path here.
  return join(xdg && xdg.startsWith("/") ? xdg : join(home, ".local", "state"), "mailreplica");
}
