// A split group commit under a lost acknowledgement: the group whose ack was lost is answered
// OUTCOME_UNKNOWN, the groups after it are not sent before the log was read, and nothing is
// stored twice or lost once the writer can read again.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { LogBackedActor, SubjectLog } from "../src/runtime/index.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { Ledger, decodeLedgerEntry, type LedgerCmd } from "./helpers/ledger.js";

const STREAM = "RT_SPLIT_AMB";
let server: NatsNode;
let proxy: TcpProxy;
let direct: NatsConnection;
let proxied: NatsConnection;

test.before(async () => {
  server = await startNatsServer();
  proxy = await TcpProxy.start(server.spec.port);
  direct = await connect({ servers: server.url });
  proxied = await connect({ servers: proxy.url });
  await (await jetstreamManager(direct)).streams.add({ name: STREAM, subjects: ["rt.splitamb.>"], duplicate_window: 120_000_000_000 });
});
test.after(async () => {
  await proxied?.close().catch(() => {});
  await direct?.close();
  await proxy?.stop();
  await server?.stop();
});

async function logOn(nc: NatsConnection, subject: string): Promise<SubjectLog> {
  return new SubjectLog(jetstream(nc), await jetstreamManager(nc, { timeout: 1_000 }), STREAM, subject, () => nc.info?.max_payload);
}

async function storedGroups(subject: string): Promise<string[][]> {
  const out: string[][] = [];
  for await (const e of (await logOn(direct, subject)).read(1)) out.push(decodeLedgerEntry(e.data).events.map((ev) => ev.key.slice(0, 2)));
  return out;
}

test("batch split - a lost ack on the first group: its callers hear OUTCOME_UNKNOWN, the next group is not sent unread, each entry is stored once", async () => {
  const subject = "rt.splitamb.s1";
  const ledger = new Ledger("w1");
  const actor = new LogBackedActor(await logOn(proxied, subject), ledger, { appendTimeoutMs: 500, appendAttempts: 2 });
  await actor.recover();
  assert.equal(await actor.receiveBatch([{ add: "a0", by: 1 }]), [{ ok: true, value: 1 }]);
  // Two ~400 KiB commands fit in one 1 MiB append, the third needs another.
  const big = (k: string): LedgerCmd => ({ add: `${k}-${"x".repeat(400 * 1024)}`, by: 1 });
  proxy.drop("toClient");
  const results = await actor.receiveBatch([big("k0"), big("k1"), big("k2")]);
  proxy.resume("toClient");
  const codes = results.map((r) => (r.ok ? "ok" : (r.error as { code?: string }).code));
  assert.equal(codes.slice(0, 2), ["OUTCOME_UNKNOWN", "OUTCOME_UNKNOWN"], `first group: ${codes}`);
  assert.is(codes[2], "LOG_READ_FAILED", "the second group waited for a log read, which failed: it was not sent");
  assert.equal(await storedGroups(subject), [["a0"], ["k0", "k1"]], "the first group landed once (its retry was deduplicated); the second not at all");
  // The writer reads the log before it decides again: the landed group is applied, not repeated.
  assert.equal(await actor.receiveBatch([big("k2")]), [{ ok: true, value: 1 }]);
  assert.equal(await storedGroups(subject), [["a0"], ["k0", "k1"], ["k2"]]);
  assert.equal([...ledger.counters.keys()].map((k) => k.slice(0, 2)).sort(), ["a0", "k0", "k1", "k2"]);
});

test.run();
