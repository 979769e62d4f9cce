// The system the fuzzer attacks: one nats-server, three mailstores and a supervisor in this
// process (so their method tables can be read and every log line seen), a few accounts with
// a replica each, and one account kept out of the fuzzer's values for the final check.
import { rpcCall, type ParamSpecs, type RpcMethod } from "../../../src/jsonrpc/index.js";
import { directoryRequestMethods } from "../../../actors/supervisor/directory_request_methods.js";
import { directoryRequestSubject } from "../../../actors/shared/directory_requests.js";
import { adminMethods } from "../../../actors/supervisor/admin_methods.js";
import { mailboxMethods } from "../../../actors/mailstore/mailbox_methods.js";
import { nodeMethods } from "../../../actors/mailstore/node_methods.js";
import { MAILBOX_SUBJECT, nodeAdminSubject, nodeMailboxSubject } from "../../../actors/mailstore/node.js";
import { rawMessage, TestSystem } from "../system.js";
import { defaultConfig } from "../../../config/defaults.js";
import { waitFor } from "../processes.js";
import { errorCode } from "../workload.js";
import type { FuzzTarget } from "./cases.js";
import type { FuzzPool } from "./values.js";

export const FUZZ_HOSTS = ["ms1.example.com", "ms2.example.com", "ms3.example.com"] as const;
/** The account of the final check; its name and id are never among the fuzzer's values. */
export const FINAL_ACCOUNT = "final-check@example.org";

