// The cache of decrypted bodies behind getItemBody (src/blobs/body_cache.ts) and the reader
// that bounds its loads (actors/mailstore/item_body.ts), with a manual clock and loads the test settles
// itself: what is kept, for how long, within which bound, and what is refused BUSY.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { BodyCache } from "../src/blobs/body_cache.js";
import type { BlobStore } from "../src/blobs/blob_store.js";
import { ManualClock } from "../src/runtime/clock.js";
import { ItemBodyReader, maxBodyPart } from "../actors/mailstore/item_body.js";
import type { ItemDetail } from "../src/store/index.js";
import { AppError } from "../src/jsonrpc/index.js";

interface Deferred {
  promise: Promise<Uint8Array>;
  resolve(b: Uint8Array): void;
  reject(e: Error): void;
}

function deferred(): Deferred {
  let resolve!: (b: Uint8Array) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<Uint8Array>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill);

/** A load that must not happen (the body is cached, or its load shared). */
const notLoaded = (): Promise<Uint8Array> => {
  throw new Error("loaded again");
};

test("body cache - one load is shared by readers asking at once; a body kept is read again from memory", async () => {
  const clock = new ManualClock();
  const cache = new BodyCache({ maxBytes: 1000, idleMs: 30_000, clock });
  let loads = 0;
  const d = deferred();
  const load = (): Promise<Uint8Array> => {
    loads++;
    return d.promise;
  };
  const a = cache.get("b1", load, true);
  const b = cache.get("b1", load, false);
  d.resolve(bytes(100));
  const [x, y] = await Promise.all([a, b]);
  assert.is(x, y);
  assert.is(x.sha256, createHash("sha256").update(bytes(100)).digest("hex"));
  assert.is(loads, 1);
  assert.is(await cache.get("b1", load, true), x);
  assert.is(loads, 1, "served from the cache");
  assert.is(cache.bytes, 100);
});

test("body cache - bounded in bytes: the least recently read body goes first; one over the bound is read but never kept", async () => {
  const cache = new BodyCache({ maxBytes: 250, idleMs: 30_000, clock: new ManualClock() });
  const load = (n: number) => async () => bytes(n);
  await cache.get("a", load(100), true);
  await cache.get("b", load(100), true);
  await cache.get("a", load(100), true); // a read again: b is now the oldest
  await cache.get("c", load(100), true);
  assert.equal(cache.names(), ["a", "c"]);
  assert.is(cache.bytes, 200);
  const huge = await cache.get("huge", load(251), true);
  assert.is(huge.bytes.length, 251, "read");
  assert.equal(cache.names(), ["a", "c"], "not kept, and nothing dropped for it");
});

test("body cache - a body not read for idleMs is dropped; each read restarts its time", async () => {
  const clock = new ManualClock();
  const cache = new BodyCache({ maxBytes: 1000, idleMs: 30_000, clock });
  await cache.get("a", async () => bytes(10), true);
  clock.advance(20_000);
  await cache.get("a", notLoaded, true);
  clock.advance(20_000);
  assert.equal(cache.names(), ["a"], "40 s after it was loaded, 20 s after its last read");
  clock.advance(10_000);
  assert.equal(cache.names(), []);
  assert.is(cache.bytes, 0);
  assert.is(clock.pending, 0, "no timer left");
});

test("body cache - a failed load is not remembered; a body read whole (keep false) is not kept unless a reader at once wants it again", async () => {
  const cache = new BodyCache({ maxBytes: 1000, idleMs: 30_000, clock: new ManualClock() });
  const e = await cache.get("a", async () => Promise.reject(new Error("storage down")), true).catch((x: unknown) => x);
  assert.match((e as Error).message, /storage down/);
  const threw = await cache
    .get(
      "t",
      () => {
        throw new Error("at once");
      },
      true,
    )
    .catch((x: unknown) => x);
  assert.match((threw as Error).message, /at once/);
  assert.is((await cache.get("a", async () => bytes(5), true)).bytes.length, 5, "loaded again");
  assert.is((await cache.get("t", async () => bytes(6), false)).bytes.length, 6, "loaded again");
  assert.equal(cache.names(), ["a"], "t was read whole: not kept");
  const d = deferred();
  const first = cache.get("w", () => d.promise, false);
  const second = cache.get("w", notLoaded, true);
  d.resolve(bytes(3));
  await Promise.all([first, second]);
  assert.equal(cache.names(), ["a", "w"], "the second reader will come back for more");
  cache.clear();
  assert.equal(cache.names(), []);
  await cache.get("x", async () => bytes(1), true);
  assert.equal(cache.names(), [], "nothing is kept once cleared (the mailstore is stopping)");
});

