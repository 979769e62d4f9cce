import { test } from "uvu";
import * as assert from "uvu/assert";
import { ManualClock, PeriodicTask } from "../src/runtime/index.js";

/** Lets promise callbacks (the round's end, its catch and finally) run. */
const settle = () => new Promise((r) => setImmediate(r));

test("periodic task - a round runs every everyMs, a slow round delays the next instead of overlapping", async () => {
  const clock = new ManualClock();
  let started = 0;
  let running = 0;
  let maxRunning = 0;
  let finish: (() => void) | undefined;
  const task = new PeriodicTask(
    clock,
    1_000,
    async () => {
      started++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => (finish = r));
      running--;
    },
    () => {},
  );
  task.start();
  task.start(); // a second start adds no second timer
  assert.is(clock.pending, 1);
  clock.advance(999);
  assert.is(started, 0);
  clock.advance(1);
  assert.is(started, 1);
  clock.advance(5_000); // the round is still under way: nothing else starts
  assert.is(started, 1);
  finish!();
  await settle();
  clock.advance(1_000);
  assert.is(started, 2);
  assert.is(maxRunning, 1);
  task.stop();
  finish!();
  await settle();
  clock.advance(10_000);
  assert.is(started, 2, "no round after stop");
  assert.is(clock.pending, 0);
});

test("periodic task - a failed round is reported and the next one still runs", async () => {
  const clock = new ManualClock();
  const errors: string[] = [];
  let n = 0;
  const task = new PeriodicTask(
    clock,
    100,
    async () => {
      n++;
      if (n === 1) throw new Error("first round broke");
    },
    (e) => errors.push(e.message),
  );
  task.start();
  clock.advance(100);
  await settle();
  assert.equal(errors, ["first round broke"]);
  clock.advance(100);
  await settle();
  assert.is(n, 2);
  task.stop();
});

test.run();
