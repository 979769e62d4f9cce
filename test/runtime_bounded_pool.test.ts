import { test } from "uvu";
import * as assert from "uvu/assert";
import { runBounded } from "../src/runtime/index.js";

/** Lets promise callbacks run (a worker moving on to its next item). */
const settle = () => new Promise((r) => setImmediate(r));

/**
 * A `fn` for runBounded whose calls end only when the test says so: `running` lists the items
 * under way, `started` every item in the order it started, `peak` the most under way at once.
 */
function controlled<T>() {
  const calls = new Map<T, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  const state = {
    started: [] as T[],
    peak: 0,
    get running(): T[] {
      return [...calls.keys()];
    },
    fn: (item: T): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        state.started.push(item);
        calls.set(item, { resolve, reject });
        state.peak = Math.max(state.peak, calls.size);
      }),
    async finish(item: T): Promise<void> {
      const c = calls.get(item);
      assert.ok(c, `${String(item)} is not running`);
      calls.delete(item);
      c.resolve(`done ${String(item)}`);
      await settle();
    },
    async fail(item: T, error: Error): Promise<void> {
      const c = calls.get(item);
      assert.ok(c, `${String(item)} is not running`);
      calls.delete(item);
      c.reject(error);
      await settle();
    },
  };
  return state;
}

test("bounded pool - never more than limit at once, every item runs once, results keep the items' order", async () => {
  const items = ["a", "b", "c", "d", "e", "f", "g"];
  const c = controlled<string>();
  const run = runBounded(items, 3, c.fn);
  await settle();
  assert.equal(c.running, ["a", "b", "c"], "the first `limit` items start at once, in order");
  // Finished out of order: each end frees one slot for the next item of the list.
  await c.finish("b");
  assert.equal(c.running, ["a", "c", "d"]);
  await c.finish("d");
  await c.finish("a");
  assert.equal(c.running, ["c", "e", "f"]);
  await c.finish("f");
  await c.finish("e");
  await c.finish("c");
  assert.equal(c.running, ["g"]);
  await c.finish("g");
  assert.equal(
    await run,
    items.map((i) => `done ${i}`),
  );
  assert.equal(c.started, items, "started in list order, each once");
  assert.is(c.peak, 3);
});

test("bounded pool - a limit above the item count runs them all at once; an empty list calls nothing", async () => {
  const c = controlled<number>();
  const run = runBounded([1, 2], 8, c.fn);
  await settle();
  assert.equal(c.running, [1, 2]);
  await c.finish(2);
  await c.finish(1);
  assert.equal(await run, ["done 1", "done 2"]);
  let called = false;
  assert.equal(await runBounded([], 4, async () => (called = true)), []);
  assert.is(called, false);
});

test("bounded pool - limit 1 runs the items one after another; fn gets each item's index", async () => {
  const seen: Array<[string, number]> = [];
  let running = 0;
  const out = await runBounded(["x", "y", "z"], 1, async (item, i) => {
    running++;
    assert.is(running, 1);
    seen.push([item, i]);
    await settle();
    running--;
    return i * 10;
  });
  assert.equal(seen, [
    ["x", 0],
    ["y", 1],
    ["z", 2],
  ]);
  assert.equal(out, [0, 10, 20]);
});

test("bounded pool - a call that throws: nothing more starts, the calls under way finish, then the first error is thrown", async () => {
  const c = controlled<number>();
  let settled = false;
  const run = runBounded([1, 2, 3, 4, 5], 2, c.fn).finally(() => (settled = true));
  const outcome = run.then(
    () => undefined,
    (e: unknown) => e,
  );
  await settle();
  await c.fail(1, new Error("first"));
  assert.equal(c.running, [2], "no item started after the failure");
  assert.is(settled, false, "still waiting for the call under way");
  await c.fail(2, new Error("second"));
  const e = await outcome;
  assert.instance(e, Error);
  assert.is((e as Error).message, "first");
  assert.equal(c.started, [1, 2]);
});

test("bounded pool - a synchronous throw in fn is the run's error too", async () => {
  const e = await runBounded([1], 1, (): Promise<number> => {
    throw new Error("sync");
  }).then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.is((e as Error).message, "sync");
});

test("bounded pool - stop: once it says so no item starts, those under way finish, the rest have no result", async () => {
  const c = controlled<string>();
  let stopped = false;
  const run = runBounded(["a", "b", "c", "d"], 2, c.fn, { stop: () => stopped });
  await settle();
  await c.finish("a");
  assert.equal(c.running, ["b", "c"]);
  stopped = true;
  await c.finish("c");
  assert.equal(c.running, ["b"], "nothing started after stop");
  await c.finish("b");
  assert.equal(await run, ["done a", "done b", "done c", undefined]);
  assert.equal(c.started, ["a", "b", "c"]);
});

test("bounded pool - a limit that is not a whole number of at least 1 is refused", async () => {
  for (const limit of [0, -1, 1.5, Number.NaN]) {
    const e = await runBounded([1], limit, async (x) => x).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.instance(e, RangeError, `limit ${limit}`);
  }
});

test.run();
