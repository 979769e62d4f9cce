// Section 2b: would worker threads pay for opening log entries in a catch-up (issue 11, "worker
// threads where they pay off: measure")? N sealed one-event entries (the catch-up's common case)
// are opened (ed25519 verification, secretbox, msgpack) on the main thread, then by a pool of 1
// and of 2 worker threads in runs of 256 (how the catch-up reads), the opened payloads cloned
// back. CPU only, nothing else of the benchmark running; on a 2-core machine the pool shares the
// cores with nats-server and the applying thread in a real catch-up.
import { Worker } from "node:worker_threads";
import { open, seal, type EnvelopeKeyring } from "../../src/envelope/index.js";
import type { TxBatch } from "../../src/mail/index.js";
import { now } from "./util.js";

export interface OpenWorkersRow {
  /** "main thread" or "N workers" */
  how: string;
  entries: number;
  ms: number;
  entriesPerS: number;
  /** entriesPerS ÷ the main thread's */
  vsMain: number;
}

const RUN = 256;

function sealedEntries(keyring: EnvelopeKeyring, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const b: TxBatch = {
      v: 1,
      account: "6f1c0d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f",
      epoch: 1,
      writer: keyring.signerId,
      at: 1_732_442_400_000 + i,
      prev: i,
      events: [{ t: "flags.set", ids: [1000 + i], flags: ["seen"], tags: [] }],
    };
    out.push(seal(keyring, b));
  }
  return out;
}

async function withPool(size: number, keysDir: string, host: string, entries: Uint8Array[]): Promise<number> {
  const workers = Array.from({ length: size }, () => new Worker(new URL("./open_worker.js", import.meta.url), { workerData: { keysDir, host } }));
  // Started and keyring loaded before the clock starts: a pool would be kept for the process.
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((r) => {
          w.once("message", () => r());
          w.postMessage({ id: -1, entries: [] });
        }),
    ),
  );
  const runs: Uint8Array[][] = [];
  for (let i = 0; i < entries.length; i += RUN) runs.push(entries.slice(i, i + RUN));
  const t = now();
  let next = 0;
  let opened = 0;
  await Promise.all(
    workers.map(async (w) => {
      while (next < runs.length) {
        const id = next++;
        const reply = await new Promise<{ opened: unknown[] }>((r) => {
          w.once("message", r);
          w.postMessage({ id, entries: runs[id] });
        });
        opened += reply.opened.length;
      }
    }),
  );
  const ms = now() - t;
  if (opened !== entries.length) throw new Error(`open pool: ${opened} of ${entries.length} entries opened`);
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

export async function benchOpenWorkers(keyring: EnvelopeKeyring, keysDir: string, n: number): Promise<OpenWorkersRow[]> {
  const entries = sealedEntries(keyring, n);
  // Warm the main thread's path the same way the workers are warmed.
  for (const e of entries.slice(0, 200)) open(keyring, e);
  let t = now();
  for (const e of entries) open(keyring, e);
  const mainMs = now() - t;
  const mainRate = n / (mainMs / 1000);
  const rows: OpenWorkersRow[] = [{ how: "main thread", entries: n, ms: mainMs, entriesPerS: mainRate, vsMain: 1 }];
  for (const size of [1, 2]) {
    t = now();
    const ms = await withPool(size, keysDir, keyring.signerId, entries);
    const rate = n / (ms / 1000);
    rows.push({ how: `${size} worker${size > 1 ? "s" : ""}`, entries: n, ms, entriesPerS: rate, vsMain: rate / mainRate });
  }
  return rows;
}