function described<C>(methods: Iterable<RpcMethod<C>>): FuzzTarget["methods"] {
  return [...methods]
    .map((m) => ({ name: m.name, params: ((m as { params?: ParamSpecs }).params ?? {}) as ParamSpecs }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface FuzzSystem {
  sys: TestSystem;
  /** every subject served, in a fixed order (the case generator picks by position) */
  targets: FuzzTarget[];
  pool: FuzzPool;
}

async function waitOperation(sys: TestSystem, operationId: string): Promise<void> {
  const op = await waitFor(
    `operation ${operationId} to end`,
    async () => {
      const m = await sys.admin("monitor", { operation_uuid: operationId });
      return m.state !== "running" ? m : undefined;
    },
    60_000,
    100,
  );
  if (op.state !== "successful") throw new Error(`set-up operation ${operationId} ended ${op.state}: ${JSON.stringify(op).slice(0, 500)}`);
}

/** Starts the system and gives it accounts, messages, folders and replicas. */
export async function startFuzzSystem(log: (line: string) => void): Promise<FuzzSystem> {
  const sys = await TestSystem.start({
    hosts: [...FUZZ_HOSTS],
    log,
    // The shipped defaults, not the tests' short lease: under the fuzzer's load on a busy
    // machine a 2 s lease lapsed now and then, and mr.rpc.admin had no responder meanwhile.
    config: (c) => {
      const d = defaultConfig();
      c.node.heartbeatMs = d.node.heartbeatMs;
      c.node.heartbeatTtlMs = d.node.heartbeatTtlMs;
      c.supervisor.leaseTtlMs = d.supervisor.leaseTtlMs;
    },
  });
  for (const h of FUZZ_HOSTS) await sys.startMailstore(h);
  const sup = await sys.startSupervisor();
  // The supervisor answers admin calls once it holds the lease.
  await waitFor("the supervisor to answer", async () => (await sys.admin("getServices").catch(() => undefined)) !== undefined, 30_000, 100);
  const accountNames: string[] = [];
  const accountIds: string[] = [];
  const operationIds: string[] = [];
  const itemIds = new Set<number>([1, 2, 3]);
  const names = FUZZ_HOSTS.map((_, i) => `fuzz${i + 1}@example.com`);
  for (const [i, name] of [...names, FINAL_ACCOUNT].entries()) {
    const host = FUZZ_HOSTS[i % FUZZ_HOSTS.length]!;
    const acct = await sys.mailbox("createAccount", { name, mailHost: host });
    await sys.mailbox("createFolder", { account: name, path: "Archive" });
    for (let n = 0; n < 3; n++) {
      const r = await sys.mailbox("deliverMessage", { account: name, raw: rawMessage(n), flags: n === 0 ? ["seen"] : [] });
      if (typeof r?.id === "number") itemIds.add(r.id);
    }
    const set = await sys.admin("setAccountDestination", { destination: FUZZ_HOSTS[(i + 1) % FUZZ_HOSTS.length], priority: 10, accounts: [name] });
    await waitOperation(sys, set.operationId);
    if (name !== FINAL_ACCOUNT) {
      accountNames.push(name);
      accountIds.push(acct.id);
      operationIds.push(set.operationId);
    }
  }
  const ms = sys.inProcess.get(FUZZ_HOSTS[0])!;
  const targets: FuzzTarget[] = [
    { subject: "mr.rpc.admin", methods: described(adminMethods(sup).values()) },
    { subject: MAILBOX_SUBJECT, methods: described(mailboxMethods(ms).routing.values()) },
  ];
  for (const h of FUZZ_HOSTS) {
    const node = sys.inProcess.get(h)!;
    targets.push({ subject: nodeAdminSubject(h), methods: described(nodeMethods(node).values()) });
    targets.push({ subject: nodeMailboxSubject(h), methods: described(mailboxMethods(node).local.values()) });
    // What a mailstore asks of the supervisors (only its own host's subject, under auth).
    targets.push({ subject: directoryRequestSubject(h), methods: described(directoryRequestMethods(sup).values()) });
  }
  const pool: FuzzPool = {
    accountNames,
    accountIds,
    hosts: [...FUZZ_HOSTS],
    folders: ["Inbox", "Archive", "Sent", "Trash", "Archive/2026"],
    operationIds,
    itemIds: [...itemIds].sort((a, b) => a - b),
    natsUrl: sys.nats.url,
  };
  return { sys, targets, pool };
}

const TRANSIENT = new Set(["NOT_PRIMARY", "OVERLOADED", "UNAVAILABLE", "TIMEOUT", "FENCED", "NO_RESPONDER", "NOT_SUPERVISOR", "DIRECTORY_CONFLICT"]);

/** Retries `call` while it fails with a code that means "not now" (a promotion the fuzzer started is still moving the account). */
async function settled<T>(what: string, call: () => Promise<T>): Promise<T> {
  let last: unknown;
  const r = await waitFor(
    what,
    async () => {
      try {
        return { value: await call() };
      } catch (e) {
        last = e;
        if (TRANSIENT.has(errorCode(e))) return undefined;
        throw e;
      }
    },
    120_000,
    200,
  ).catch((e: Error) => {
    throw new Error(`${e.message}${last ? ` (last: ${errorCode(last)} ${(last as Error).message})` : ""}`);
  });
  return r.value;
}

/**
 * After the fuzzing: the services the fuzzer may have stopped are started again (as an
 * operator would), then a normal write to the final account must be acknowledged and reach
 * its replica. Throws, saying what failed.
 */
export async function finalCheck(f: FuzzSystem): Promise<string> {
  const { sys } = f;
  for (const h of FUZZ_HOSTS)
    await settled(`the module on ${h} to start`, () => rpcCall(sys.nc, nodeAdminSubject(h), "serviceStart", { service_name: "module" }, { timeoutMs: 30_000 }));
  const sup = sys.supervisor!;
  let rec = (await sup.directory.get(FINAL_ACCOUNT)).value;
  if (rec.replicas.length === 0) {
    const dest = FUZZ_HOSTS.find((h) => h !== rec.mailHost)!;
    const set = await settled("setAccountDestination", () =>
      sys.admin("setAccountDestination", { destination: dest, priority: 10, accounts: [FINAL_ACCOUNT] }),
    );
    await waitOperation(sys, set.operationId);
  } else {
    await settled("restartReplicas", () => sys.admin("restartReplicas", { accounts: [FINAL_ACCOUNT] }));
  }
  const written = await settled("deliverMessage to the final account", () =>
    sys.mailbox("deliverMessage", { account: FINAL_ACCOUNT, raw: rawMessage(424242), requestId: "fuzz-final-check" }),
  );
  rec = (await sup.directory.get(FINAL_ACCOUNT)).value;
  const primary = sys.inProcess.get(rec.mailHost)!.store;
  const dests = rec.replicas.map((r) => r.destination);
  for (const d of dests) {
    const replica = sys.inProcess.get(d)!.store;
    await waitFor(
      `the final write to reach the replica on ${d}`,
      () => {
        const a = JSON.stringify(primary.dumpAccount(rec.id));
        return a.includes("message 424242") && a === JSON.stringify(replica.dumpAccount(rec.id));
      },
      120_000,
      100,
    );
  }
  return `final write ${JSON.stringify(written).slice(0, 80)} acknowledged by ${rec.mailHost} and replicated to ${dests.join(", ")}`;
}
