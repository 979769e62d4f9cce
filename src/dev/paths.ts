// Where `mailreplica dev` keeps its files: everything under one var folder (default
// <projectRoot>/var, git-ignored; `--var DIR` or MR_VAR_DIR move it, e.g. for tests), unless
// the configuration names its own data or keys folder. The three-node mode keeps its own
// nats stores (`nats/n1..n3`) and mailstore data (`data/cluster/<host>`): its logs and
// directory start empty, and must never be mixed with the single server's.
import { join } from "node:path";
import { defaultConfig, type Config } from "../config/index.js";
import { projectRoot } from "../paths.js";

/** The three mailstores of the dev cluster. */
export const DEV_MAILSTORES: readonly string[] = ["mailstore1.example.com", "mailstore2.example.com", "mailstore3.example.com"];

/** The dev supervisor's name: its grant-signing key is <keys>/supervisor.example.com.supervisor-ed25519.json. */
export const DEV_SUPERVISOR = "supervisor.example.com";

export interface DevPaths {
  /** The var folder. */
  varDir: string;
  /** JetStream store of the single nats-server dev starts; the three nodes' stores are folders in it (natsNodeStore). */
  natsStore: string;
  logDir: string;
  keysDir: string;
  /** NATS identities (nkey seeds, the nats-server include, the admin's config file): `<var>/auth`. */
  authDir: string;
  /** Parent of each mailstore's data folder (`<dataDir>/<host>`); `<data>/cluster` with three nodes. */
  dataDir: string;
}

/** The default var folder: `<projectRoot>/var`. */
export function defaultVarDir(): string {
  return join(projectRoot(), "var");
}

/**
 * The dev folders for `varDir`. config data.dir and keys.dir win when they were configured
 * (differ from their defaults); the defaults follow the var folder, so `--var` alone moves
 * everything.
 */
export function devPaths(varDir: string, config: Config, natsNodes: 1 | 3 = 1): DevPaths {
  const defaults = defaultConfig();
  const data = config.data.dir === defaults.data.dir ? join(varDir, "data") : config.data.dir;
  return {
    varDir,
    natsStore: join(varDir, "nats"),
    logDir: join(varDir, "log"),
    keysDir: config.keys.dir === defaults.keys.dir ? join(varDir, "keys") : config.keys.dir,
    authDir: join(varDir, "auth"),
    dataDir: natsNodes === 3 ? join(data, "cluster") : data,
  };
}

/** Store folder of cluster node `name` (`n1`...): `<natsStore>/<name>`, beside the single server's `<natsStore>/jetstream`. */
export function natsNodeStore(paths: DevPaths, name: string): string {
  return join(paths.natsStore, name);
}

/** `<logDir>/<name>.log` */
export function logFileOf(paths: DevPaths, name: string): string {
  return join(paths.logDir, `${name}.log`);
}
