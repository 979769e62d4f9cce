// Batched promotion (docs/architecture.md, Promotion; actors/mailstore/promotion_batch.ts, actors/supervisor/promotion.ts):
// - promoteAccounts sends its accounts to their target in promoteMany calls (seen on the
//   target's admin subject: no promote call at all, every account named once), and each
//   account ends primary on the target with exactly one Promoted entry, at the next epoch;
// - one promoteMany call where some accounts are refused (a grant for another host, a host
//   holding no replica) or already promoted to a later epoch: each of those gets its own
//   outcome, the others are promoted, and with no supervisor recording anything (the call
//   is made here, the reconciler is off) the directory still follows them (the target's
//   check after the batch);
// - the same batch asked twice at once, with a lone promote for one of its accounts beside
//   it, and once more after: one Promoted per account, every answer the same;
// - bad params are refused with a message naming the item and the field.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { logHead, readAccountLog, readerKeyring, stopBounded } from "./helpers/workload.js";
import { addReplicas, createAccounts, directoryRecord, promote, promotedEntries } from "./helpers/promotion.js";
import { RpcError, rpcCall } from "../src/jsonrpc/index.js";
import { signPromotionGrant } from "../src/envelope/index.js";
import { loadSigningKey } from "../src/keys/index.js";
import type { PromoteHereResult, PromoteManyResult } from "../src/protocol/node_api.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const MS3 = "ms3.example.com";
const MANY = Array.from({ length: 30 }, (_, i) => `batch${i}@example.com`);
const MIXED = ["ok1", "ok2", "ok3", "badgrant", "later"].map((n) => `${n}@example.com`);
const TWICE = ["tw1", "tw2", "tw3", "tw4"].map((n) => `${n}@example.com`);
const NO_REPLICA = "norep@example.com";
const dec = new TextDecoder();

let sys: TestSystem;
let ids = new Map<string, string>();

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  for (const h of sys.hosts) await sys.startMailstore(h);
  // No reconciler: in the test of refusals, only the target itself can move the directory.
  await sys.startSupervisor("sup1", { reconcileEveryMs: 0 });
  ids = await createAccounts(sys, [...MANY, ...MIXED, ...TWICE, NO_REPLICA], MS1, { messages: 1 });
  await addReplicas(sys, [...MANY, ...MIXED, ...TWICE], MS2, 10);
});
test.after(async () => {
  await stopBounded(sys);
});

/** The requests on a mailstore's admin subject: method and, for promoteMany, the accounts named. */
function watchAdminRequests(host: string): { calls: Array<{ method: string; accounts: string[] }>; stop(): void } {
  const calls: Array<{ method: string; accounts: string[] }> = [];
  const sub = sys.nc.subscribe(`mr.node.${host}.admin`, {
    callback: (_e, m) => {
      try {
        const r = JSON.parse(dec.decode(m.data)) as { method?: string; params?: { accounts?: Array<{ account: string }> } };
        calls.push({ method: String(r.method), accounts: (r.params?.accounts ?? []).map((a) => a.account) });
      } catch {
        /* not JSON-RPC */
      }
    },
  });
  return { calls, stop: () => sub.unsubscribe() };
}

/** The Promoted entries of the account's log, as [epoch, host]. */
async function promotions(id: string): Promise<Array<[number, string]>> {
  return promotedEntries(await readAccountLog(sys, id, readerKeyring(sys, MS1))).map((p) => [p.epoch, p.host]);
}

function grant(id: string, epoch: number, host: string): string {
  return signPromotionGrant(loadSigningKey({ dir: sys.config.keys.dir, host: "sup1" }), { account: id, epoch, host });
}

function promoteMany(accounts: unknown): Promise<PromoteManyResult> {
  return rpcCall<PromoteManyResult>(sys.nc, `mr.node.${MS2}.admin`, "promoteMany", { accounts }, { timeoutMs: 30_000 });
}

