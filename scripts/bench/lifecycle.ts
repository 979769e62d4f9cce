// Log lifecycle (issue 11): a month of mailbox activity compressed in time. Each simulated day
// every account gets its writes (mostly flag changes, some deliveries and deletes), then
// every account is snapshotted and compacted (snapshotAccounts compact true, as the primaries'
// snapshots and the supervisor's rounds do over a day) with retention.keepDays 0: a day of the
// simulation is not a day of the clock, so keepDays' days cannot pass; with keepDays N the log
// holds N days of entries more (README, Snapshots). MR_TX's size per account is read after
// each day's compaction, and what it would hold without compaction (every byte written).
import { BenchEnv, MS1 } from "./env.js";
import { rawMessage } from "../../test/helpers/system.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import { now } from "./util.js";

export interface LifecycleParams {
  accounts: number;
  days: number;
  writesPerDay: number;
}

export interface LifecycleDay {
  day: number;
  /** MR_TX bytes per account after the day's compaction */
  txBytesPerAccount: number;
  /** MR_SNAP bytes per account (each account's newest snapshot) */
  snapBytesPerAccount: number;
  /** every byte appended to MR_TX so far, per account: the log's size without compaction */
  writtenBytesPerAccount: number;
}

export interface LifecycleResult {
  params: LifecycleParams;
  writes: number;
  days: LifecycleDay[];
  /** the last day's figures */
  txBytesPerAccount: number;
  snapBytesPerAccount: number;
  writtenBytesPerAccount: number;
  seconds: number;
}

export async function benchLifecycle(p: LifecycleParams, log: (s: string) => void): Promise<LifecycleResult> {
  const started = now();
  const env = await BenchEnv.startBare();
  // Snapshots and compaction only when the simulation's day ends (below), nothing automatic.
  env.config.snapshots = { everyEntries: 0, everyMs: 0 };
  env.config.retention = { keepDays: 0, compactEveryMs: 0 };
  try {
    await env.startInProcess(MS1);
    await env.startSupervisor();
    const names = Array.from({ length: p.accounts }, (_, i) => `life${i}@bench.example.com`);
    const items = new Map<string, number[]>();
    await runBounded(names, 8, async (name) => {
      await env.mailbox("createAccount", { name, mailHost: MS1 });
      const ids: number[] = [];
      for (let m = 0; m < 10; m++) ids.push((await env.mailbox<{ itemId: number }>("deliverMessage", { account: name, raw: rawMessage(m, name) })).itemId);
      items.set(name, ids);
    });
    const txBytes = async () => (await env.jsm.streams.info(env.txStream)).state.bytes;
    const snapBytes = async () => (await env.jsm.streams.info(env.config.jetstream.streams.snapshots)).state.bytes;
    let written = await txBytes();
    let after = written;
    let writes = 0;
    let n = 1000;
    const days: LifecycleDay[] = [];
    for (let day = 1; day <= p.days; day++) {
      const ops = names.flatMap((name) => Array.from({ length: p.writesPerDay }, (_, i) => ({ name, i })));
      await runBounded(ops, 16, async ({ name, i }) => {
        const ids = items.get(name)!;
        const r = (day * 7919 + i * 104729) % 10;
        if (r < 7 && ids.length > 0) {
          await env.mailbox("setFlags", { account: name, ids: [ids[(day + i) % ids.length]!], flags: (day + i) % 2 ? ["seen"] : ["seen", "flagged"] });
        } else if (r < 9 || ids.length < 5) {
          ids.push((await env.mailbox<{ itemId: number }>("deliverMessage", { account: name, raw: rawMessage(n++, name) })).itemId);
        } else {
          await env.mailbox("deleteItems", { account: name, ids: [ids.shift()!] });
        }
        writes++;
      });
      const before = await txBytes();
      written += before - after;
      const r = await env.admin<{ failed: number }>("snapshotAccounts", { compact: true });
      if (r.failed > 0) throw new Error(`day ${day}: ${r.failed} account(s) not snapshotted: ${JSON.stringify(r).slice(0, 500)}`);
      after = await txBytes();
      days.push({
        day,
        txBytesPerAccount: after / p.accounts,
        snapBytesPerAccount: (await snapBytes()) / p.accounts,
        writtenBytesPerAccount: written / p.accounts,
      });
      if (day % 10 === 0) log(`lifecycle: day ${day}: MR_TX ${Math.round(after / p.accounts)} B/account (written ${Math.round(written / p.accounts)})`);
    }
    const last = days[days.length - 1]!;
    return {
      params: p,
      writes,
      days,
      txBytesPerAccount: last.txBytesPerAccount,
      snapBytesPerAccount: last.snapBytesPerAccount,
      writtenBytesPerAccount: last.writtenBytesPerAccount,
      seconds: (now() - started) / 1000,
    };
  } finally {
    await env.stop();
  }
}
