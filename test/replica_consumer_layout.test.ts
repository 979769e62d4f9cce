// Reading only what you replicate (actors/mailstore/steady_filter.ts, steady_layout.ts): with
// 10 mailstores, each destination's durables list exactly the subjects of the accounts it
// replicates (one account: a plain filter_subject; more than its maxFilterSubjects: several
// durables, each listing at most that many), read only their entries, follow removes, pauses
// and adds, and replicas stay equal to their primaries. Real nats-server, in-process mailstores.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { agentConsumerName } from "../actors/mailstore/replica_agent.js";
import { covers, filterFields, filterOfConfig, sameFilter, steadyFilterFor } from "../actors/mailstore/steady_filter.js";
import { HOST_METADATA, parseShardDurableName, shardCount, shardDurableName, shardLayout, shardOf, shardsFit } from "../actors/mailstore/steady_layout.js";
import { txSubject } from "../src/jetstream/assets.js";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { waitOperationEnd } from "./helpers/promotion.js";
import { replicasEqual } from "./helpers/replica_copies.js";

const HOSTS = Array.from({ length: 10 }, (_, i) => `ms${i + 1}.example.com`);
const [P1, P2, ONE, , , , , , , FALLBACK] = HOSTS as [string, string, string, string, string, string, string, string, string, string];
/** ms4..ms9 replicate 3 accounts each; ms10 more than its maximum, in several durables */
const LISTED = HOSTS.slice(3, 9);
const FALLBACK_MAX = 3;
const DEADLINE = 60_000;

let sys: TestSystem;
let jsm: JetStreamManager;
/** account name -> id, primary, destinations */
const accounts = new Map<string, { id: string; primary: string; destinations: Set<string>; paused: Set<string> }>();

test.before(async () => {
  sys = await TestSystem.start({ hosts: HOSTS });
  for (const h of HOSTS) await sys.startMailstore(h, h === FALLBACK ? { maxFilterSubjects: FALLBACK_MAX } : {});
  await sys.startSupervisor();
  jsm = await jetstreamManager(sys.nc);
});
test.after(async () => {
  await sys?.stop();
});

const stream = (): string => sys.config.jetstream.streams.tx;
const node = (h: string) => sys.inProcess.get(h)!;

async function durable(h: string): Promise<ConsumerInfo | undefined> {
  return jsm.consumers.info(stream(), agentConsumerName(h)).catch(() => undefined);
}

async function consumerNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const c of jsm.consumers.list(stream())) names.push(c.name);
  return names.sort();
}

/** Subjects of the accounts replicated (unpaused) on `h`, sorted. */
function expectedSubjects(h: string): string[] {
  return [...accounts.values()]
    .filter((a) => a.destinations.has(h) && !a.paused.has(h))
    .map((a) => txSubject(a.id))
    .sort();
}

/** What the durable of `h` should read when it has one: undefined (no durable), a subject, or a list. */
function expectedFilter(h: string): { filter_subject?: string; filter_subjects?: string[] } | undefined {
  const subjects = expectedSubjects(h);
  if (subjects.length === 0) return undefined;
  if (subjects.length === 1) return { filter_subject: subjects[0]! };
  return { filter_subjects: subjects };
}

function filterOf(ci: ConsumerInfo | undefined): { filter_subject?: string; filter_subjects?: string[] } | undefined {
  if (!ci) return undefined;
  if (ci.config.filter_subjects?.length) return { filter_subjects: [...ci.config.filter_subjects].sort() };
  return { filter_subject: ci.config.filter_subject! };
}

/** The durables of `h` on MR_TX (its base name or its shard names), by name. */
async function durablesOf(h: string): Promise<Map<string, ConsumerInfo>> {
  const out = new Map<string, ConsumerInfo>();
  for await (const c of jsm.consumers.list(stream())) if (parseShardDurableName(agentConsumerName(h), c.name)) out.set(c.name, c);
  return out;
}

