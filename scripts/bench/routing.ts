// Request routing: every mailbox request first finds the account's record on the mailstore
// that takes it (MailstoreNode.accountRecord), by id or by name. Measured with the accounts
// the run created in the directory, against the raw baseline of a Map lookup by id.
import type { BenchEnv } from "./env.js";
import { timeLoop } from "./util.js";

export interface RoutingRow {
  lookup: string;
  accounts: number;
  usPerLookup: number;
}

export async function benchRouting(env: BenchEnv, msPerCase: number): Promise<RoutingRow[]> {
  const node = env.ms1;
  const recs = [...node.accounts.values()];
  const first = recs[0]!;
  const last = recs[recs.length - 1]!;
  const n = recs.length;
  // accountRecord is async but answers from memory when the record is known: time the
  // synchronous part by awaiting in batches.
  const timeAsync = async (key: string): Promise<number> => {
    const batch = 200;
    let ops = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < msPerCase) {
      const ps: Promise<unknown>[] = [];
      for (let i = 0; i < batch; i++) ps.push(node.accountRecord(key));
      await Promise.all(ps);
      ops += batch;
    }
    return ((performance.now() - t0) * 1000) / ops;
  };
  const byId = new Map(recs.map((r) => [r.id, r]));
  let sink = 0;
  const raw = timeLoop(
    () => {
      sink += byId.get(last.id) ? 1 : 0;
    },
    Math.min(200, msPerCase),
  );
  const rows: RoutingRow[] = [
    { lookup: "raw: Map.get by id", accounts: n, usPerLookup: raw.usPerOp },
    { lookup: "accountRecord(id), first account in the directory", accounts: n, usPerLookup: await timeAsync(first.id) },
    { lookup: "accountRecord(id), last account in the directory", accounts: n, usPerLookup: await timeAsync(last.id) },
    { lookup: "accountRecord(name), last account in the directory", accounts: n, usPerLookup: await timeAsync(last.name) },
  ];
  if (sink < 0) console.log(sink);
  return rows;
}
