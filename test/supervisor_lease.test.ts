// The supervisor lease without clock comparison (issue 7, defect 9; actors/supervisor/lease.ts): a
// second supervisor with the running holder's name is refused, a standby whose wall clock is
// 10 s ahead never takes the lease from a holder that keeps renewing, a killed holder is
// replaced within about the TTL (also by a process of the same name), and operation records
// are updated by compare-and-set (a stale supervisor's update is refused), and a holder whose
// renewal comes back only after its TTL ran out is told it lost the lease and has it again (a
// new activation, which resumes what stopped meanwhile), not left to carry on unaware.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { Kvm, KvWatchInclude } from "@nats-io/kv";
import { stopBounded } from "./helpers/workload.js";
import { SupervisorNode, type SupervisorOptions } from "../actors/supervisor/node.js";
import { LEASE_KEY, SupervisorLease } from "../actors/supervisor/lease.js";
import { TcpProxy } from "./helpers/tcp_proxy.js";
import { connect } from "@nats-io/transport-node";
import { Operations } from "../actors/supervisor/operations.js";
import { systemClock, type Clock } from "../src/runtime/clock.js";

let sys: TestSystem;
const started: SupervisorNode[] = [];

async function startSup(name: string, over: Partial<SupervisorOptions> = {}): Promise<SupervisorNode> {
  const s = await SupervisorNode.start(sys.supervisorOptions(name, over));
  started.push(s);
  return s;
}

async function stopAll(): Promise<void> {
  while (started.length) await started.pop()!.stop();
}

/** Counts the writes of the lease record from now on (each renewal is one). */
async function countLeaseWrites(): Promise<{ count: () => number; stop: () => void }> {
  const kv = await new Kvm(sys.nc).create(sys.config.jetstream.buckets.directory);
  let n = 0;
  const w = await kv.watch({ key: LEASE_KEY, include: KvWatchInclude.UpdatesOnly });
  void (async () => {
    for await (const _e of w) n++;
  })();
  return { count: () => n, stop: () => w.stop() };
}

test.before(async () => {
  sys = await TestSystem.start({ hosts: ["ms1.example.com"] });
});
// Each test ends with no supervisor of its own left running, also when it failed.
test.after.each(async () => {
  await stopAll();
});
test.after(async () => {
  await stopAll().catch(() => {});
  await stopBounded(sys);
});

test("supervisor lease - a second supervisor with the holder's name is refused at start (NOT_SUPERVISOR); the first stays the only active one", async () => {
  const first = await startSup("twin");
  assert.ok(first.isActive, "the first supervisor is active");
  let err: (Error & { code?: string }) | undefined;
  try {
    started.push(await SupervisorNode.start(sys.supervisorOptions("twin")));
  } catch (e) {
    err = e as Error & { code?: string };
  }
  assert.ok(err, "the second supervisor named twin was refused");
  assert.is(err!.code, "NOT_SUPERVISOR");
  assert.match(err!.message, /another supervisor named twin .* holds the supervisor lease/);
  assert.ok(first.isActive, "the first supervisor is still active");
  // The same through the CLI: the process exits non-zero and says why.
  let childErr = "";
  await sys.spawnSupervisor("twin").catch((e: Error) => (childErr = e.message));
  assert.match(childErr, /exited before it started/);
  assert.match(childErr, /another supervisor named twin/);
  assert.ok(first.isActive);
  await stopAll();
});

test("supervisor lease - a standby whose wall clock is 10 s ahead does not take the lease from a healthy holder", async () => {
  const holder = await startSup("steady");
  assert.ok(holder.isActive);
  const real = systemClock();
  const ahead: Clock = { ...real, now: () => Date.now() + 10_000 };
  const standby = await startSup("skewed", { clock: ahead });
  // Two whole TTLs of renewals (one every ttl/3), observed in the lease record itself; the
  // standby started before the count, so it has seen the record for all of them.
  const writes = await countLeaseWrites();
  await waitFor("six lease renewals", () => (writes.count() >= 6 ? true : undefined), 20_000);
  writes.stop();
  assert.ok(holder.isActive, "the healthy holder keeps the lease");
  assert.not.ok(standby.isActive, "the skewed standby stands by");
  await stopAll();
});

test("supervisor lease - a killed holder is replaced within about the TTL, also by a process of the same name", async () => {
  await sys.spawnSupervisor("gone");
  const standby = await startSup("other");
  assert.not.ok(standby.isActive);
  await sys.kill9("gone");
  await waitFor("the standby to take the lease", () => (standby.isActive ? true : undefined), 4 * sys.config.supervisor.leaseTtlMs);
  await stopAll();
  // Same name as a dead holder: it waits the TTL out like any standby, then is active.
  await sys.spawnSupervisor("phoenix");
  await sys.kill9("phoenix");
  const again = await startSup("phoenix");
  await waitFor("phoenix (new instance) to be active", () => (again.isActive ? true : undefined), 4 * sys.config.supervisor.leaseTtlMs);
  await stopAll();
});

test("supervisor lease - operation records are updated by compare-and-set: a stale supervisor's update is refused", async () => {
  const sup = await startSup("ops");
  const stale = new Operations(sup.assets.directory, "stale", () => Date.now());
  const fresh = new Operations(sup.assets.directory, "fresh", () => Date.now());
  const op = await stale.create("promoteAccounts", 2, {});
  const taken = await fresh.get(op.operationId);
  taken.owner = "fresh";
  await fresh.record(taken, { account: "a@example.com", ok: true });
  await fresh.flush(taken);
  let err: (Error & { code?: string }) | undefined;
  // Outcomes are saved in the background (coalesced); the refusal comes with the save.
  await stale.record(op, { account: "b@example.com", ok: false, code: "TIMEOUT" });
  await stale.flush(op).catch((e) => (err = e as Error & { code?: string }));
  assert.ok(err, "the stale writer's update was refused");
  assert.is(err!.code, "NOT_SUPERVISOR");
  const stored = await fresh.get(op.operationId);
  assert.is(stored.owner, "fresh");
  assert.equal(
    stored.results.map((r) => r.account),
    ["a@example.com"],
  );
  // The current writer keeps writing.
  await fresh.finish(taken);
  assert.is((await fresh.get(op.operationId)).state, "successful");
  await stopAll();
});

test("supervisor lease - a renewal that comes back after the TTL ran out is reported as lost, then held again", async () => {
  // A lease of its own (own bucket) over a connection through a proxy that can hold its traffic.
  const proxy = await TcpProxy.start(sys.nats.spec.port);
  const nc = await connect({ servers: proxy.url });
  const ttlMs = 1_500;
  const changes: boolean[] = [];
  const lease = new SupervisorLease(await new Kvm(nc).create("lease_lapse_test"), "lapse", ttlMs, systemClock(), (active) => void changes.push(active));
  try {
    lease.start();
    await waitFor("the lease taken", () => (lease.isHeld ? true : undefined));
    // Every renewal is held on the wire until the TTL has run out; then the one under way
    // comes back (well inside its 5 s request timeout) and succeeds.
    proxy.stall();
    await waitFor("the TTL to run out", () => (lease.isHeld ? undefined : true), 10_000, 10);
    proxy.resume();
    await waitFor("the lease held again", () => (lease.isHeld ? true : undefined), 10_000, 10);
    await waitFor("the change reported", () => (changes.length >= 3 ? true : undefined), 5_000, 10);
    assert.equal(changes, [true, false, true], "taken, lost while the TTL had run out, taken again");
  } finally {
    proxy.resume();
    await lease.stop();
    await nc.close();
    await proxy.stop();
  }
});

test.run();