/** Whether the sharded durables of `h` are a layout of its set: one B, each ≤ max, each account in its shard, together exactly the set. */
async function shardedAsExpected(h: string, max: number): Promise<number | undefined> {
  const found = await durablesOf(h);
  const want = expectedSubjects(h);
  const base = agentConsumerName(h);
  const layouts = new Set([...found.keys()].map((n) => parseShardDurableName(base, n)!.shards));
  if (layouts.size !== 1) return undefined;
  const [shards] = [...layouts] as [number];
  if (shards === 1 || found.size < 2) return undefined;
  const listed: string[] = [];
  for (const [name, ci] of found) {
    const subjects = filterOf(ci)!.filter_subjects ?? [filterOf(ci)!.filter_subject!];
    if (subjects.length > max || ci.config.metadata?.[HOST_METADATA] !== h) return undefined;
    if (!subjects.every((sub) => shardDurableName(base, shards, shardOf(sub.slice("mr.tx.".length), shards)) === name)) return undefined;
    listed.push(...subjects);
  }
  return JSON.stringify(listed.sort()) === JSON.stringify(want) ? shards : undefined;
}

async function layoutSettled(): Promise<void> {
  const names: string[] = [];
  for (const h of HOSTS) {
    const sharded = expectedSubjects(h).length > (h === FALLBACK ? FALLBACK_MAX : 250);
    if (sharded) {
      await waitFor(
        `${h}'s durables list its ${expectedSubjects(h).length} accounts, at most ${FALLBACK_MAX} each`,
        () => shardedAsExpected(h, FALLBACK_MAX),
        DEADLINE,
        50,
      );
      names.push(...(await durablesOf(h)).keys());
      continue;
    }
    await waitFor(
      `${h}'s durable reads ${JSON.stringify(expectedFilter(h))}`,
      async () => JSON.stringify(filterOf(await durable(h))) === JSON.stringify(expectedFilter(h)),
      DEADLINE,
      50,
    );
    if (expectedFilter(h)) names.push(agentConsumerName(h));
  }
  // Only the durables of mailstores with replicas, no catch-up consumer left once idle.
  await waitFor(
    "only the durables of mailstores with replicas on MR_TX",
    async () => JSON.stringify(await consumerNames()) === JSON.stringify(names.sort()),
    DEADLINE,
    50,
  );
}

async function create(name: string, primary: string): Promise<void> {
  const acct = await sys.mailbox("createAccount", { name, mailHost: primary });
  await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(0, name) });
  accounts.set(name, { id: acct.id, primary, destinations: new Set(), paused: new Set() });
}

async function replicate(destination: string, names: string[]): Promise<void> {
  const op = await sys.admin("setAccountDestination", { destination, priority: 10, accounts: names });
  await waitOperationEnd(sys, op.operationId, DEADLINE);
  for (const n of names) accounts.get(n)!.destinations.add(destination);
}

/**
 * Writes `perAccount` entries to every account, then checks each destination's steady
 * consumers read the entries of the accounts it replicates and no other.
 */
async function writeAndCheckReads(perAccount: number): Promise<void> {
  const readBefore = new Map(HOSTS.map((h) => [h, node(h).agent.stats.read]));
  const otherBefore = new Map(HOSTS.map((h) => [h, node(h).agent.stats.notReplicated]));
  // One call at a time: each deliverMessage is one log entry of its account.
  for (let i = 1; i <= perAccount; i++) {
    for (const name of accounts.keys()) await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(i, name) });
  }
  const total = perAccount * accounts.size;
  await replicasEqual(sys, accounts, DEADLINE);
  for (const h of HOSTS) {
    const own = [...accounts.values()].filter((a) => a.destinations.has(h) && !a.paused.has(h)).length * perAccount;
    const read = (): number => node(h).agent.stats.read - readBefore.get(h)!;
    const other = (): number => node(h).agent.stats.notReplicated - otherBefore.get(h)!;
    await waitFor(`${h}'s steady consumers read ${own} entries`, () => read() >= own, DEADLINE, 20);
    // A filter update makes the server deliver the added subjects' entries after the last one it
    // delivered again (duplicates here, skipped), so reads of its own accounts may exceed what
    // was just written; what must not happen is reading another account's entry.
    assert.is(other(), 0, `${h} read ${other()} entries of accounts it does not replicate (${read()} read, its accounts got ${own} of ${total})`);
  }
}

