// `mailreplica dev`: the local cluster for development (nats-server, keys, mailstores, supervisor, REPL).
export { runDev, DevCluster, type DevOptions } from "./dev_cluster.js";
export { DevError, type DevErrorCode } from "./errors.js";
export { devPaths, defaultVarDir, logFileOf, DEV_MAILSTORES, type DevPaths } from "./paths.js";
export { probeNats, type ProbeResult } from "./nats_probe.js";
export { ensureLocalNats, type NatsEndpoint, type LocalNatsOptions } from "./local_nats.js";
export { ManagedProcess, type ProcessSpec, type ExitInfo } from "./managed_process.js";
export { ensureDevKeys, type DevKeys } from "./keys.js";
