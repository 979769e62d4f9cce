// A system on this machine kept in one folder, whose mailstores and supervisor run inside the
// calling process: the tests' TestSystem and NemesisSystem and the benchmark build their
// configuration here, and the nodes' options from it with mailstoreOptionsOf/supervisorOptionsOf
// (actors/mailstore/options.ts, actors/supervisor/supervisor_options.ts, which the CLI's
// `mailstore` and `supervisor` commands use too), so none can drift apart.
// (`mailreplica dev` runs its nodes as child processes, which read the configuration themselves.)
import { join } from "node:path";
import { defaultConfig, type Config } from "../config/index.js";
import { initKeys } from "../keys/index.js";
import { writeDevelopmentLicence } from "../licence/licence_file.js";
import { devPaths } from "./paths.js";

export interface LocalSystemSettings {
  /** The folder of the key files (`<root>/keys`) and the mailstores' data (`<root>/data/<host>`). */
  root: string;
  /** nats.servers */
  servers: string[];
  /** jetstream.replicas; default the configuration's (1) */
  replicas?: Config["jetstream"]["replicas"];
  /** node.heartbeatMs; default the configuration's */
  heartbeatMs?: number;
  /** node.heartbeatTtlMs; default the configuration's */
  heartbeatTtlMs?: number;
  /** supervisor.leaseTtlMs; default the configuration's */
  leaseTtlMs?: number;
  /** A development licence for this many accounts with replicas (`<root>/licence.json`), its issuer trusted. */
  licence?: number;
  /** Mailstore hosts whose key files are created. */
  mailstores?: readonly string[];
}

/** The defaults, with keys and data in `root` (the layout of `mailreplica dev --var root`) and the settings applied. */
export function localSystemConfig(s: LocalSystemSettings): Config {
  const config = defaultConfig();
  const paths = devPaths(s.root, config);
  config.nats.servers = s.servers;
  config.keys.dir = paths.keysDir;
  config.data.dir = paths.dataDir;
  if (s.replicas !== undefined) config.jetstream.replicas = s.replicas;
  if (s.heartbeatMs !== undefined) config.node.heartbeatMs = s.heartbeatMs;
  if (s.heartbeatTtlMs !== undefined) config.node.heartbeatTtlMs = s.heartbeatTtlMs;
  if (s.leaseTtlMs !== undefined) config.supervisor.leaseTtlMs = s.leaseTtlMs;
  if (s.licence !== undefined) Object.assign(config.licence, writeDevelopmentLicence(config.keys.dir, join(s.root, "licence.json"), s.licence));
  for (const host of s.mailstores ?? []) initKeys({ dir: config.keys.dir, host });
  return config;
}

/** A mailstore's data folder in a local system: `<data.dir>/<host>`. */
export function localDataDir(config: Config, host: string): string {
  return join(config.data.dir, host);
}
