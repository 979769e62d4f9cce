// Listing a bucket's keys creates no consumer: nats-server 2.15 allows 1,000 consumers per
// stream by default, and the client's kv.keys() opened one per call (kept by the server until
// idle), so status calls and promotions of many accounts piled them up past the limit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { listKeys } from "../src/jetstream/kv_keys.js";
import { TestSystem } from "./helpers/system.js";

const MS1 = "ms1.example.com";
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1] });
});
test.after(async () => {
  await sys?.stop();
});

test("kv keys - the keys matching a filter, sorted; a deleted key is listed (its reader skips the marker)", async () => {
  const kv = await new Kvm(sys.nc).create("kvkeys_test");
  await kv.put("acct.b", "1");
  await kv.put("acct.a", "2");
  await kv.put("mailstore.x.example.com", "3");
  await kv.put("acct.gone", "4");
  await kv.delete("acct.gone");
  assert.equal(await listKeys(kv, "acct.*"), ["acct.a", "acct.b", "acct.gone"]);
  assert.equal(await listKeys(kv, "mailstore.>"), ["mailstore.x.example.com"]);
  assert.equal(await listKeys(kv, "nothing.*"), []);
  assert.is((await kv.get("acct.gone"))?.operation, "DEL");
});

test("kv keys - fifty getServices and getAccountStatus calls leave no consumer on the nodes or directory bucket", async () => {
  await sys.mailbox("createAccount", { name: "k1@example.com", mailHost: MS1 });
  const jsm = await jetstreamManager(sys.nc);
  const count = async (stream: string): Promise<number> => (await jsm.streams.info(stream)).state.consumer_count;
  const nodes = `KV_${sys.config.jetstream.buckets.nodes}`;
  const directory = `KV_${sys.config.jetstream.buckets.directory}`;
  const before = { nodes: await count(nodes), directory: await count(directory) };
  for (let i = 0; i < 50; i++) {
    await sys.admin("getServices");
    await sys.admin("getAccountStatus", {});
  }
  assert.equal({ nodes: await count(nodes), directory: await count(directory) }, before);
});

test.run();
