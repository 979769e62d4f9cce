// docs/operations.md end to end, on loopback: the nats-server cluster example (three nodes, the
// MAILREPLICA account reached without credentials), the mailreplica config example installed as
// the system config file, keys made as section 3 says, two mailstores and a supervisor started
// as the units start them (MR_CONFIG = the system file), then the first account and its replica
// with the CLI reading the system file by itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import { exited, spawnCli, tempDir, waitFor } from "./helpers/processes.js";
import { runCliWithEnv, type CliRun } from "./helpers/cli_capture.js";
import { exampleIdentities, exampleNodes, startExampleCluster } from "./helpers/deploy_example.js";

const root = projectRoot();

const cli = (argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> => runCliWithEnv(argv, env, root);

test("deploy install - the documented installation runs on the example cluster: keys, mailstores, supervisor, first account and replica", async () => {
  const base = tempDir("mr-deploy-install-");
  const nodes = await exampleNodes();
  const conf = readFileSync(join(root, "deploy", "nats", "nats-server.conf"), "utf8");
  // NATS identities (section 2): auth init, the users file beside each node's configuration.
  const ids = exampleIdentities(base, ["mailstore1.example.com", "mailstore2.example.com"], ["sup1"]);
  const nats = await startExampleCluster(conf, nodes, base);
  const children: ChildProcess[] = [];
  try {
    // /etc/mailreplica/config.json from deploy/config/config.json, with this machine's names.
    const etc = join(base, "etc", "mailreplica");
    mkdirSync(join(etc, "keys"), { recursive: true, mode: 0o700 });
    const example = JSON.parse(readFileSync(join(root, "deploy", "config", "config.json"), "utf8")) as {
      nats: { servers: string[] };
      data: { dir: string };
      keys: { dir: string };
    };
    assert.equal(example.nats.servers, ["nats://nats1.example.com:4222", "nats://nats2.example.com:4222", "nats://nats3.example.com:4222"]);
    example.nats.servers = nodes.map((n) => `nats://127.0.0.1:${n.client}`);
    example.data.dir = join(base, "var", "lib", "mailreplica");
    example.keys.dir = join(etc, "keys");
    const systemFile = join(etc, "config.json");
    writeFileSync(systemFile, JSON.stringify(example, null, 2));
    // The CLI on an installed machine: no MR_CONFIG, the system file is found by itself.
    // The operator's CLI uses the admin identity (its default inbox prefix is the admin's).
    const env: NodeJS.ProcessEnv = { MR_SYSTEM_CONFIG: systemFile, MR_NATS_NKEY: ids.auth("admin").nkeyFile };
    const check = await cli(["config", "check"], env);
    assert.is(check.code, 0, check.err);
    assert.ok(check.out.includes(`config file ${systemFile}`), check.out);

    // Keys (section 3): the first keys init makes the cluster key; on "machine 2" the copy is kept.
    const k1 = await cli(["keys", "init", "--host", "mailstore1.example.com"], env);
    assert.is(k1.code, 0, k1.err);
    assert.match(k1.out, /cluster key: .* \(created/);
    const machine2Keys = join(base, "machine2", "keys");
    mkdirSync(machine2Keys, { recursive: true, mode: 0o700 });
    // Machine 1 also runs the supervisor here: its grant key joins the trusted list.
    const ks = await cli(["keys", "init", "--host", "sup1", "--role", "supervisor"], env);
    assert.is(ks.code, 0, ks.err);
    for (const f of ["cluster.secretbox.json", "trusted-signers.json"]) copyFileSync(join(etc, "keys", f), join(machine2Keys, f));
    const k2 = await cli(["keys", "init", "--host", "mailstore2.example.com", "--dir", machine2Keys], env);
    assert.is(k2.code, 0, k2.err);
    assert.match(k2.out, /existing one kept/);
    for (const f of ["cluster.secretbox.json", "mailstore1.example.com.ed25519.json"]) assert.is(statSync(join(etc, "keys", f)).mode & 0o777, 0o600, f);
    // One keys folder serves both mailstores here (one machine): machine 2's signing key joins it.
    copyFileSync(join(machine2Keys, "mailstore2.example.com.ed25519.json"), join(etc, "keys", "mailstore2.example.com.ed25519.json"));
    // The last machine's trusted-signers.json lists every key: copied back, it is the same everywhere.
    copyFileSync(join(machine2Keys, "trusted-signers.json"), join(etc, "keys", "trusted-signers.json"));

    // Start (section 4) as the units do: `mailreplica mailstore --host %i` / `mailreplica supervisor`
    // with MR_CONFIG set to the system file. One machine here, so each mailstore gets its own --data.
    const unitEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, MR_CONFIG: systemFile, MR_SYSTEM_CONFIG: systemFile };
    const logs = new Map<ChildProcess, string>();
    // Each process with its own seed (one machine here: through the environment, not config.json).
    const spawnUnit = (args: string[], seed: string): ChildProcess => {
      const child = spawnCli(args, { env: { ...unitEnv, MR_NATS_NKEY: seed } });
      logs.set(child, "");
      const keep = (d: Buffer) => logs.set(child, ((logs.get(child) ?? "") + d.toString()).slice(-20_000));
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      children.push(child);
      return child;
    };
    const started = async (child: ChildProcess, line: string): Promise<void> => {
      await waitFor(
        `${line}`,
        () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before "${line}":\n${logs.get(child)}`);
          return (logs.get(child) ?? "").includes(line);
        },
        45_000,
      );
    };
    const ms1 = spawnUnit(
      ["mailstore", "--host", "mailstore1.example.com", "--data", join(example.data.dir, "ms1")],
      ids.auth("mailstore", "mailstore1.example.com").nkeyFile!,
    );
    await started(ms1, "mailstore mailstore1.example.com started");
    const ms2 = spawnUnit(
      ["mailstore", "--host", "mailstore2.example.com", "--data", join(example.data.dir, "ms2")],
      ids.auth("mailstore", "mailstore2.example.com").nkeyFile!,
    );
    const sup = spawnUnit(["supervisor", "--host", "sup1"], ids.auth("supervisor", "sup1").nkeyFile!);
    await started(ms2, "mailstore mailstore2.example.com started");
    await started(sup, "supervisor sup1 started");

    // The first account and its replica (section 5), with the commands the guide shows.
    const created = await cli(["call", "mailbox", "createAccount", "name", "john.doe@example.com", "mailHost", "mailstore1.example.com"], env);
    assert.is(created.code, 0, created.err);
    const delivered = await cli(
      ["call", "mailbox", "deliverMessage", JSON.stringify({ account: "john.doe@example.com", raw: "From: a@example.org\nSubject: hi\n\nhello\n" })],
      env,
    );
    assert.is(delivered.code, 0, delivered.err);
    const dest = await waitFor("the admin interface to answer", async () => {
      const r = await cli(["--sync", "setAccountDestination", "mailstore2.example.com", "10", "accounts", "john.doe@example.com"], env);
      if (r.code !== 0 && /NOT_SUPERVISOR|NO_RESPONDER|UNAVAILABLE/.test(r.err)) return undefined; // the lease is being taken
      return r;
    });
    assert.is(dest.code, 0, `${dest.out}\n${dest.err}`);
    const verified = await waitFor(
      "the replica to verify equal",
      async () => {
        const r = await cli(["--json", "verifyReplicas", "accounts", "john.doe@example.com"], env);
        return r.code === 0 ? r : undefined;
      },
      30_000,
      250,
    );
    const result = JSON.parse(verified.out) as { equal: number; accounts: { replicas: { destination: string; equal: boolean | null }[] }[] };
    assert.is(result.equal, 1);
    assert.equal(
      result.accounts[0]!.replicas.map((r) => [r.destination, r.equal]),
      [["mailstore2.example.com", true]],
    );

    // Every JetStream asset is at 3 replicas on the example cluster.
    const t = await cli(["--json", "test"], env);
    const checks = (JSON.parse(t.out) as { checks: { check: string; status: string; detail: string }[] }).checks.filter((c) =>
      c.check.startsWith("jetstream "),
    );
    assert.ok(checks.length >= 5, t.out);
    for (const c of checks) assert.is(c.status, "ok", `${c.check}: ${c.detail}`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => exited(c)));
    for (const p of nats) p.kill("SIGTERM");
    await Promise.all(nats.map((p) => exited(p)));
  }
});

test.run();
