// The deployment examples in deploy/: systemd units (keys checked, and `systemd-analyze verify`
// where it is installed), the nats-server cluster configuration (three real nats-server
// processes started from it on loopback form a JetStream cluster that places an R3 stream, and
// a dead node is replaced: peer removed with the example's system user, new node, same name),
// and the mailreplica config example (accepted by `mailreplica config check`).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { defaultConfig } from "../src/config/index.js";
import { DEFAULT_IN_FLIGHT_TIMEOUT_MS } from "../src/runtime/actor_cell.js";
import { INSTALLED_DATA_DIR, SYSTEM_CONFIG_FILE, projectRoot } from "../src/paths.js";
import { exited, tempDir, waitFor } from "./helpers/processes.js";
import { runCliWithEnv, type CliRun } from "./helpers/cli_capture.js";
import { exampleFor, exampleIdentities, exampleNodes, startExampleCluster, startExampleNode } from "./helpers/deploy_example.js";
import { natsConnectionOptions } from "../src/natsauth/connect_options.js";

const root = projectRoot();
const UNITS = {
  mailstore: join(root, "deploy", "systemd", "mailreplica-mailstore@.service"),
  supervisor: join(root, "deploy", "systemd", "mailreplica-supervisor.service"),
};
const INSTALLED_BIN = "/opt/mailreplica/bin/mailreplica";

type Unit = Map<string, Map<string, string[]>>;

