import { test } from "uvu";
import * as assert from "uvu/assert";
import { Slots } from "../src/runtime/index.js";

/** Lets promise callbacks run (a waiter taking the slot it was handed). */
const settle = () => new Promise((r) => setImmediate(r));

/** A call that ends when the test says so. */
function gate(): { promise: Promise<string>; open: (v: string) => void; fail: (e: Error) => void } {
  let open!: (v: string) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

test("slots - at most `limit` calls under way; the others start in the order they came, each as one ends", async () => {
  const slots = new Slots(2);
  const gates = [gate(), gate(), gate(), gate()];
  const started: number[] = [];
  const results = gates.map((g, i) =>
    slots.run(() => {
      started.push(i);
      return g.promise;
    }),
  );
  await settle();
  assert.equal(started, [0, 1]);
  assert.is(slots.busy, 2);
  assert.is(slots.waiting, 2);
  gates[1]!.open("one");
  assert.is(await results[1], "one");
  await settle();
  assert.equal(started, [0, 1, 2]);
  assert.is(slots.busy, 2);
  const zero = results[0]!.then(
    () => "resolved",
    (e: Error) => e.message,
  );
  gates[0]!.fail(new Error("zero failed"));
  assert.is(await zero, "zero failed");
  await settle();
  // A call that throws frees its slot too.
  assert.equal(started, [0, 1, 2, 3]);
  gates[2]!.open("two");
  gates[3]!.open("three");
  assert.equal(await Promise.all([results[2], results[3]]), ["two", "three"]);
  assert.is(slots.busy, 0);
  assert.is(slots.waiting, 0);
});

test("slots - a freed slot goes to a waiter before any newcomer", async () => {
  const slots = new Slots(1);
  const first = gate();
  const order: string[] = [];
  const a = slots.run(() => first.promise);
  const b = slots.run(async () => void order.push("waiter"));
  first.open("a");
  await a;
  // Asked after the slot was handed over, before the waiter ran.
  const c = slots.run(async () => void order.push("newcomer"));
  await Promise.all([b, c]);
  assert.equal(order, ["waiter", "newcomer"]);
});

test("slots - a limit that is not a positive integer is refused", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new Slots(bad), /limit must be an integer of at least 1/);
});

test.run();
