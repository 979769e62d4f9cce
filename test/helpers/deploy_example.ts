// The nats-server cluster example of deploy/nats, run on loopback: three "machines" that are
// three port sets on 127.0.0.1, each started from the example file with only addresses,
// ports and the store folder rewritten (tests of deploy/ and docs/operations.md).
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../config/defaults.js";
import { initAuth, type AuthInitResult } from "../../src/natsauth/auth_init.js";
import type { NatsAuth } from "../../src/natsauth/connect_options.js";
import type { Role } from "../../src/natsauth/identities.js";
import { natsServerPath } from "../../src/natsserver/binary.js";
import { LeftOutWatch, nodesOutsideMetaGroup } from "../../src/natsserver/meta_group.js";
import { metaGroupFormed } from "./nats.js";
import { exited, freePort, spawnTracked, waitFor } from "./processes.js";

export interface ExampleNode {
  /** server_name: nats1, nats2, nats3 */
  name: string;
  client: number;
  http: number;
  cluster: number;
}

/**
 * The identities the example's MAILREPLICA account includes: `auth init` into `<base>/auth`,
 * its users file copied next to the nodes' configuration files in `base` (as section 2 of
 * docs/operations.md says).
 */
export function exampleIdentities(base: string, mailstores: string[], supervisors: string[]): AuthInitResult & { auth(role: Role, host?: string): NatsAuth } {
  const r = initAuth({ dir: join(base, "auth"), mailstores, supervisors, jetstream: defaultConfig().jetstream });
  copyFileSync(r.usersInclude, join(base, "mailreplica-users.conf"));
  return {
    ...r,
    auth: (role, host) => {
      const i = r.identities.find((x) => x.id.role === role && x.id.host === host)!;
      return { nkeyFile: i.seedFile, inboxPrefix: i.inboxPrefix };
    },
  };
}

/** Free loopback ports for the example's three nodes. */
export async function exampleNodes(): Promise<ExampleNode[]> {
  const nodes: ExampleNode[] = [];
  for (let i = 1; i <= 3; i++) nodes.push({ name: `nats${i}`, client: await freePort(), http: await freePort(), cluster: await freePort() });
  return nodes;
}

/**
 * The example configuration for node `n`: the same file everywhere but for server_name, so only
 * addresses, ports and the store folder change. Throws when the example no longer has the
 * lines this rewrites.
 */
export function exampleFor(conf: string, n: ExampleNode, nodes: readonly ExampleNode[], storeDir: string): string {
  const text = conf
    .replace(/^server_name: nats1$/m, `server_name: ${n.name}`)
    .replace(/^listen: 0\.0\.0\.0:4222$/m, `listen: 127.0.0.1:${n.client}`)
    .replace(/^http: 0\.0\.0\.0:8222$/m, `http: 127.0.0.1:${n.http}`)
    .replace(/^( +)listen: 0\.0\.0\.0:6222$/m, `$1listen: 127.0.0.1:${n.cluster}`)
    .replace(/store_dir: \/var\/lib\/nats-server/, `store_dir: ${JSON.stringify(storeDir)}`)
    .replace(/nats:\/\/nats(\d)\.example\.com:6222/g, (_m, k: string) => `nats://127.0.0.1:${nodes[Number(k) - 1]!.cluster}`);
  for (const port of [n.client, n.http, n.cluster]) {
    if (!text.includes(`:${port}`)) throw new Error(`the nats-server example changed shape: no place for port ${port}`);
  }
  if (!text.includes(`server_name: ${n.name}`) || !text.includes(JSON.stringify(storeDir)))
    throw new Error("the nats-server example changed shape: no server_name or store_dir line");
  return text;
}

/** Starts nats-server on `text` (checked with -t first) and waits until /healthz says JetStream is ready. */
export async function startExampleNode(text: string, n: ExampleNode, dir: string): Promise<ChildProcess> {
  const file = join(dir, `${n.name}.conf`);
  writeFileSync(file, text);
  const check = spawnSync(natsServerPath(), ["-c", file, "-t"], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`nats-server -t refused ${file}: ${check.stdout}${check.stderr}`);
  const proc = spawnTracked(natsServerPath(), ["-c", file]);
  let log = "";
  proc.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  await waitFor(
    `${n.name} to report JetStream healthy`,
    async () => {
      if (proc.exitCode !== null) throw new Error(`${n.name} exited:\n${log}`);
      return (await fetch(`http://127.0.0.1:${n.http}/healthz`)).ok;
    },
    30_000,
    100,
  );
  return proc;
}

/** Starts all three (a lone node is not healthy until a meta leader is elected, so all start before any is waited for). */
export async function startExampleCluster(conf: string, nodes: readonly ExampleNode[], base: string): Promise<ChildProcess[]> {
  const started = nodes.map((n) => startExampleNode(exampleFor(conf, n, nodes, join(base, n.name)), n, base));
  const settled = await Promise.allSettled(started);
  const procs = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    for (const p of procs) p.kill("SIGKILL");
    throw failed.reason;
  }
  // Healthy nodes agree on a meta leader; placing R3 assets also needs the leader to see both
  // other peers current, which can come a moment later. A node nats-server 2.10 left out of
  // the meta group (src/natsserver/meta_group.ts) is restarted after 10 s, as an operator would.
  const monitored = nodes.map((n) => ({ serverName: n.name, monitorUrl: `http://127.0.0.1:${n.http}` }));
  const leftOut = new LeftOutWatch(() => nodesOutsideMetaGroup(monitored), 10_000);
  await waitFor(
    "the JetStream meta leader to see both other peers current",
    async () => {
      for (const name of await leftOut.due()) {
        const i = nodes.findIndex((n) => n.name === name);
        process.stderr.write(`deploy example: ${name} follows the meta leader but was left out of its peer set; restarting it\n`);
        procs[i]!.kill("SIGKILL");
        await exited(procs[i]!);
        procs[i] = await startExampleNode(exampleFor(conf, nodes[i]!, nodes, join(base, name)), nodes[i]!, base);
      }
      return await metaGroupFormed(monitored);
    },
    60_000,
    100,
  );
  return procs;
}
