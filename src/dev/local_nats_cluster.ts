// The three-node JetStream cluster of `dev --nats-nodes 3`: three nats-server nodes already
// listening at the configured addresses, or three started here on 127.0.0.1, clustered over
// routes on loopback, each with its own store folder; either way, ready only once the cluster
// takes 3-replica assets.
import { mkdirSync } from "node:fs";
import { LeftOutWatch, nodesOutsideMetaGroup } from "../natsserver/meta_group.js";
import { DevError } from "./errors.js";
import { freeLoopbackPorts } from "./free_ports.js";
import { waitJetStreamClusterReady } from "./jetstream_cluster_ready.js";
import { ManagedProcess, type ProcessSpec } from "./managed_process.js";
import type { NatsNodeAddress } from "./nats_nodes.js";
import { probeNats, type ProbeResult } from "./nats_probe.js";
import type { NatsAuth } from "../natsauth/connect_options.js";

/** Cluster name of the nodes dev starts (`--cluster_name`). */
export const DEV_CLUSTER_NAME = "mailreplica-dev";

export interface LocalNatsClusterOptions {
  nodes: readonly NatsNodeAddress[];
  /** Store folder of node `name` (`n1`...); a folder of its own per node. */
  storeDir(name: string): string;
  /** Log file of node `name`. */
  logFile(name: string): string;
  /** Resolves the nats-server binary; only called when nodes must be started. */
  binary: () => string;
  /** How long each node may take to listen, ms. */
  readyTimeoutMs: number;
  /** How long the cluster may take to take 3-replica assets once the nodes listen, ms. */
  clusterReadyTimeoutMs: number;
  /** Told what the wait for the cluster waits for, each time that changes. */
  waiting(reason: string): void;
  signal?: AbortSignal;
  /** The configured credentials: dev's readiness probe uses them on nodes it finds running. */
  auth?: NatsAuth;
  /**
   * For nodes dev starts: the authorization include they load (`-c`) and the identity of the
   * readiness probe (it creates and deletes a stream: the operator).
   */
  devAuth?: { include: string; probe: NatsAuth };
}

export interface ClusterNode {
  /** `nats-n1`...: process and log name. */
  name: string;
  url: string;
  /** The process dev started, or undefined for a node found running (left running). */
  process?: ManagedProcess;
  /** For the summary: where it listens and what dev did with it. */
  description: string;
}

export interface LocalNatsCluster {
  urls: string[];
  nodes: ClusterNode[];
}

/** How long a node may stay outside the meta group before dev restarts it (joining takes < 1 s). */
const LEFT_OUT_GRACE_MS = 10_000;

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0"]);

function otherPortsHint(nodes: readonly NatsNodeAddress[]): string {
  const next = Math.max(...nodes.map((n) => n.port)) + 1;
  return `MR_SERVERS=nats://127.0.0.1:${next} npm start -- --nats-nodes 3 (dev uses that port and the next two)`;
}

function at(n: NatsNodeAddress): string {
  return `${n.host}:${n.port}`;
}

/** Throws unless the probes say "use the running nodes" (all JetStream nats-servers) or "start all three" (all free, local). */
function checkProbes(nodes: readonly NatsNodeAddress[], found: readonly ProbeResult[]): "use" | "start" {
  const nats = nodes.filter((_, i) => found[i]!.kind === "nats");
  if (nats.length === nodes.length) {
    const noJs = nodes.filter((_, i) => found[i]!.kind === "nats" && !(found[i] as { jetstream: boolean }).jetstream);
    if (noJs.length)
      throw new DevError(
        "DEV_NATS_NO_JETSTREAM",
        `the nats-server at ${noJs.map(at).join(", ")} runs without JetStream; restart it with -js, or run dev on other ports: ${otherPortsHint(nodes)}`,
      );
    return "use";
  }
  for (const [i, n] of nodes.entries()) {
    const f = found[i]!;
    if (f.kind === "other")
      throw new DevError(
        "DEV_PORT_TAKEN",
        `port ${n.port} on ${n.host} is taken by something that is not a nats-server (${f.detail}); stop it, or run dev on other ports: ${otherPortsHint(nodes)}`,
      );
    if (f.kind === "unreachable")
      throw new DevError(
        "DEV_PORT_TAKEN",
        `port ${n.port} on ${n.host} does not answer properly (${f.detail}); free it, or run dev on other ports: ${otherPortsHint(nodes)}`,
      );
  }
  if (nats.length) {
    const free = nodes.filter((_, i) => found[i]!.kind === "free");
    throw new DevError(
      "DEV_PORT_TAKEN",
      `a nats-server listens at ${nats.map(at).join(", ")} but nothing at ${free.map(at).join(", ")}; dev either uses three running nodes or starts all three: stop that server, start the missing nodes, or run dev on other ports: ${otherPortsHint(nodes)}`,
    );
  }
  const remote = nodes.filter((n) => !LOCAL_HOSTS.has(n.host));
  if (remote.length) {
    throw new DevError(
      "DEV_NATS_UNREACHABLE",
      `nothing answers at ${remote.map(at).join(", ")}, and dev starts nats-server nodes only on this machine; start those nodes, or use local ones: MR_SERVERS=nats://127.0.0.1:4222 npm start -- --nats-nodes 3`,
    );
  }
  return "start";
}