test("promotion batch - promoteAccounts sends the accounts to their target in promoteMany calls; each ends primary there with one Promoted entry", async () => {
  const wire = watchAdminRequests(MS2);
  let end;
  try {
    // 2 threads: the 30 accounts go in 2 batches of 15.
    end = await promote(sys, { accounts: MANY, threads: 2 });
  } finally {
    wire.stop();
  }
  assert.is(end.state, "successful", JSON.stringify(end.failed.slice(0, 3)));
  assert.equal(
    end.promoted.filter((p) => p.to !== MS2 || p.epoch !== 2 || p.from !== MS1),
    [],
    "every account from ms1 to ms2 at epoch 2",
  );
  const many = wire.calls.filter((c) => c.method === "promoteMany");
  assert.is(wire.calls.filter((c) => c.method === "promote").length, 0, "no account was promoted alone");
  assert.is(many.length, 2, `promoteMany calls (${many.map((c) => c.accounts.length).join(", ")} accounts)`);
  const named = many.flatMap((c) => c.accounts);
  assert.is(named.length, MANY.length, "each account named in one promoteMany call");
  assert.equal(new Set(named), new Set(MANY.map((n) => ids.get(n)!)));
  const ms2 = sys.inProcess.get(MS2)!;
  for (const name of MANY) {
    const id = ids.get(name)!;
    assert.equal(await promotions(id), [[2, MS2]], `${name}: one Promoted entry`);
    const rs = ms2.store.replicaState(id)!;
    assert.equal([rs.role, rs.epoch, rs.appliedSeq], ["primary", 2, await logHead(sys, id)], `${name} on ms2`);
    const rec = await directoryRecord(sys, id);
    assert.equal([rec.mailHost, rec.epoch], [MS2, 2], `${name} in the directory`);
  }
});

test("promotion batch - a batch with refused accounts answers each on its own, promotes the others, and the directory follows them", async () => {
  const id = (n: string): string => ids.get(`${n}@example.com`)!;
  const ms2 = sys.inProcess.get(MS2)!;
  // Already promoted here, alone, to a later epoch than the batch asks.
  const alone = await rpcCall<PromoteHereResult>(sys.nc, `mr.node.${MS2}.admin`, "promote", {
    account: id("later"),
    epoch: 3,
    from: MS1,
    grant: grant(id("later"), 3, MS2),
  });
  assert.equal([alone.host, alone.epoch, alone.alreadyPromoted], [MS2, 3, false]);
  const asked = [
    ...["ok1", "ok2", "ok3", "later"].map((n) => ({ account: id(n), epoch: 2, from: MS1, grant: grant(id(n), 2, MS2) })),
    // A grant for another host: no reader would accept it, so it is never appended.
    { account: id("badgrant"), epoch: 2, from: MS1, grant: grant(id("badgrant"), 2, MS3) },
    // ms2 holds no copy of it.
    { account: ids.get(NO_REPLICA)!, epoch: 2, from: MS1, grant: grant(ids.get(NO_REPLICA)!, 2, MS2) },
  ];
  const r = await promoteMany(asked);
  assert.is(r.host, MS2);
  assert.equal(
    r.outcomes.map((o) => o.account),
    asked.map((a) => a.account),
    "one outcome per account, in the order asked",
  );
  const by = new Map(r.outcomes.map((o) => [o.account, o]));
  for (const n of ["ok1", "ok2", "ok3"]) {
    const o = by.get(id(n))!;
    assert.ok("result" in o, `${n}: ${JSON.stringify(o)}`);
    assert.equal([o.result.host, o.result.epoch, o.result.alreadyPromoted], [MS2, 2, false], n);
    assert.equal(await promotions(id(n)), [[2, MS2]], `${n}: one Promoted entry`);
    assert.equal([ms2.store.replicaState(id(n))!.role, ms2.store.replicaState(id(n))!.epoch], ["primary", 2], n);
  }
  const later = by.get(id("later"))!;
  assert.ok("result" in later, JSON.stringify(later));
  assert.equal([later.result.host, later.result.epoch, later.result.alreadyPromoted], [MS2, 3, true], "later: already promoted, at epoch 3");
  assert.equal(await promotions(id("later")), [[3, MS2]], "later: no Promoted at epoch 2");

  const bad = by.get(id("badgrant"))!;
  assert.ok("error" in bad, JSON.stringify(bad));
  assert.equal(
    [(bad.error.data as { code?: string }).code, (bad.error.data as { cause?: string }).cause],
    ["APP_ERROR", "LOG_BAD_PROMOTION"],
    bad.error.message,
  );
  assert.match(bad.error.message, /does not promote/);
  assert.equal(await promotions(id("badgrant")), [], "badgrant: nothing appended");
  assert.is(ms2.store.replicaState(id("badgrant"))!.role, "replica");
  assert.ok(ms2.agent.isReplicated(id("badgrant")), "badgrant: replicated again");
  const norep = by.get(ids.get(NO_REPLICA)!)!;
  assert.ok("error" in norep, JSON.stringify(norep));
  assert.is((norep.error.data as { code?: string }).code, "REPLICA_UNAVAILABLE", norep.error.message);

  // Nobody but ms2 moves the directory here: its check after the batch (10 s later) does.
  for (const n of ["ok1", "ok2", "ok3"]) {
    await waitFor(
      `the directory to name ms2 for ${n}`,
      async () => {
        const rec = await directoryRecord(sys, id(n));
        return rec.mailHost === MS2 && rec.epoch === 2 ? true : undefined;
      },
      30_000,
      200,
    );
  }
  const badRec = await directoryRecord(sys, id("badgrant"));
  assert.equal([badRec.mailHost, badRec.epoch], [MS1, 1], "badgrant stays on ms1");
});

