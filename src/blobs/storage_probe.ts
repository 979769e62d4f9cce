// The `test` check of centralized storage: write, read back and remove a probe object. It
// goes to the object store directly, not through BlobStore: it checks that JetStream keeps
// and returns bytes, and the supervisor that runs it holds no cluster key (only mailstores
// encrypt bodies). Probe names (`probe.<random>`) never collide with body names.
import { randomBytes } from "node:crypto";
import type { ObjectStore } from "@nats-io/obj";
import { objectBytes, objectStream } from "./object_bytes.js";

export type ProbeResult =
  { ok: true; ms: number; removed: true } | { ok: true; ms: number; removed: false; name: string } | { ok: false; step: "write" | "read"; message: string };

/** Writes `bytes` random bytes, reads them back, compares, removes the object. */
export async function probeStorage(os: ObjectStore, bucket: string, opts: { bytes?: number; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const name = `probe.${randomBytes(12).toString("hex")}`;
  const probe = randomBytes(opts.bytes ?? 1024);
  const started = Date.now();
  try {
    await withDeadline(os.put({ name }, objectStream(probe)), opts.timeoutMs ?? 5_000);
  } catch (e) {
    return { ok: false, step: "write", message: message(e) };
  }
  try {
    const back = await withDeadline(objectBytes(os, name, bucket), opts.timeoutMs ?? 5_000);
    if (!back.equals(probe)) return { ok: false, step: "read", message: "the probe read back differs from what was written" };
  } catch (e) {
    return { ok: false, step: "read", message: message(e) };
  } finally {
    await os.delete(name).catch(() => {});
  }
  const info = await os.info(name).catch(() => null);
  const ms = Date.now() - started;
  return info && !info.deleted ? { ok: true, ms, removed: false, name } : { ok: true, ms, removed: true };
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  p.catch(() => {}); // after the deadline nobody waits for it
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`JetStream did not answer within ${ms} ms (no quorum, or its leader is moving)`)), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0]! : String(e);
}