test("consumer layout - the filter for a set: none, one subject as a string, a sorted list", () => {
  assert.equal(steadyFilterFor([]), { kind: "none" });
  const one = steadyFilterFor(["a"]);
  assert.equal(filterFields(one as Exclude<typeof one, { kind: "none" }>), { filter_subject: "mr.tx.a", filter_subjects: undefined });
  const three = steadyFilterFor(["c", "a", "b"]);
  assert.equal(three, { kind: "subjects", subjects: ["mr.tx.a", "mr.tx.b", "mr.tx.c"] });
  assert.equal(filterFields(three as Exclude<typeof three, { kind: "none" }>), {
    filter_subject: undefined,
    filter_subjects: ["mr.tx.a", "mr.tx.b", "mr.tx.c"],
  });
  assert.equal(filterFields({ kind: "all" }), { filter_subject: "mr.tx.*", filter_subjects: undefined });
  // As the server reports a durable: an older version's mr.tx.*, the string form, the list in any order.
  assert.equal(filterOfConfig({ filter_subject: "mr.tx.*" }), { kind: "all" });
  assert.ok(sameFilter(filterOfConfig({ filter_subject: "mr.tx.a" }), one));
  assert.ok(sameFilter(filterOfConfig({ filter_subjects: ["mr.tx.c", "mr.tx.a", "mr.tx.b"] }), three));
  assert.not.ok(sameFilter(three, one));
  assert.ok(covers(three, "b") && !covers(three, "d") && covers({ kind: "all" }, "zzz") && !covers(steadyFilterFor([]), "a"));
});

