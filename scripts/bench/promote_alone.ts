// The contract's promotion (contract_promote.ts) alone, at a scale of choice, for profiling:
//   node dist/scripts/bench/promote_alone.js [accounts, default 1000] [threads, default: promoteAccounts' default]
// Sets up a fresh system as section 8 does (nats-server, the supervisor in this process, the
// primary `msa` and the replica `msd` in child processes), creates the accounts on msa,
// replicates them to msd, kills msa and times promoteAccounts until every account accepted
// a write. It prints the promotion's window on the monotonic clock (µs, the clock V8's CPU
// profiles are stamped with), so profiles taken with `node --cpu-prof` (this process) and
// MR_BENCH_PROFILE=<dir> (the children) can be cut to it.
import { BenchEnv } from "./env.js";
import { createAccounts, replicateTo } from "./contract_accounts.js";
import { benchPromote } from "./contract_promote.js";
import { now } from "./util.js";

const MSA = "msa.bench.example.com";
const MSD = "msd.bench.example.com";

/** performance.now() (ms) on the monotonic clock in µs. */
const hrOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
const monotonicUs = (ms: number): number => Math.round(ms * 1000 + hrOffsetUs);

const accounts = Number(process.argv[2] ?? 1_000);
const threads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
if (!Number.isInteger(accounts) || accounts < 1 || (threads !== undefined && !Number.isInteger(threads))) {
  process.stderr.write("usage: node dist/scripts/bench/promote_alone.js [accounts] [threads]\n");
  process.exit(2);
}
const log = (l: string): void => void process.stderr.write(`${l}\n`);
const env = await BenchEnv.startBare();
try {
  const msa = await env.startChild(MSA);
  const msd = await env.startChild(MSD);
  await env.startSupervisor();
  let t = now();
  const ids = await createAccounts(env, "p", accounts, MSA);
  log(`created ${accounts} accounts in ${((now() - t) / 1000).toFixed(1)} s`);
  t = now();
  await replicateTo(env, ids, msa, msd);
  log(`replicated to msd in ${((now() - t) / 1000).toFixed(1)} s`);
  const cpuBefore = await msd.stats();
  const supBefore = process.cpuUsage();
  const r = await benchPromote(env, msa, ids, log, threads);
  const cpuAfter = await msd.stats();
  const sup = process.cpuUsage(supBefore);
  process.stdout.write(
    JSON.stringify({
      ...r,
      windowUs: (r.windowMs ?? [0, 0]).map(monotonicUs),
      cpuMs: { msd: cpuAfter.cpuMs - cpuBefore.cpuMs, benchProcess: (sup.user + sup.system) / 1000 },
    }) + "\n",
  );
} finally {
  await env.stop().catch((e: Error) => log(`stop: ${e.message}`));
}
