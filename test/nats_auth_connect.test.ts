// Connecting to a secured NATS: each authentication kind against a real nats-server
// configured for it (nkey, user + password, token, mutual TLS with a throw-away CA made by
// openssl), refused credentials named by their setting, unusable files named (never their
// content), and the configuration side (fallback variables, one kind only, no password in a
// file or in `config show`). Creds (JWT) files against an operator-mode server are in
// nats_auth_jwt.test.ts; here only how a creds file is read, and a malformed one refused.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { natsConnectionOptions, type NatsAuth } from "../src/natsauth/connect_options.js";
import { NatsAuthError } from "../src/natsauth/errors.js";
import { probeNatsServers } from "../actors/shared/nats_probe.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { cliConnectError, runCliCaptured } from "./helpers/cli_capture.js";
import { tempDir } from "./helpers/processes.js";

const dir = tempDir("mr-natsauth-");
const servers: NatsNode[] = [];
test.after(async () => {
  for (const s of servers) await s.stop();
});

function file(name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode });
  chmodSync(p, mode);
  return p;
}

async function serverWith(conf: string): Promise<NatsNode> {
  const s = await startNatsServer(`auth-${servers.length}`, ["-c", file(`server-${servers.length}.conf`, conf, 0o644)]);
  servers.push(s);
  return s;
}

/** Connects the CLI's way; the CallError when refused. */
const cliConnect = cliConnectError;
const cli = (argv: string[], env: NodeJS.ProcessEnv) => runCliCaptured(argv, env, dir);

test("nats auth - nkey: the seed file connects (CLI, probe); a wrong seed or none is refused naming the setting", async () => {
  const kp = createUser();
  const seed = file("user.nk", `${new TextDecoder().decode(kp.getSeed())}\n`);
  const other = file("other.nk", `${new TextDecoder().decode(createUser().getSeed())}\n`);
  const s = await serverWith(`authorization { users = [ { nkey: "${kp.getPublicKey()}" } ] }\n`);
  assert.is(await cliConnect(s.url, { nkeyFile: seed }), undefined);
  const wrong = await cliConnect(s.url, { nkeyFile: other });
  assert.is(wrong?.code, "NATS_AUTH_REFUSED");
  assert.ok(wrong!.message.includes(`nats.nkeyFile ${other}`), wrong!.message);
  const anonymous = await cliConnect(s.url, {});
  assert.is(anonymous?.code, "NATS_AUTH_REFUSED");
  assert.ok(anonymous!.message.includes("requires authentication"), anonymous!.message);
  // The `test` probe connects with the process's own credentials.
  assert.is((await probeNatsServers([s.url], 3_000, { nkeyFile: seed }))[0]!.ok, true);
  assert.is((await probeNatsServers([s.url], 3_000, {}))[0]!.ok, false);
  // The CLI end to end: the error names the variable's setting, never the seed.
  const r = await cli(["getServices"], { MR_SERVERS: s.url, MR_NATS_NKEY: other });
  assert.is(r.code, 1, r.err);
  assert.ok(r.err.includes("[NATS_AUTH_REFUSED]") && r.err.includes("nats.nkeyFile"), r.err);
  assert.not.ok(r.err.includes(readFileSync(other, "utf8").trim()), "the seed was printed");
});

test("nats auth - user + password from the environment or a file; a wrong password is refused naming nats.user", async () => {
  const s = await serverWith(`authorization { user: "mr", password: "s3cret-pw" }\n`);
  assert.is(await cliConnect(s.url, { user: "mr", password: "s3cret-pw" }), undefined);
  assert.is(await cliConnect(s.url, { user: "mr", passwordFile: file("pw", "s3cret-pw\n") }), undefined);
  const wrong = await cliConnect(s.url, { user: "mr", password: "nope" });
  assert.is(wrong?.code, "NATS_AUTH_REFUSED");
  assert.ok(wrong!.message.includes("nats.user mr") && !wrong!.message.includes("nope"), wrong!.message);
  // Through the environment (NATS_* fallbacks), as the CLI reads it.
  const ok = await cli(["call", "admin", "getServices"], { NATS_URL: s.url, NATS_USER: "mr", NATS_PASSWORD: "s3cret-pw" });
  // Authenticated: no supervisor answers, which is a different failure from a refusal.
  assert.ok(ok.err.includes("[NO_RESPONDER]"), ok.err);
});