test("consumer layout - shards: the smallest power of two that fits, each account in one shard, fewer only with room to spare", () => {
  const ids = Array.from({ length: 2_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
  assert.is(shardCount(ids.slice(0, 250), 250), 1, "at most max: one durable");
  assert.is(shardCount([], 250), 1);
  const b = shardCount(ids, 250);
  assert.ok(b >= 8 && (b & (b - 1)) === 0, `2,000 accounts at 250: ${b} shards`);
  assert.ok(b === 8 || shardCount(ids, 250, b / 2) === b, "grows past a B that does not fit");
  assert.ok(shardsFit(ids, b, 250) && shardsFit(ids, b * 2, 250) && !shardsFit(ids, b / 2, 250) && !shardsFit(ids, 1, 250));
  const layout = shardLayout("base", ids, b);
  const listed = [...layout.values()].flatMap((f) => f.subjects);
  assert.ok(
    [...layout.values()].every((f) => f.subjects.length <= 250),
    "no shard lists more than max",
  );
  assert.is(new Set(listed).size, ids.length, "each account in exactly one shard");
  assert.is(listed.length, ids.length);
  for (const [name, f] of layout) assert.is(name, shardDurableName("base", b, shardOf(f.subjects[0]!.slice("mr.tx.".length), b)));
  // A shard of B is two shards of 2B: doubling moves no account to a shard of another half.
  for (const id of ids.slice(0, 50)) assert.is(shardOf(id, b * 2) % b, shardOf(id, b));
  // Hysteresis: 200 accounts fit one durable of 250, but from 2 shards only at ≤ 187 (3/4 of max).
  assert.is(shardCount(ids.slice(0, 200), 250, 2), 2);
  assert.is(shardCount(ids.slice(0, 180), 250, 2), 1);
  assert.is(shardCount(ids.slice(0, 200), 250), 1, "a fresh start takes the smallest");
  // Names: B = 1 is the base name; a longer host name that starts with the base is not this host's.
  assert.equal(parseShardDurableName("mr_replica_a", "mr_replica_a"), { shards: 1, shard: 0 });
  assert.equal(parseShardDurableName("mr_replica_a", "mr_replica_a_8_3"), { shards: 8, shard: 3 });
  assert.is(parseShardDurableName("mr_replica_a", "mr_replica_ab"), undefined);
  assert.is(parseShardDurableName("mr_replica_a", "mr_replica_a_b_8_3"), undefined);
  assert.is(parseShardDurableName("mr_replica_a", "mr_replica_a_6_3"), undefined, "not a power of two");
  assert.is(parseShardDurableName("mr_replica_a", "mr_replica_a_8_8"), undefined, "no such shard");
});

test("consumer layout - each destination's durable lists its accounts and reads only their entries", async () => {
  // 1 account on ms3 (filter_subject), 3 on each of ms4..ms9 (filter_subjects), 7 on ms10 (above its maximum: several durables).
  let n = 0;
  const plan: Array<[string, number]> = [[ONE, 1], ...LISTED.map((h): [string, number] => [h, 3]), [FALLBACK, 7]];
  for (const [h, count] of plan) {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = `u${n}@example.com`;
      await create(name, n % 2 === 0 ? P1 : P2);
      names.push(name);
      n++;
    }
    await replicate(h, names);
  }
  await layoutSettled();
  assert.is(filterOf(await durable(ONE))!.filter_subject, expectedSubjects(ONE)[0], "one account: the plain filter_subject form");
  assert.is(await durable(P1), undefined, "a mailstore replicating nothing has no durable");
  await writeAndCheckReads(2);
});

test("consumer layout - removes, pauses and adds change the filter; nothing written meanwhile is lost", async () => {
  const [a4] = [...accounts].find(([, a]) => a.destinations.has(LISTED[0]!))!;
  const [a5] = [...accounts].find(([, a]) => a.destinations.has(LISTED[1]!))!;
  await sys.admin("removeAccountDestination", { destination: LISTED[0]!, accounts: a4 });
  accounts.get(a4)!.destinations.delete(LISTED[0]!);
  await sys.admin("pauseReplicas", { accounts: a5, destination: LISTED[1]! });
  accounts.get(a5)!.paused.add(LISTED[1]!);
  // ms3 goes from one account (filter_subject) to two (filter_subjects); an account of ms5 is
  // added to ms6 too.
  const [other] = [...accounts].find(([, a]) => a.destinations.has(LISTED[2]!))!;
  await replicate(ONE, [other]);
  await replicate(LISTED[3]!, [a5]);
  await layoutSettled();
  await writeAndCheckReads(2);
  // Resumed (restartReplicas re-seeds it): back in the list, and equal again.
  await sys.admin("restartReplicas", { accounts: a5, destination: LISTED[1]! });
  accounts.get(a5)!.paused.delete(LISTED[1]!);
  await layoutSettled();
  await writeAndCheckReads(1);
});

test("consumer layout - many accounts added in one operation make a few filter updates, not one each", async () => {
  const h = LISTED[4]!;
  const names: string[] = [];
  for (let i = 0; i < 30; i++) {
    const name = `bulk${i}@example.com`;
    await create(name, P1);
    names.push(name);
  }
  const before = node(h).agent.stats.filterUpdates;
  await replicate(h, names);
  await layoutSettled();
  const updates = node(h).agent.stats.filterUpdates - before;
  assert.ok(updates >= 1 && updates < names.length, `${updates} filter updates for ${names.length} added accounts`);
  await writeAndCheckReads(1);
});

test("consumer layout - an older version's durable on mr.tx.* is updated in place; a deleted one is recreated with the list", async () => {
  const h = LISTED[5]!;
  const name = agentConsumerName(h);
  const created = (await durable(h))!.created;
  // As an older version left it: every entry. The mailstore restarts and narrows it in place.
  await node(h).stop();
  sys.inProcess.delete(h);
  await jsm.consumers.update(stream(), name, { filter_subject: "mr.tx.*", filter_subjects: undefined });
  await sys.startMailstore(h);
  await layoutSettled();
  assert.is((await durable(h))!.created, created, "updated in place, not deleted and created again");
  await writeAndCheckReads(1);
  // Lost (deleted by hand): recreated with the list, and what was written meanwhile applied.
  const created2 = (await durable(h))!.created;
  // nats-server can refuse a delete while it writes the consumer's state ("directory not empty"): tried again.
  await waitFor(`${name} deleted`, () => jsm.consumers.delete(stream(), name).catch(() => undefined), DEADLINE, 100);
  await waitFor(
    `${name} recreated`,
    async () => {
      const ci = await durable(h);
      return ci && ci.created !== created2 ? true : undefined;
    },
    DEADLINE,
    50,
  );
  await layoutSettled();
  await writeAndCheckReads(1);
});

test.run();
