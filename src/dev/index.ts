// `mailreplica dev`: the local cluster for development (nats-server or a 3-node cluster, keys, mailstores, supervisor, REPL).
export { runDev, DevCluster, type DevOptions } from "./dev_cluster.js";
export { DevError, type DevErrorCode } from "./errors.js";
export { devPaths, defaultVarDir, logFileOf, natsNodeStore, DEV_MAILSTORES, DEV_SUPERVISOR, type DevPaths } from "./paths.js";
export { clusterNodeAddresses, type NatsNodeAddress } from "./nats_nodes.js";
export { ensureLocalNatsCluster, DEV_CLUSTER_NAME, type LocalNatsCluster, type ClusterNode } from "./local_nats_cluster.js";
export { waitJetStreamClusterReady, type ClusterReadyOptions } from "./jetstream_cluster_ready.js";
export { probeNats, type ProbeResult } from "./nats_probe.js";
export { ensureLocalNats, type NatsEndpoint, type LocalNatsOptions } from "./local_nats.js";
export { ManagedProcess, type ProcessSpec, type ExitInfo } from "./managed_process.js";
export { ensureDevKeys, type DevKeys } from "./keys.js";
