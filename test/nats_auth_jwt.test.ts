// Creds (JWT) files against a real nats-server in operator (decentralized JWT) mode: an
// operator, a system account and an account with JetStream, encoded and signed by @nats-io/jwt
// (the nats-io maintained encoder; nothing here signs by hand), loaded with a memory resolver.
// A mailstore built from a creds file starts (its streams and buckets are JetStream calls in
// that account) and the CLI, given MR_NATS_CREDS, writes and reads through it; a user of
// another operator's account, or no credentials at all, is refused with NATS_AUTH_REFUSED.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds, type KeyPair } from "@nats-io/jwt";
import { MailstoreNode } from "../actors/mailstore/node.js";
import { SupervisorNode } from "../actors/supervisor/node.js";
import { localSystemConfig, localDataDir } from "../src/dev/local_system.js";
import { mailstoreOptionsOf } from "../actors/mailstore/options.js";
import { supervisorOptionsOf } from "../actors/supervisor/supervisor_options.js";
import { rawMessage } from "./helpers/system.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { cliConnectError, runCliCaptured } from "./helpers/cli_capture.js";
import { tempDir } from "./helpers/processes.js";

const MS1 = "ms1.example.com";
const dir = tempDir("mr-natsjwt-");
let server: NatsNode | undefined;
let mailstore: MailstoreNode | undefined;
let supervisor: SupervisorNode | undefined;
let creds: string;
let foreignCreds: string;

test.after(async () => {
  await supervisor?.stop();
  await mailstore?.stop();
  await server?.stop();
});

function file(name: string, text: string | Uint8Array, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode });
  chmodSync(p, mode);
  return p;
}

/** Every NATS limit unlimited, and JetStream enabled (a non-zero storage limit is what enables it). */
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

interface Operator {
  jwt: string;
  sys: { pub: string; jwt: string };
  account: { kp: KeyPair; pub: string; jwt: string };
}

/** An operator whose account JWTs it signs itself: a system account, and an account with JetStream. */
async function operator(name: string): Promise<Operator> {
  const okp = createOperator();
  const sys = createAccount();
  const acct = createAccount();
  return {
    jwt: await encodeOperator(name, okp, { system_account: sys.getPublicKey() }),
    sys: { pub: sys.getPublicKey(), jwt: await encodeAccount("SYS", sys, { limits: UNLIMITED }, { signer: okp }) },
    account: { kp: acct, pub: acct.getPublicKey(), jwt: await encodeAccount("MAILREPLICA", acct, { limits: { ...UNLIMITED, ...JETSTREAM } }, { signer: okp }) },
  };
}

/** A .creds file (user JWT signed by `account`, and the user's seed), as `nsc generate creds` writes it. */
async function userCreds(name: string, account: KeyPair): Promise<string> {
  const ukp = createUser();
  return file(`${name}.creds`, fmtCreds(await encodeUser(name, ukp, account), ukp));
}

/** Connects the CLI's way; the CallError when refused. */
const cliConnect = cliConnectError;
const cli = (argv: string[], env: NodeJS.ProcessEnv) => runCliCaptured(argv, env, dir);

test.before(async () => {
  const op = await operator("mr-test-operator");
  // Operator mode: the operator JWT is trusted, account JWTs come from the resolver (here
  // preloaded in memory). JetStream and its store folder come from startNatsServer's -js -sd.
  const conf = [
    `operator: ${op.jwt}`,
    `system_account: ${op.sys.pub}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    `  ${op.sys.pub}: ${op.sys.jwt}`,
    `  ${op.account.pub}: ${op.account.jwt}`,
    "}",
    "",
  ].join("\n");
  server = await startNatsServer("operator-mode", ["-c", file("operator.conf", conf, 0o644)]);
  creds = await userCreds("mailreplica", op.account.kp);
  // Signed by an account of another operator, which this server does not trust.
  foreignCreds = await userCreds("foreign", (await operator("other-operator")).account.kp);
});

test("nats auth jwt - a mailstore started from a creds file creates its JetStream assets; the CLI with MR_NATS_CREDS writes and reads through it", async () => {
  const config = localSystemConfig({ root: dir, servers: [server!.url], heartbeatMs: 200, mailstores: [MS1] });
  const log = (l: string): unknown => process.env.MR_TEST_LOG && process.stderr.write(`${l}\n`);
  // Its streams and buckets are JetStream API calls in the account: without JetStream it waits
  // for it, and gives up after startupTimeoutMs naming what it waited for.
  mailstore = await MailstoreNode.start({
    ...mailstoreOptionsOf(config, MS1, localDataDir(config, MS1)),
    natsAuth: { credsFile: creds },
    startupTimeoutMs: 20_000,
    log,
  });
  // The supervisor, which writes the account record createAccount asks for, connects the same way.
  supervisor = await SupervisorNode.start({ ...supervisorOptionsOf(config, "sup1"), natsAuth: { credsFile: creds }, startupTimeoutMs: 20_000, log });
  const env = { MR_SERVERS: server!.url, MR_NATS_CREDS: creds };
  const created = await cli(["call", "mailbox", "createAccount", "name", "alice@example.com", "mailHost", MS1], env);
  assert.is(created.code, 0, created.err);
  const delivered = await cli(["call", "mailbox", "deliverMessage", JSON.stringify({ account: "alice@example.com", raw: rawMessage(1) })], env);
  assert.is(delivered.code, 0, delivered.err);
  const listed = await cli(["call", "mailbox", "listItems", "account", "alice@example.com"], env);
  assert.is(listed.code, 0, listed.err);
  assert.is((JSON.parse(listed.out) as { items: unknown[] }).items.length, 1, listed.out);
});

test("nats auth jwt - a user JWT signed by another operator's account is refused with NATS_AUTH_REFUSED naming nats.credsFile", async () => {
  const refused = await cliConnect(server!.url, { credsFile: foreignCreds });
  assert.is(refused?.code, "NATS_AUTH_REFUSED", refused?.message);
  assert.ok(refused!.message.includes(`nats.credsFile ${foreignCreds}`), refused!.message);
  // The CLI end to end: the variable's setting is named, the seed is never printed.
  const r = await cli(["call", "mailbox", "listItems", "account", "alice@example.com"], { MR_SERVERS: server!.url, MR_NATS_CREDS: foreignCreds });
  assert.is(r.code, 1, r.err);
  assert.ok(r.err.includes("[NATS_AUTH_REFUSED]") && r.err.includes("nats.credsFile"), r.err);
  const seed = /SU[A-Z2-7]{56}/.exec(readFileSync(foreignCreds, "utf8"))![0];
  assert.not.ok(r.err.includes(seed), "the seed was printed");
});

test("nats auth jwt - an anonymous connection is refused with NATS_AUTH_REFUSED: the server requires authentication", async () => {
  const anonymous = await cliConnect(server!.url, {});
  assert.is(anonymous?.code, "NATS_AUTH_REFUSED", anonymous?.message);
  assert.ok(anonymous!.message.includes("requires authentication"), anonymous!.message);
});

test.run();
