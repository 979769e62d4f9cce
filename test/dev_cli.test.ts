// `mailreplica dev` as a process: its own nats-server (or one already running), key files,
// NATS identities (its server refuses anonymous clients; tests connect as admin or operator
// with the files dev wrote), the whole cluster, and a stop that leaves nothing behind. Everything lives in temp folders
// (MR_VAR_DIR, MR_KEYS_DIR); the project's var/ folder is never touched.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { rpcCall } from "../src/jsonrpc/index.js";
import { loadConfig } from "../src/config/index.js";
import { runCli } from "../src/cli/main.js";
import { natsConnectionOptions } from "../src/natsauth/connect_options.js";
import { probeNats } from "../src/dev/index.js";
import { projectRoot } from "../src/paths.js";
import { startNatsServer } from "./helpers/nats.js";
import { exited, freePort, spawnCli, tempDir, waitFor } from "./helpers/processes.js";
import { alive, pidOf, startDev, stopDev, untilUp, type DevProcess } from "./helpers/dev_process.js";

const HOSTS = ["mailstore1.example.com", "mailstore2.example.com", "mailstore3.example.com"];
const projectVar = join(projectRoot(), "var");
const varBefore = existsSync(projectVar) ? statSync(projectVar).mtimeMs : undefined;

/** A connection as dev's admin, through the config file dev wrote for other terminals. */
async function connectAdmin(varDir: string) {
  const c = loadConfig({ file: join(varDir, "auth", "admin.json"), env: {} });
  return connect(natsConnectionOptions(c.nats.servers, c.nats));
}

test("dev - --only-nats --no-repl starts a JetStream nats-server and writes 0600 keys; SIGTERM stops both", async () => {
  const varDir = tempDir("mr-dev-var-");
  const keysDir = join(tempDir("mr-dev-keys-"), "keys");
  const port = await freePort();
  const dev = startDev(["--only-nats", "--no-repl"], { MR_SERVERS: `nats://127.0.0.1:${port}`, MR_VAR_DIR: varDir, MR_KEYS_DIR: keysDir });
  await untilUp(dev);
  const natsPid = pidOf(dev, "nats-server");
  assert.ok(alive(natsPid));

  // Anonymous clients are refused; JetStream administration is the operator's.
  const anonymous = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false }).then(
    (c) => c.close().then(() => "connected"),
    (e: Error) => e.message,
  );
  assert.match(anonymous, /authorization violation/i);
  const nc = await connect(
    natsConnectionOptions(`nats://127.0.0.1:${port}`, { nkeyFile: join(varDir, "auth", "operator.nk"), inboxPrefix: "_INBOX_operator" }),
  );
  const info = await (await jetstreamManager(nc)).getAccountInfo();
  assert.ok(info.limits !== undefined, "JetStream answers");
  await nc.close();
  assert.ok(existsSync(join(varDir, "nats", "jetstream")), "the JetStream store is under the var folder");
  assert.ok(readFileSync(join(varDir, "log", "nats-server.log"), "utf8").includes("Server is ready"));

  // MR_KEYS_DIR is configured, so it wins over <var>/keys.
  assert.not.ok(existsSync(join(varDir, "keys")));
  const files = readdirSync(keysDir).sort();
  assert.equal(
    files,
    ["cluster.secretbox.json", ...HOSTS.map((h) => `${h}.ed25519.json`), "supervisor.example.com.supervisor-ed25519.json", "trusted-signers.json"].sort(),
  );
  for (const f of files) assert.is(statSync(join(keysDir, f)).mode & 0o777, 0o600, `${f} mode`);
  assert.is(statSync(join(varDir, "auth")).mode & 0o777, 0o700);
  for (const f of readdirSync(join(varDir, "auth")).filter((x) => x.endsWith(".nk")))
    assert.is(statSync(join(varDir, "auth", f)).mode & 0o777, 0o600, `${f} mode`);
  assert.ok(dev.out().includes(`MR_NATS_NKEY=${join(varDir, "auth", `mailstore.${HOSTS[0]}.nk`)}`), dev.out());
  const secret = (JSON.parse(readFileSync(join(keysDir, `${HOSTS[0]}.ed25519.json`), "utf8")) as { secretKey: string }).secretKey;
  assert.not.ok(dev.out().includes(secret) || dev.err().includes(secret), "a secret key was printed");

  assert.is(await stopDev(dev), 0, dev.err());
  assert.ok(dev.out().includes("nats-server stopped"), dev.out());
  assert.not.ok(alive(natsPid), "the nats-server outlived dev");
  assert.equal(await probeNats("127.0.0.1", port), { kind: "free" });
});