test("promotion batch - the same batch asked twice at once, with a lone promote beside it, and once more after: one Promoted per account, the same answers", async () => {
  const ms2 = sys.inProcess.get(MS2)!;
  const asked = TWICE.map((n) => ({ account: ids.get(n)!, epoch: 2, from: MS1, grant: grant(ids.get(n)!, 2, MS2) }));
  for (const a of asked) {
    const head = await logHead(sys, a.account);
    await waitFor(`ms2's copy of ${a.account} at the log head`, () => ((ms2.store.replicaState(a.account)?.appliedSeq ?? 0) >= head ? true : undefined));
  }
  const [first, second, alone] = await Promise.all([
    promoteMany(asked),
    promoteMany(asked),
    rpcCall<PromoteHereResult>(sys.nc, `mr.node.${MS2}.admin`, "promote", asked[0]!, { timeoutMs: 30_000 }),
  ]);
  const results = (r: PromoteManyResult) => r.outcomes.map((o) => ("result" in o ? o.result : o.error));
  for (const r of results(first)) assert.equal([(r as PromoteHereResult).host, (r as PromoteHereResult).epoch], [MS2, 2], JSON.stringify(r));
  assert.equal(results(second), results(first), "the second batch gets the first one's answers");
  assert.equal(alone, results(first)[0], "the lone promote gets the batch's answer");
  assert.ok(
    results(first).every((r) => (r as PromoteHereResult).alreadyPromoted === false),
    "the first answers appended the entries",
  );
  const after = await promoteMany(asked);
  assert.equal(
    results(after).map((r) => [(r as PromoteHereResult).host, (r as PromoteHereResult).epoch, (r as PromoteHereResult).alreadyPromoted]),
    asked.map(() => [MS2, 2, true]),
    "asked after it ended: already promoted",
  );
  for (const a of asked) assert.equal(await promotions(a.account), [[2, MS2]], `${a.account}: one Promoted entry`);
});

test("promotion batch - bad params are refused naming the item and the field", async () => {
  const id = ids.get(MANY[0]!)!;
  const refusal = async (accounts: unknown): Promise<RpcError> => {
    try {
      await promoteMany(accounts);
    } catch (e) {
      if (e instanceof RpcError) return e;
      throw e;
    }
    throw new Error(`promoteMany ${JSON.stringify(accounts)} was accepted`);
  };
  const cases: Array<[unknown, RegExp]> = [
    [[], /param "accounts" must be an array of 1 to 500 items of objects/],
    [[{ account: id, epoch: "2" }], /item 0: "epoch" must be an integer of at least 2, got the string "2"/],
    [[{ account: id, epoch: 2 }, { epoch: 2 }], /item 1 has no "account"/],
    [[{ account: id, epoch: 2, host: MS2 }], /item 0 has the unknown field "host"/],
    [["x"], /item 0 is the string "x", not an object/],
    [[{ account: "*", epoch: 2 }], /item 0: "account" must be a string of 1 to 36 characters of a UUID/],
    [
      [
        { account: id, epoch: 3 },
        { account: id, epoch: 3 },
      ],
      /item 1 names account .* again/,
    ],
  ];
  for (const [accounts, message] of cases) {
    const e = await refusal(accounts);
    assert.is(e.code, -32602, e.message);
    assert.match(e.message, message);
  }
});

test.run();