async function startNodes(o: LocalNatsClusterOptions): Promise<ClusterNode[]> {
  const clientPorts = new Set(o.nodes.map((n) => n.port));
  const [routes, monitors] = await freeLoopbackPorts(o.nodes.length * 2, clientPorts).then(
    (p) => [p.slice(0, o.nodes.length), p.slice(o.nodes.length)] as const,
  );
  const started: ClusterNode[] = [];
  const specs: ProcessSpec[] = [];
  const serverNames = o.nodes.map((n) => `${DEV_CLUSTER_NAME}-${n.name}`);
  try {
    for (const [i, n] of o.nodes.entries()) {
      const store = o.storeDir(n.name);
      mkdirSync(store, { recursive: true });
      const others = routes.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`);
      const name = `nats-${n.name}`;
      const spec: ProcessSpec = {
        name,
        command: o.binary(),
        args: [
          // The include only sets client authorization: cluster routes are not affected by it.
          o.devAuth ? ["-c", o.devAuth.include] : [],
          ["-a", "127.0.0.1", "-p", String(n.port), "-m", String(monitors[i]), "-js", "-sd", store, "-n", serverNames[i]!],
          ["--cluster_name", DEV_CLUSTER_NAME, "--cluster", `nats://127.0.0.1:${routes[i]}`, "--routes", others.join(",")],
        ].flat(),
        logFile: o.logFile(name),
      };
      specs.push(spec);
      started.push({
        name,
        url: `nats://127.0.0.1:${n.port}`,
        process: ManagedProcess.start(spec),
        description: `routes 127.0.0.1:${routes[i]}, monitoring http://127.0.0.1:${monitors[i]}; store ${store}`,
      });
    }
    // All started before any wait: a lone node elects no meta leader.
    await Promise.all(started.map((s) => s.process!.waitReady(/Server is ready/, o.readyTimeoutMs, o.signal)));
    const monitored = started.map((_, i) => ({ serverName: serverNames[i]!, monitorUrl: `http://127.0.0.1:${monitors[i]}` }));
    await waitJetStreamClusterReady({
      ...(o.devAuth ? { auth: o.devAuth.probe } : {}),
      urls: started.map((s) => s.url),
      healthUrls: started.map((s, i) => ({ name: s.name, serverName: monitored[i]!.serverName, url: monitored[i]!.monitorUrl })),
      replicas: o.nodes.length,
      timeoutMs: o.clusterReadyTimeoutMs,
      waiting: o.waiting,
      leftOut: {
        watch: new LeftOutWatch(() => nodesOutsideMetaGroup(monitored), LEFT_OUT_GRACE_MS),
        restart: async (serverName) => {
          const i = serverNames.indexOf(serverName);
          await started[i]!.process!.stop();
          started[i]!.process = ManagedProcess.start(specs[i]!);
          await started[i]!.process.waitReady(/Server is ready/, o.readyTimeoutMs, o.signal);
        },
      },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return started;
  } catch (e) {
    await Promise.all(started.map((s) => s.process!.stop()));
    throw e;
  }
}

/**
 * Uses the three JetStream nats-servers at the node addresses if all answer, else starts
 * three clustered ones on 127.0.0.1 at those ports (when all are free and local); resolves
 * once the cluster takes 3-replica assets (or when `signal` aborts). Throws DevError.
 */
export async function ensureLocalNatsCluster(o: LocalNatsClusterOptions): Promise<LocalNatsCluster> {
  const found = await Promise.all(o.nodes.map((n) => probeNats(n.host === "0.0.0.0" ? "127.0.0.1" : n.host, n.port)));
  if (checkProbes(o.nodes, found) === "start") {
    const nodes = await startNodes(o);
    return { urls: nodes.map((n) => n.url), nodes };
  }
  const nodes: ClusterNode[] = o.nodes.map((n, i) => {
    const f = found[i] as Extract<ProbeResult, { kind: "nats" }>;
    return {
      name: `nats-${n.name}`,
      url: n.url,
      description: `the nats-server ${f.version} (${f.serverName}) already listening there; dev did not start it and leaves it running`,
    };
  });
  await waitJetStreamClusterReady({
    ...(o.auth ? { auth: o.auth } : {}),
    urls: nodes.map((n) => n.url),
    healthUrls: [],
    replicas: o.nodes.length,
    timeoutMs: o.clusterReadyTimeoutMs,
    waiting: o.waiting,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { urls: nodes.map((n) => n.url), nodes };
}
