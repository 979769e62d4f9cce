// Waiting for replicas to reach their account's head, and comparing them with the primary's
// copy, for tests that keep a table of accounts and where each is replicated.
import * as assert from "uvu/assert";
import { waitFor } from "./processes.js";
import type { TestSystem } from "./system.js";

/** An account as such a test tracks it: its primary and its (possibly paused) replicas. */
export interface TrackedAccount {
  id: string;
  primary: string;
  destinations: ReadonlySet<string>;
  paused: ReadonlySet<string>;
}

/** The account's log head as the supervisor reports it. */
export async function accountHead(sys: TestSystem, name: string): Promise<number> {
  return (await sys.admin("getAccountStatus", { accounts: name })).accounts[0].sequence;
}

/** Every unpaused replica reaches its account's head within `deadlineMs` and then holds exactly what the primary holds. */
export async function replicasEqual(sys: TestSystem, accounts: ReadonlyMap<string, TrackedAccount>, deadlineMs: number): Promise<void> {
  const store = (host: string) => sys.inProcess.get(host)!.store;
  for (const [name, a] of accounts) {
    const target = await accountHead(sys, name);
    for (const d of a.destinations) {
      if (a.paused.has(d)) continue;
      await waitFor(`${name} applied on ${d} up to ${target}`, () => (store(d).replicaState(a.id)?.appliedSeq ?? 0) >= target, deadlineMs, 20);
      assert.equal(store(d).dumpAccount(a.id), store(a.primary).dumpAccount(a.id), `${name} on ${d} equals its primary`);
    }
  }
}