function item(id: number, size: number): ItemDetail {
  return { id, folder: "Inbox", from: "", to: [], cc: [], subject: "", date: 0, size, flags: [], tags: [], folderId: 2, messageId: "", blob: `blob-${id}` };
}

test("item body reader - loads of bodies larger than one part beyond limits.maxConcurrentExpensive are refused BUSY; small ones and shared ones are not counted", async () => {
  const pending = new Map<string, Deferred>();
  const blobs = {
    get: (name: string) => {
      const d = deferred();
      pending.set(name, d);
      return d.promise;
    },
  } as unknown as BlobStore;
  const reader = new ItemBodyReader(blobs, { clock: new ManualClock(), maxMessageBytes: 1024 * 1024, maxConcurrentLoads: 1 });
  const maxPart = 1000;
  const a = reader.part(item(1, 5000), 0, maxPart, maxPart);
  const shared = reader.part(item(1, 5000), 1000, maxPart, maxPart); // joins the load of 1
  const small = reader.part(item(3, 800), 0, maxPart, maxPart); // fits in one part: never gated
  const busy = (await reader.part(item(2, 5000), 0, maxPart, maxPart).then(
    () => assert.unreachable("BUSY"),
    (e: unknown) => e,
  )) as AppError;
  assert.instance(busy, AppError);
  assert.is(busy.code, "BUSY");
  assert.match(
    busy.message,
    /limits\.maxConcurrentExpensive = 1\), so getItemBody \(loading a 5000-byte body\) was not started; retry after they end; nothing was changed/,
  );
  pending.get("blob-1")!.resolve(bytes(5000, 1));
  pending.get("blob-3")!.resolve(bytes(800, 3));
  const [pa, ps, pm] = await Promise.all([a, shared, small]);
  assert.equal([pa.offset, pa.length, pa.more, pa.nextOffset], [0, 1000, true, 1000]);
  assert.equal([ps.offset, ps.length, ps.nextOffset], [1000, 1000, 2000]);
  assert.equal([pm.length, pm.more, pm.nextOffset], [800, false, undefined]);
  assert.equal(reader.cache.names(), ["blob-1"], "the large body is kept for its next parts, the small one not");
  // The slot is free again.
  const b = reader.part(item(2, 5000), 4500, maxPart, maxPart);
  pending.get("blob-2")!.resolve(bytes(5000, 2));
  const pb = await b;
  assert.equal([pb.offset, pb.length, pb.more, Buffer.from(pb.data, "base64").equals(Buffer.from(bytes(500, 2)))], [4500, 500, false, true]);
});

test("item body reader - a part and its answer fit in one NATS message for every max_payload", () => {
  for (const maxPayload of [64 * 1024, 256 * 1024, 1024 * 1024, 8 * 1024 * 1024, 64 * 1024 * 1024]) {
    const max = maxBodyPart(maxPayload);
    assert.is(max % 3, 0, "whole base64 quads");
    const answer = {
      jsonrpc: "2.0",
      result: {
        id: Number.MAX_SAFE_INTEGER,
        offset: 536870912,
        length: max,
        size: 536870912,
        sha256: "f".repeat(64),
        data: "A".repeat((max / 3) * 4),
        more: true,
        nextOffset: 536870912,
      },
      id: "x".repeat(1024),
    };
    assert.ok(Buffer.byteLength(JSON.stringify(answer)) <= maxPayload, `${maxPayload}`);
    assert.ok(max >= (maxPayload - 16 * 1024) * 0.75 - 3072, "no more than one step below the bound");
  }
  assert.is(maxBodyPart(1024 * 1024), 756 * 1024);
});

test.run();
