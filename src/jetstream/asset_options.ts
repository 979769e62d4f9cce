// Configuration is parsed at the command line; the actors take option objects built here.
import type { Config } from "../config/index.js";
import type { AssetOptions } from "./assets.js";

export function assetOptions(c: Config): AssetOptions {
  return {
    replicas: c.jetstream.replicas,
    txStream: c.jetstream.streams.tx,
    notifyStream: c.jetstream.streams.notify,
    snapshotStream: c.jetstream.streams.snapshots,
    directoryBucket: c.jetstream.buckets.directory,
    nodesBucket: c.jetstream.buckets.nodes,
    blobsBucket: c.jetstream.buckets.blobs,
    uploadsBucket: c.jetstream.buckets.uploads,
    nodeTtlMs: c.node.heartbeatTtlMs,
  };
}