test("nats auth - token file; a wrong token is refused naming nats.tokenFile", async () => {
  const s = await serverWith(`authorization { token: "tok-123456" }\n`);
  assert.is(await cliConnect(s.url, { tokenFile: file("token", "tok-123456\n") }), undefined);
  const bad = file("badtoken", "tok-nope\n");
  const wrong = await cliConnect(s.url, { tokenFile: bad });
  assert.is(wrong?.code, "NATS_AUTH_REFUSED");
  assert.ok(wrong!.message.includes(`nats.tokenFile ${bad}`) && !wrong!.message.includes("tok-nope"), wrong!.message);
});

test("nats auth - mutual TLS with a CA, client certificate and key; without the client certificate it fails naming TLS", async () => {
  const ssl = (...args: string[]): void => {
    execFileSync("/usr/bin/openssl", args, { cwd: dir, stdio: "ignore" });
  };
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mr test CA", "-keyout", "ca.key", "-out", "ca.pem");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const who of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${who}`, "-keyout", `${who}.key`, "-out", `${who}.csr`);
    ssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", `${who}.pem`);
  }
  chmodSync(join(dir, "client.key"), 0o600);
  const s = await serverWith(
    `tls { cert_file: "${join(dir, "server.pem")}", key_file: "${join(dir, "server.key")}", ca_file: "${join(dir, "ca.pem")}", verify: true }\n`,
  );
  const tls = { caFile: join(dir, "ca.pem"), certFile: join(dir, "client.pem"), keyFile: join(dir, "client.key") };
  assert.is(await cliConnect(s.url, { tls }), undefined);
  const noCert = await cliConnect(s.url, { tls: { caFile: tls.caFile } });
  assert.ok(noCert, "connected without a client certificate");
  assert.ok(["NATS_TLS_FAILED", "NATS_UNREACHABLE"].includes(noCert!.code), `${noCert!.code}: ${noCert!.message}`);
  const noCa = await cliConnect(s.url, { tls: { certFile: tls.certFile, keyFile: tls.keyFile } });
  assert.is(noCa?.code, "NATS_TLS_FAILED", noCa?.message);
  assert.ok(noCa!.message.includes("nats.tls.certFile"), noCa!.message);
});

test("nats auth - unusable files are named, never shown: missing, readable by others, not a seed", () => {
  const missing = join(dir, "missing.nk");
  const err = (auth: NatsAuth): NatsAuthError => {
    try {
      natsConnectionOptions(["nats://127.0.0.1:4222"], auth);
    } catch (e) {
      assert.instance(e, NatsAuthError);
      return e as NatsAuthError;
    }
    throw new Error("expected a NatsAuthError");
  };
  const m = err({ nkeyFile: missing });
  assert.is(m.code, "NATS_AUTH_FILE");
  assert.ok(m.message.includes(`nats.nkeyFile ${missing} does not exist`), m.message);
  const seedText = new TextDecoder().decode(createUser().getSeed());
  const open = file("open.nk", `${seedText}\n`, 0o644);
  const o = err({ nkeyFile: open });
  assert.ok(o.message.includes("readable by every user") && o.message.includes(`chmod 600 ${open}`) && !o.message.includes(seedText), o.message);
  const notSeed = file("notseed.nk", "hello\n");
  assert.ok(err({ nkeyFile: notSeed }).message.includes("does not hold one nkey user seed"));
  assert.ok(err({ tokenFile: missing }).message.includes(`nats.tokenFile ${missing}`));
  assert.ok(err({ tls: { caFile: missing } }).message.includes(`nats.tls.caFile ${missing}`));
  // A group-readable seed is allowed with a warning.
  const warnings: string[] = [];
  natsConnectionOptions(["nats://127.0.0.1:4222"], { nkeyFile: file("group.nk", `${seedText}\n`, 0o640) }, { warn: (l) => warnings.push(l) });
  assert.ok(warnings.length === 1 && warnings[0]!.includes("readable by its group"), warnings.join());
});