/** A unit file as section -> key -> values (a key may repeat; `Key=` with nothing is an empty value). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = new Map();
      unit.set(head[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(section && eq > 0, `line ${i + 1} is neither a section nor Key=value: ${raw}`);
    const key = line.slice(0, eq);
    section!.set(key, [...(section!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

function value(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

function seconds(v: string): number {
  const m = /^(\d+)(s|min)?$/.exec(v);
  assert.ok(m, `not a time span this test reads: ${v}`);
  return Number(m![1]) * (m![2] === "min" ? 60 : 1);
}

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCliWithEnv(argv, env, root);

for (const [role, file] of Object.entries(UNITS)) {
  test(`deploy files - the ${role} unit runs the installed binary as mailreplica, restarts on failure, reads the system config`, async () => {
    const unit = parseUnit(readFileSync(file, "utf8"));
    assert.equal([...unit.keys()], ["Unit", "Service", "Install"]);
    assert.is(value(unit, "Service", "User"), "mailreplica");
    assert.is(value(unit, "Service", "Group"), "mailreplica");
    assert.is(value(unit, "Service", "Restart"), "on-failure");
    assert.is(value(unit, "Service", "RestartPreventExitStatus"), "2", "exit 2 (bad configuration) is not retried");
    assert.ok(unit.get("Service")!.get("Environment")!.includes(`MR_CONFIG=${SYSTEM_CONFIG_FILE}`));
    const exec = value(unit, "Service", "ExecStart")!.split(/\s+/);
    assert.is(exec[0], INSTALLED_BIN);
    assert.is(exec[1], role);
    // The words after the binary are a command line the CLI knows.
    const help = await cli(["help", role]);
    assert.is(help.code, 0, help.err);
    for (const opt of exec.slice(2).filter((w) => w.startsWith("--"))) assert.ok(help.out.includes(opt), `${role} has no option ${opt}: ${help.out}`);
    if (role === "mailstore") assert.equal(exec.slice(2), ["--host", "%i"], "the instance name is the mailstore's host name");
    assert.is(value(unit, "Install", "WantedBy"), "multi-user.target");
  });

  test(`deploy files - the ${role} unit is hardened for a process that needs its data folder, its keys and the network`, () => {
    const text = readFileSync(file, "utf8");
    const unit = parseUnit(text);
    const expected: Record<string, string> = {
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ReadWritePaths: INSTALLED_DATA_DIR,
      StateDirectory: "mailreplica",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      CapabilityBoundingSet: "",
      LockPersonality: "yes",
      SystemCallFilter: "@system-service",
      SystemCallErrorNumber: "EPERM",
      UMask: "0077",
    };
    for (const [k, v] of Object.entries(expected)) assert.is(value(unit, "Service", k), v, `${k}`);
    assert.is(join("/var/lib", value(unit, "Service", "StateDirectory")!), INSTALLED_DATA_DIR);
    // Node's JIT needs writable and executable memory: the option would kill it at start.
    assert.is(value(unit, "Service", "MemoryDenyWriteExecute"), undefined);
    assert.match(text, /# MemoryDenyWriteExecute is deliberately NOT set: Node's JIT/);
  });

  test(`deploy files - the ${role} unit stops by SIGTERM and waits longer than the mailstore's in-flight wait`, () => {
    const unit = parseUnit(readFileSync(file, "utf8"));
    assert.is(value(unit, "Service", "KillSignal"), "SIGTERM");
    // Graceful stop: requests in flight (each at most writes.askTimeoutMs), then the actors'
    // batches in flight (at most the runtime's in-flight wait).
    const inFlightS = (defaultConfig().writes.askTimeoutMs + DEFAULT_IN_FLIGHT_TIMEOUT_MS) / 1000;
    const stopS = seconds(value(unit, "Service", "TimeoutStopSec")!);
    assert.ok(stopS > inFlightS, `TimeoutStopSec ${stopS}s must exceed the in-flight wait ${inFlightS}s`);
  });
}

test("deploy files - systemd-analyze verify accepts both units (run from this checkout's binary)", () => {
  const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
  if (probe.error) {
    // Not every build machine has systemd; the key checks above still ran.
    console.log("deploy files: systemd-analyze is not installed; verify skipped");
    return;
  }
  // verify also checks that ExecStart exists: point it at this checkout's real bin/mailreplica.
  const dir = tempDir("mr-units-");
  const names = ["mailreplica-mailstore@mailstore1.example.com.service", "mailreplica-supervisor.service"];
  for (const [name, src] of [
    [names[0]!, UNITS.mailstore],
    [names[1]!, UNITS.supervisor],
  ] as const) {
    writeFileSync(join(dir, name), readFileSync(src, "utf8").replaceAll(INSTALLED_BIN, join(root, "bin", "mailreplica")));
  }
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", ...names.map((n) => join(dir, n))], { encoding: "utf8", cwd: dir });
  const said = `${r.stdout}${r.stderr}`.trim();
  assert.is(r.status, 0, said);
  // verify only warns (exit 0) about unknown or misspelt keys: any output is a failure.
  assert.is(said, "");
});

test("deploy files - the mailreplica config example is accepted by config check: three NATS URLs, replicas 3, installed folders", async () => {
  const file = join(root, "deploy", "config", "config.json");
  const check = await cli(["config", "check", "--config", file], { MR_SYSTEM_CONFIG: "none" });
  assert.is(check.code, 0, check.err);
  assert.ok(check.out.startsWith("ok:"), check.out);
  const show = await cli(["config", "show", "--config", file], { MR_SYSTEM_CONFIG: "none" });
  const c = JSON.parse(show.out) as ReturnType<typeof defaultConfig>;
  assert.is(c.nats.servers.length, 3);
  assert.is(c.jetstream.replicas, 3);
  assert.is(c.data.dir, INSTALLED_DATA_DIR);
  assert.is(c.keys.dir, "/etc/mailreplica/keys");
  // The URLs are the client ports of the nats-server example's three routes' hosts.
  const conf = readFileSync(join(root, "deploy", "nats", "nats-server.conf"), "utf8");
  const routeHosts = [...conf.matchAll(/nats:\/\/([\w.-]+):6222/g)].map((m) => m[1]);
  assert.equal(
    c.nats.servers,
    routeHosts.map((h) => `nats://${h}:4222`),
  );
});

test("deploy files - three nats-servers from the example form a JetStream cluster that places R3 streams; a dead node is replaced as docs/operations.md says", async () => {
  const conf = readFileSync(join(root, "deploy", "nats", "nats-server.conf"), "utf8");
  assert.match(conf, /nats-server 2\.10 or newer/);
  assert.match(conf, /jetstream\.replicas = 3/);
  const base = tempDir("mr-deploy-nats-");
  const nodes = await exampleNodes();
  const procs: ChildProcess[] = [];
  try {
    const ids = exampleIdentities(base, ["mailstore1.example.com"], ["sup1"]);
    procs.push(...(await startExampleCluster(conf, nodes, base)));
    const jsz = (await (await fetch(`http://127.0.0.1:${nodes[0]!.http}/jsz`)).json()) as { meta_cluster?: { name?: string; cluster_size?: number } };
    assert.is(jsz.meta_cluster?.name, "mailreplica");
    assert.is(jsz.meta_cluster?.cluster_size, 3);

    // Anonymous clients are refused; JetStream administration is the operator identity's.
    const servers = nodes.slice(0, 2).map((n) => `nats://127.0.0.1:${n.client}`);
    const anonymous = await connect({ servers, reconnect: false }).then(
      (c) => c.close().then(() => "connected"),
      (e: Error) => e.message,
    );
    assert.match(anonymous, /authorization violation/i);
    const nc = await connect(natsConnectionOptions(servers, ids.auth("operator")));
    try {
      const jsm = await jetstreamManager(nc);
      const info = await waitFor("an R3 stream to be placed", async () => {
        try {
          return await jsm.streams.add({ name: "DEPLOY_R3", subjects: ["deploy.r3"], num_replicas: 3 });
        } catch {
          return undefined; // placement waits until every peer is current
        }
      });
      assert.is(info.config.num_replicas, 3);
      assert.is((info.cluster?.replicas ?? []).length, 2, "a leader and two replicas");

      // nats3's machine dies for good.
      procs[2]!.kill("SIGKILL");
      await exited(procs[2]!);
      // The operator removes the dead peer with the system user of the example...
      const password = /user: admin, password: "([^"]+)"/.exec(conf)?.[1];
      assert.ok(password, "the example has a system user");
      const sys = await connect({ servers: `nats://127.0.0.1:${nodes[0]!.client}`, user: "admin", pass: password });
      try {
        const removed = await waitFor("$JS.API.SERVER.REMOVE to remove nats3", async () => {
          const r = JSON.parse(
            new TextDecoder().decode((await sys.request("$JS.API.SERVER.REMOVE", JSON.stringify({ peer: "nats3" }), { timeout: 5000 })).data),
          ) as { success?: boolean; error?: unknown };
          return r.success === true ? r : undefined;
        });
        assert.ok(removed.success);
      } finally {
        await sys.close();
      }
      // ...and starts the new machine at the same address with a new server_name (nats4) and
      // an empty store (a removed name may not rejoin for minutes on newer servers).
      const replacement = { ...nodes[2]!, name: "nats4" };
      procs[2] = await startExampleNode(exampleFor(conf, replacement, nodes, join(base, "nats4")), replacement, base);
      await waitFor(
        "the R3 stream to have a current replica on the new nats4",
        async () => {
          const si = await jsm.streams.info("DEPLOY_R3");
          const peers = [si.cluster?.leader, ...(si.cluster?.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name)];
          return peers.includes("nats4") && peers.length === 3;
        },
        30_000,
        200,
      );
    } finally {
      await nc.close();
    }
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => exited(p)));
  }
});

test.run();
