// Only supervisors write mr_directory: a mailstore asks them on mr.directory.<its host>
// (actors/shared/directory_requests.ts), and nats-server lets each mailstore publish only on its own
// subject (test/auth_permissions.test.ts). Here: what a supervisor does with such requests —
// the host is the subject's, a promotion moves the record only with a grant a trusted
// supervisor signed for that host, and a record is given back only when its log is empty.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { Directory } from "../src/directory/directory.js";
import { signPromotionGrant } from "../src/envelope/index.js";
import { RpcError, rpcCall } from "../src/jsonrpc/index.js";
import { loadSigningKey } from "../src/keys/index.js";
import { Kvm } from "@nats-io/kv";
import { refused } from "./helpers/refused.js";
import { TestSystem } from "./helpers/system.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;
let directory: Directory;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  directory = new Directory(await new Kvm(sys.nc).open(sys.config.jetstream.buckets.directory));
});
test.after(async () => {
  await sys?.stop();
});

const ask = <T = any>(host: string, method: string, params: Record<string, unknown>): Promise<T> =>
  rpcCall<T>(sys.nc, `mr.directory.${host}`, method, params, { timeoutMs: 10_000 });

function grant(account: string, epoch: number, host: string): string {
  return signPromotionGrant(loadSigningKey({ dir: sys.config.keys.dir, host: "sup1", role: "supervisor" }), { account, epoch, host });
}

test("directory requests - without a supervisor createAccount is refused, naming it, and creates nothing", async () => {
  const e = await refused(sys.mailbox("createAccount", { name: "early@example.com", mailHost: MS1 }), "UNAVAILABLE");
  assert.match(e.message, /no supervisor answers mr\.directory\.ms1\.example\.com/);
  assert.is(await directory.find("early@example.com"), undefined);
  // Both mailstores started while no supervisor ran: not registered yet.
  assert.is(await directory.mailstore(MS1), undefined);
});

test("directory requests - a supervisor registers the mailstores that started without one, from their heartbeats", async () => {
  await sys.startSupervisor("sup1");
  assert.equal(
    (await directory.listMailstores()).map((m) => m.host),
    [MS1, MS2],
  );
  const ms1 = await directory.mailstore(MS1);
  assert.is(ms1?.publicKey, Buffer.from(sys.inProcess.get(MS1)!.keyring.signingPublicKey).toString("base64"));
  const made = await sys.mailbox("createAccount", { name: "early@example.com", mailHost: MS1 });
  assert.is((await directory.find("early@example.com"))?.value.mailHost, MS1);
  assert.is(made.mailHost, MS1);
});

test("directory requests - the account is created on the host of the subject, whatever the request says", async () => {
  const id = randomUUID();
  const rec = await ask(MS2, "createAccount", { id, name: "subject@example.com", mailHost: MS1 }).catch((e: RpcError) => e);
  // mailHost is no param of the request: refused as unknown, nothing created.
  assert.instance(rec, RpcError);
  assert.is((rec as RpcError).code, -32602);
  assert.is(await directory.byId(id), undefined);
  const made = await ask(MS2, "createAccount", { id, name: "subject@example.com" });
  assert.is(made.mailHost, MS2);
  assert.is((await directory.byId(id))?.value.mailHost, MS2);
});

test("directory requests - a promotion moves the record only with a grant for that account, epoch and host", async () => {
  const acct = await sys.mailbox("createAccount", { name: "grant@example.com", mailHost: MS1 });
  const before = (await directory.byId(acct.id))!.value;
  for (const bad of [
    "not-a-grant",
    grant(acct.id, 2, MS1), // for another host than the one asking
    grant(acct.id, 3, MS2), // another epoch
    grant(randomUUID(), 2, MS2), // another account
  ]) {
    const e = await refused(ask(MS2, "recordPromotion", { account: acct.id, epoch: 2, grant: bad }), "APP_ERROR");
    assert.match(e.message, /nothing was changed/);
  }
  assert.equal((await directory.byId(acct.id))!.value, before);
  // A grant signed by a mailstore key is no supervisor's.
  const mailstoreKey = loadSigningKey({ dir: sys.config.keys.dir, host: MS2, role: "mailstore" });
  const forged = signPromotionGrant(mailstoreKey, { account: acct.id, epoch: 2, host: MS2 });
  assert.match((await refused(ask(MS2, "recordPromotion", { account: acct.id, epoch: 2, grant: forged }), "APP_ERROR")).message, /not a supervisor key/);
  assert.equal((await directory.byId(acct.id))!.value, before);
});

test("directory requests - a record is given back only by its host, and only while its log is empty", async () => {
  const acct = await sys.mailbox("createAccount", { name: "kept@example.com", mailHost: MS1 });
  const other = await refused(ask(MS2, "releaseAccount", { account: acct.id }), "APP_ERROR");
  assert.match(other.message, /not a creation of ms2\.example\.com/);
  const logged = await refused(ask(MS1, "releaseAccount", { account: acct.id }), "APP_ERROR");
  assert.match(logged.message, /has entries in its log/);
  assert.is((await directory.byId(acct.id))?.value.name, "kept@example.com");
  // A record whose creation never reached the log (made here directly) is given back.
  const id = randomUUID();
  await ask(MS1, "createAccount", { id, name: "never-logged@example.com" });
  assert.equal(await ask(MS1, "releaseAccount", { account: id }), { released: true });
  assert.is(await directory.byId(id), undefined);
  assert.is(await directory.find("never-logged@example.com"), undefined);
  assert.equal(await ask(MS1, "releaseAccount", { account: randomUUID() }), { released: false });
});

test.run();