test("nats auth - a creds file is read by nats.js's creds authenticator (JWT and seed); a malformed one is refused", () => {
  const kp = createUser();
  const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJ0ZXN0In0.c2ln";
  const creds = file(
    "user.creds",
    `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(kp.getSeed())}\n------END USER NKEY SEED------\n`,
  );
  const opts = natsConnectionOptions(["nats://127.0.0.1:4222"], { credsFile: creds });
  const auth = (opts.authenticator as (nonce?: string) => { jwt?: string; nkey?: string; sig?: string })("bm9uY2U");
  assert.is(auth.jwt, jwt);
  assert.is(auth.nkey, kp.getPublicKey());
  assert.ok(typeof auth.sig === "string" && auth.sig.length > 40, "the nonce is signed with the seed");
  try {
    natsConnectionOptions(["nats://127.0.0.1:4222"], { credsFile: file("bad.creds", "just text\n") });
    assert.unreachable("a malformed creds file was accepted");
  } catch (e) {
    assert.is((e as NatsAuthError).code, "NATS_AUTH_FILE");
    assert.ok((e as Error).message.includes("is not a NATS credentials file"), (e as Error).message);
  }
});

test("nats auth - config: NATS_* fallbacks, one credential kind, no password in a file, none shown", async () => {
  const c = loadConfig({
    env: { NATS_URL: "nats://a.example.com:4222,nats://b.example.com:4222", NATS_CREDS: "/etc/x.creds", MR_NATS_INBOX_PREFIX: "_INBOX_admin" },
    cwd: dir,
  });
  assert.equal(c.nats.servers, ["nats://a.example.com:4222", "nats://b.example.com:4222"]);
  assert.is(c.nats.credsFile, "/etc/x.creds");
  assert.is(loadConfig({ env: { MR_SERVERS: "nats://m:1", NATS_URL: "nats://n:2" } }).nats.servers[0], "nats://m:1");
  const refused = (run: () => unknown): ConfigError => {
    try {
      run();
    } catch (e) {
      assert.instance(e, ConfigError);
      return e as ConfigError;
    }
    throw new Error("expected a ConfigError");
  };
  const both = refused(() => loadConfig({ env: { MR_NATS_CREDS: "/a.creds", MR_NATS_NKEY: "/b.nk" } }));
  assert.ok(both.message.includes("nats.credsFile and nats.nkeyFile are both set"), both.message);
  assert.ok(refused(() => loadConfig({ env: { MR_NATS_USER: "u" } })).message.includes("no password for it"));
  const inFile = file("withpw.json", JSON.stringify({ nats: { user: "u", password: "in-file-secret" } }), 0o600);
  const pw = refused(() => loadConfig({ file: inFile, env: {} }));
  assert.ok(pw.message.includes("a password in a config file is refused") && !pw.message.includes("in-file-secret"), pw.message);
  const url = refused(() => loadConfig({ env: { MR_SERVERS: "nats://u:urlsecret@h:4222" } }));
  assert.ok(url.message.includes("carries credentials") && !url.message.includes("urlsecret"), url.message);
  assert.ok(refused(() => loadConfig({ env: { MR_NATS_TLS_KEY: "/k.pem" } })).message.includes("set without nats.tls.certFile"));
  assert.ok(refused(() => loadConfig({ env: { MR_NATS_INBOX_PREFIX: "_INBOX.*" } })).message.includes("nats.inboxPrefix"));
  // config show: paths as they are, the password as (set).
  const shown = await cli(["config", "show"], { MR_NATS_USER: "u", MR_NATS_PASSWORD: "env-secret", MR_NATS_TLS_CA: "ca.pem" });
  assert.is(shown.code, 0, shown.err);
  const j = JSON.parse(shown.out) as { nats: { password: string; tls: { caFile: string } } };
  assert.is(j.nats.password, "(set)");
  assert.is(j.nats.tls.caFile, join(dir, "ca.pem"));
  assert.not.ok(shown.out.includes("env-secret"));
});

test.run();