test("dev - the REPL runs in the foreground; exit there stops what dev started", async () => {
  const port = await freePort();
  const child = spawnCli(["dev", "--only-nats"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, MR_SERVERS: `nats://127.0.0.1:${port}`, MR_VAR_DIR: tempDir("mr-dev-repl-") },
  });
  const dev: DevProcess = { child, out: () => out, err: () => err };
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await untilUp(dev);
  const natsPid = pidOf(dev, "nats-server");
  child.stdin!.write("getServices\nhelp monitor\nexit\n");
  await exited(child);
  assert.is(child.exitCode, 0, err);
  // Only NATS runs: the admin call finds no supervisor, and says how to start one.
  assert.ok(out.includes("error: the supervisor is not running") && out.includes("[NO_RESPONDER]"), out);
  assert.ok(out.includes("Usage: monitor <operation_uuid>"), out);
  assert.ok(out.indexOf("Usage: monitor") < out.indexOf("nats-server stopped"), out);
  assert.not.ok(alive(natsPid), "the nats-server outlived dev");
});

test("dev - a port held by something else fails naming the port and MR_SERVERS; nothing is started", async () => {
  const varDir = tempDir("mr-dev-taken-");
  const squatter: Server = createServer((sock) => sock.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", () => r()));
  const port = (squatter.address() as { port: number }).port;
  try {
    const dev = startDev(["--only-nats", "--no-repl"], { MR_SERVERS: `nats://127.0.0.1:${port}`, MR_VAR_DIR: varDir });
    await exited(dev.child);
    assert.is(dev.child.exitCode, 1, dev.out() + dev.err());
    assert.ok(dev.err().includes(`port ${port} on 127.0.0.1 is taken by something that is not a nats-server`), dev.err());
    assert.ok(dev.err().includes("MR_SERVERS=nats://127.0.0.1:") && dev.err().includes("[DEV_PORT_TAKEN]"), dev.err());
    assert.not.ok(existsSync(join(varDir, "nats")), "a nats store was created");
  } finally {
    squatter.close();
  }
});

test("dev - a JetStream nats-server already on the port is used, said so, and left running", async () => {
  const existing = await startNatsServer("dev-existing");
  try {
    const dev = startDev(["--only-nats", "--no-repl"], { MR_SERVERS: existing.url, MR_VAR_DIR: tempDir("mr-dev-reuse-") });
    await untilUp(dev);
    assert.ok(dev.out().includes("already listening there; dev did not start it and leaves it running"), dev.out());
    assert.is(await stopDev(dev), 0, dev.err());
    assert.ok(existing.running, "dev stopped a nats-server it did not start");
    assert.equal((await probeNats("127.0.0.1", existing.spec.port)).kind, "nats");
  } finally {
    await existing.stop();
  }
});

test("dev - the whole cluster: five processes, a dead mailstore is reported, a second run finds the data, SIGTERM stops all", async () => {
  const varDir = tempDir("mr-dev-full-");
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const env = { MR_SERVERS: url, MR_VAR_DIR: varDir, MR_HEARTBEAT_MS: "200" };
  const dev = startDev(["--no-repl"], env);
  await untilUp(dev);
  const pids = ["nats-server", ...HOSTS, "supervisor"].map((n) => pidOf(dev, n));
  assert.ok(pids.every(alive));
  for (const h of HOSTS) {
    assert.ok(existsSync(join(varDir, "data", h)), `data folder of ${h}`);
    assert.ok(readFileSync(join(varDir, "log", `${h}.log`), "utf8").includes(`mailstore ${h} started`));
  }
  assert.ok(existsSync(join(varDir, "log", "supervisor.log")));

  const nc = await connectAdmin(varDir);
  try {
    await waitFor(
      "getServices to list the three mailstores and the supervisor alive",
      async () => {
        const r = await rpcCall<{ services: Array<{ role: string; host: string; alive: boolean }> }>(nc, "mr.rpc.admin", "getServices", {});
        return r.services.filter((s) => s.alive).length === 4 && HOSTS.every((h) => r.services.some((s) => s.host === h && s.alive));
      },
      20_000,
      200,
    );
    await rpcCall(nc, "mr.rpc.mailbox", "createAccount", { name: "dev.user@example.com", mailHost: HOSTS[0] });
    await rpcCall(nc, "mr.rpc.mailbox", "deliverMessage", { account: "dev.user@example.com", raw: "Subject: kept\n\nacross runs" });
  } finally {
    await nc.close();
  }
  // An operator's CLI in another terminal, with the config file dev printed.
  const adminConfig = join(varDir, "auth", "admin.json");
  assert.ok(dev.out().includes(`MR_CONFIG=${adminConfig} mailreplica getServices`), dev.out());
  const lines: string[] = [];
  const cliCode = await runCli(["getServices"], {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    env: { MR_SYSTEM_CONFIG: "none", MR_CONFIG: adminConfig },
    cwd: varDir,
  });
  assert.is(cliCode, 0, lines.join("\n"));
  assert.ok(lines.join("\n").includes(HOSTS[0]!), lines.join("\n"));
  // Everything dev's processes did was within their permissions.
  const refused = readFileSync(join(varDir, "log", "nats-server.log"), "utf8")
    .split("\n")
    .filter((l) => /(Publish|Subscription) Violation/.test(l));
  assert.equal(refused, [], "the nats-server refused something a dev process did");

  // A mailstore dying is reported loudly with its log; the others keep running.
  process.kill(pids[2]!, "SIGKILL");
  await waitFor("dev to report the dead mailstore", () => dev.err().includes(`!!! ${HOSTS[1]} exited unexpectedly (killed by SIGKILL)`), 10_000);
  assert.ok(dev.err().includes(`!!! its log: ${join(varDir, "log", `${HOSTS[1]}.log`)}`), dev.err());
  assert.ok(
    [pids[0], pids[1], pids[3], pids[4]].every((p) => alive(p!)),
    "the others stopped",
  );

  assert.is(await stopDev(dev), 0, dev.err());
  for (const pid of pids) assert.not.ok(alive(pid), `process ${pid} outlived dev`);
  const stopLines = dev.out().slice(dev.out().indexOf("stopping what it started"));
  assert.ok(stopLines.indexOf("supervisor stopped") < stopLines.indexOf("nats-server stopped"), stopLines);
  assert.ok(stopLines.indexOf(`${HOSTS[0]} stopped`) < stopLines.indexOf("nats-server stopped"), stopLines);

  // Same folders: the second run keeps the keys and finds the account and its message.
  const again = startDev(["--no-repl"], env);
  await untilUp(again);
  assert.ok(again.out().includes("existing ones kept"), again.out());
  const nc2 = await connectAdmin(varDir);
  try {
    const items = await waitFor(
      "the message delivered in the first run",
      async () => {
        const r = await rpcCall<{ items: Array<{ subject: string }> }>(nc2, "mr.rpc.mailbox", "listItems", { account: "dev.user@example.com" });
        return r.items.length ? r.items : undefined;
      },
      20_000,
      200,
    );
    assert.is(items[0]!.subject, "kept");
  } finally {
    await nc2.close();
  }
  assert.is(await stopDev(again), 0, again.err());
});

test("dev - the project's var/ folder was not touched", () => {
  assert.is(existsSync(projectVar) ? statSync(projectVar).mtimeMs : undefined, varBefore);
});

test.run();
