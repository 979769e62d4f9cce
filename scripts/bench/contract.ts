// The benchmark contract of issue 11 (docs/benchmarks.md, "The contract keys"): the figures
// measured on a system of their own (a fresh nats-server, the supervisor in this process,
// every mailstore whose cost is measured in a child process), so that no other mailstore's
// agent reads the log meanwhile. In order:
//   1. msa: primary of 1,000 accounts (one item each), replicated to msd;
//      raw publish baseline, e2e writes, then the lag at half the e2e rate;
//   2. msa killed, promoteAccounts: promote_1k_s;
//   3. msb: primary of 10,000 accounts, replicated to msd; its RSS; killed, promoted: promote_10k_s;
//   4. msp (in this process): an account of 100,000 items; mss added as its replica: seed_100k_items_s.
import { BenchEnv } from "./env.js";
import { createAccounts, deliverOne, replicateTo } from "./contract_accounts.js";
import {
  benchContractLag,
  benchE2e,
  benchRawPublish,
  setFlagsEntryBytes,
  type ContractLagResult,
  type E2eResult,
  type RawPublishResult,
} from "./contract_writes.js";
import { benchPromote, type PromoteResult } from "./contract_promote.js";
import { benchSeed, type SeedResult } from "./contract_seed.js";
import { now } from "./util.js";

const MSA = "msa.bench.example.com";
const MSB = "msb.bench.example.com";
const MSD = "msd.bench.example.com";
const MSP = "msp.bench.example.com";
const MSS = "mss.bench.example.com";

export interface ContractParams {
  /** seconds the e2e clients (and the raw publishers) write */
  e2eSeconds: number;
  /** seconds of the open-loop load the lag is measured under */
  lagSeconds: number;
}

/** The scales the contract's key names state (issue 11): not parameters of a run. */
export const CONTRACT_SCALE = { e2eAccounts: 1_000, clients: 64, promoteSmall: 1_000, promoteLarge: 10_000, seedItems: 100_000 } as const;

export interface ContractResult {
  rawPublish: RawPublishResult;
  e2e: E2eResult;
  lag: ContractLagResult;
  promote1k: PromoteResult;
  promote10k: PromoteResult;
  /** the 10,000-account primary (its own process, after full GCs), before it was killed */
  memory10k: { accounts: number; idleRssMb: number; rssMb: number; heapUsedMb: number };
  seed: SeedResult;
  /** seconds each setup step took (not part of any figure) */
  setupSeconds: Record<string, number>;
}

const mb = (b: number): number => b / 1024 / 1024;

export async function benchContract(p: ContractParams, log: (l: string) => void): Promise<ContractResult> {
  const setupSeconds: Record<string, number> = {};
  const step = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = now();
    const r = await f();
    setupSeconds[name] = (now() - t0) / 1000;
    log(`contract: ${name} took ${setupSeconds[name]!.toFixed(1)} s`);
    return r;
  };
  const env = await BenchEnv.startBare();
  try {
    const { msa, msd } = await step("start nats-server, supervisor, msa, msd", async () => {
      // The primary starts first, so the destination knows its key when it reads its entries.
      const msa = await env.startChild(MSA);
      const msd = await env.startChild(MSD);
      await env.startSupervisor();
      return { msa, msd };
    });
    const n1 = CONTRACT_SCALE.e2eAccounts;
    const ids1 = await step(`create ${n1} accounts on msa`, () => createAccounts(env, "e2e", n1, MSA));
    const items1 = await step(`deliver one message to each of the ${n1}`, () => deliverOne(env, ids1));
    await step(`replicate the ${n1} to msd`, () => replicateTo(env, ids1, msa, msd));
    const accounts = { primary: msa, replica: msd, ids: ids1, itemIds: items1 };

    const payloadBytes = setFlagsEntryBytes(env, MSA, ids1[0]!, items1[0]!);
    log(`contract: raw publish of ${payloadBytes} B payloads, ${CONTRACT_SCALE.clients} publishers`);
    const rawPublish = await benchRawPublish(env, payloadBytes, CONTRACT_SCALE.clients, n1, p.e2eSeconds);
    const e2e = await benchE2e(env, accounts, CONTRACT_SCALE.clients, p.e2eSeconds, log);
    const lag = await benchContractLag(env, accounts, e2e.txPerSec / 2, p.lagSeconds, log);
    const promote1k = await benchPromote(env, msa, ids1, log);

    const n2 = CONTRACT_SCALE.promoteLarge;
    const msb = await env.startChild(MSB);
    const idle = await msb.stats(true);
    const ids2 = await step(`create ${n2} accounts on msb`, () => createAccounts(env, "big", n2, MSB));
    await step(`replicate the ${n2} to msd`, () => replicateTo(env, ids2, msb, msd));
    const loaded = await msb.stats(true);
    const memory10k = { accounts: n2, idleRssMb: mb(idle.mem.rss), rssMb: mb(loaded.mem.rss), heapUsedMb: mb(loaded.mem.heapUsed) };
    log(`contract: msb RSS ${memory10k.idleRssMb.toFixed(1)} MiB idle, ${memory10k.rssMb.toFixed(1)} MiB with ${n2} accounts`);
    const promote10k = await benchPromote(env, msb, ids2, log);

    const seed = await benchSeed(env, MSP, MSS, CONTRACT_SCALE.seedItems, log);
    setupSeconds[`deliver ${CONTRACT_SCALE.seedItems} items to one account on msp`] = seed.setupS;
    return { rawPublish, e2e, lag, promote1k, promote10k, memory10k, seed, setupSeconds };
  } finally {
    await env.stop().catch((e) => log(`contract: stop: ${(e as Error).message}`));
  }
}
