// Seeding a replica of a large account (issue 11, seed_100k_items_s): an account holding N
// items gets a replica on a mailstore that had none (setAccountDestination); the figure is
// the time from that call until the replica holds the account available at the log head.
//
// Setting up: the items are delivered as deliverMessage commands to the account actor of a
// mailstore in this process, 64 at a time (an MTA delivering to one busy mailbox), all naming
// the body of one real delivery (bodies are in the central blob store: a replica never copies
// them, so seeding does not depend on them). Group commit puts about as many deliveries in one
// log entry as there are callers, so the log holds about N / 64 entries, each with that many
// message.delivered events: the entries count is reported with the figure.
//
// Then the primary snapshots the account (snapshotAccounts, as its snapshot policy does by
// itself after snapshots.everyEntries entries or snapshots.everyMs), and the replica seeds from
// that snapshot plus the (empty) tail: the time to take the snapshot is reported apart.
import type { MailCommand, MailResult } from "../../src/mail/index.js";
import type { ActorRef } from "../../src/runtime/types.js";
import { runBounded } from "../../src/runtime/bounded_pool.js";
import type { BenchEnv } from "./env.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { now, waitFor } from "./util.js";

const DELIVERERS = 64;

export interface SeedResult {
  items: number;
  /** log entries of the account (its creation and the first delivery included) */
  entries: number;
  /** seconds the setup took (deliveries through the actor) */
  setupS: number;
  /** snapshotAccounts of the account on its primary, before the replica is added */
  snapshotS: number;
  /** from setAccountDestination until the replica was available at the head: seed_<N>_items_s */
  seedS: number;
}

export async function benchSeed(env: BenchEnv, primaryHost: string, replicaHost: string, items: number, log: (l: string) => void): Promise<SeedResult> {
  const primary = await env.startInProcess(primaryHost);
  const name = "seed@bench.example.com";
  const { id } = await env.mailbox<{ id: string }>("createAccount", { name, mailHost: primaryHost });
  const raw = `From: a@example.org\r\nTo: ${name}\r\nSubject: seed\r\nMessage-ID: <seed0@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nbody of the seeded account's messages\r\n`;
  const first = await env.mailbox<{ blob: string; size: number }>("deliverMessage", { account: id, raw });
  const actor: ActorRef<MailCommand, MailResult> = primary.accountActor(await primary.accountRecord(id));
  const t0 = now();
  const date = Date.parse("2026-11-24T10:00:00Z");
  await runBounded([...Array(items - 1).keys()], DELIVERERS, async (i) => {
    const message = {
      messageId: `<seed${i + 1}@example.org>`,
      from: `sender${i % 97}@example.org`,
      to: [name],
      cc: [],
      subject: `message ${i + 1}`,
      date: date + i,
      size: first.size,
      blob: first.blob,
    };
    await actor.ask({ op: "deliverMessage", folder: "Inbox", flags: [], message }, env.config.writes.askTimeoutMs);
  });
  const setupS = (now() - t0) / 1000;
  const head = primary.store.replicaState(id)!.appliedSeq;
  const entries = await env.subjectCount(txSubject(id));
  log(`seed: ${items} items in ${entries} log entries, set up in ${setupS.toFixed(1)} s; starting ${replicaHost}`);

  const ts = now();
  const snap = await env.admin<{ failed: number; accounts: Array<{ sequence: number | null; bytes: number | null }> }>("snapshotAccounts", { accounts: [id] });
  if (snap.failed > 0 || snap.accounts[0]?.sequence !== head) throw new Error(`seed: the snapshot was not taken at the head: ${JSON.stringify(snap)}`);
  const snapshotS = (now() - ts) / 1000;
  log(`seed: snapshot at seq ${head} (${snap.accounts[0]?.bytes} bytes sealed) in ${snapshotS.toFixed(2)} s`);

  const replica = await env.startChild(replicaHost);
  const t1 = now();
  await env.admin("setAccountDestination", { destination: replicaHost, priority: 1, accounts: [id] });
  await waitFor(
    `${replicaHost} to hold the account available at seq ${head}`,
    async () => {
      const [s] = await replica.states([id]);
      return s?.status === "available" && s.appliedSeq >= head;
    },
    600_000,
    10,
  );
  const seedS = (now() - t1) / 1000;
  log(`seed: replica available at the head ${seedS.toFixed(2)} s after setAccountDestination`);
  return { items, entries, setupS, snapshotS, seedS };
}
