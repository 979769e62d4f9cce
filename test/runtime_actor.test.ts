import { test } from "uvu";
import * as assert from "uvu/assert";
import { ActorStoppedError, ActorSystem, AskTimeoutError, MailboxFullError, ManualClock, type SupervisionEvent } from "../src/runtime/index.js";

const tick = () => new Promise((r) => setImmediate(r));

test("runtime - an actor handles its messages one at a time, in order", async () => {
  const sys = new ActorSystem();
  const seen: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const ref = sys.spawn<number, number>("ordered", {
    producer: () => ({
      async receive(n) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, n % 3)); // uneven work must not reorder
        seen.push(n);
        inFlight--;
        return n * 2;
      },
    }),
  });
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => ref.ask(i)));
  assert.equal(
    seen,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(
    replies,
    Array.from({ length: 50 }, (_, i) => i * 2),
  );
  assert.is(maxInFlight, 1);
  await sys.shutdown();
});

test("runtime - ask rejects with AskTimeoutError when no reply comes in time", async () => {
  const clock = new ManualClock();
  const sys = new ActorSystem({ clock });
  const ref = sys.spawn<string, string>("slow", {
    producer: () => ({ receive: () => new Promise<string>(() => {}) }),
  });
  const p = ref.ask("hi", 250);
  await tick();
  clock.advance(249);
  let settled = false;
  p.catch(() => (settled = true));
  await tick();
  assert.not.ok(settled, "must not time out early");
  clock.advance(1);
  const err = await p.catch((e) => e);
  assert.instance(err, AskTimeoutError);
  assert.is(err.code, "ASK_TIMEOUT");
  // The message is still being handled: a stop waits for it, but only up to its bound.
  let stopped = false;
  const stopping = sys.stop(ref, 1_000).then(() => (stopped = true));
  await tick();
  assert.not.ok(stopped, "the stop waits for the message being handled");
  clock.advance(1_000);
  await stopping;
});

test("runtime - a full mailbox refuses with MailboxFullError and queues nothing more", async () => {
  const sys = new ActorSystem();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const handled: number[] = [];
  const ref = sys.spawn<number, void>("bounded", {
    mailboxCapacity: 3,
    producer: () => ({
      async receive(n) {
        await gate;
        handled.push(n);
      },
    }),
  });
  ref.tell(0);
  await tick(); // 0 is being handled, mailbox empty
  ref.tell(1);
  ref.tell(2);
  ref.tell(3);
  assert.throws(
    () => ref.tell(4),
    (e: unknown) => e instanceof MailboxFullError && (e as MailboxFullError).code === "MAILBOX_FULL",
  );
  const viaAsk = await ref.ask(5).catch((e) => e);
  assert.instance(viaAsk, MailboxFullError);
  release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(handled, [0, 1, 2, 3]);
  await sys.shutdown();
});

test("runtime - a crashing actor is restarted with backoff, its mailbox kept, its state fresh", async () => {
  const clock = new ManualClock();
  const sys = new ActorSystem({ clock });
  const events: SupervisionEvent[] = [];
  sys.onEvent((e) => events.push(e));
  let instances = 0;
  const ref = sys.spawn<string, number>("crashy", {
    supervisor: { maxRestarts: 3, withinMs: 1_000, minBackoffMs: 100, maxBackoffMs: 1_000 },
    producer: () => {
      instances++;
      let count = 0;
      return {
        receive(m) {
          if (m === "boom") throw new Error("boom");
          return ++count;
        },
      };
    },
  });
  assert.is(await ref.ask("a"), 1);
  assert.is(await ref.ask("a"), 2);
  const err = await ref.ask("boom").catch((e) => e);
  assert.is(err.message, "boom");
  const after = ref.ask("a"); // queued while restarting
  await tick();
  assert.is(instances, 1, "restart waits for the backoff");
  clock.advance(100);
  assert.is(await after, 1, "new instance starts from fresh state");
  assert.is(instances, 2);
  const kinds = events.filter((e) => e.actor === ref.path).map((e) => e.kind);
  assert.ok(kinds.includes("failed") && kinds.includes("restarted"));
  await sys.shutdown();
});

test("runtime - more than N restarts within the window escalates to the parent; siblings keep running", async () => {
  const clock = new ManualClock();
  const sys = new ActorSystem({ clock });
  const events: SupervisionEvent[] = [];
  sys.onEvent((e) => events.push(e));
  let parentStarts = 0;
  type ParentMsg = { kind: "child" | "sibling"; body: string };
  const parent = sys.spawn<ParentMsg, unknown>("parent", {
    supervisor: { maxRestarts: 1, withinMs: 10_000, minBackoffMs: 5 },
    producer: () => {
      let child: ReturnType<typeof spawnChild> | undefined;
      function spawnChild(ctx: Parameters<NonNullable<import("../src/runtime/index.js").Actor["preStart"]>>[0]) {
        return ctx.spawn<string, string>("child", {
          supervisor: { maxRestarts: 2, withinMs: 10_000, minBackoffMs: 5 },
          producer: () => ({
            receive(m) {
              if (m === "boom") throw new Error("child boom");
              return "child ok";
            },
          }),
        });
      }
      return {
        preStart(ctx) {
          parentStarts++;
          child = spawnChild(ctx);
        },
        receive(m: ParentMsg) {
          // The parent itself does not fail when its child does.
          return m.kind === "child" ? child!.ask(m.body).catch((e: Error) => `child failed: ${e.message}`) : "parent ok";
        },
      };
    },
  });
  const sibling = sys.spawn<string, string>("sibling", { producer: () => ({ receive: () => "sibling ok" }) });
  await tick();
  assert.is(parentStarts, 1);
  // Three failures: two restarts allowed, the third escalates to the parent, which restarts.
  for (let i = 0; i < 3; i++) {
    await parent.ask({ kind: "child", body: "boom" }).catch(() => {});
    await tick();
    clock.advance(50);
    await tick();
  }
  assert.ok(
    events.some((e) => e.actor === "/mr/parent/child" && e.kind === "escalated"),
    "child escalated",
  );
  assert.ok(
    events.some((e) => e.actor === "/mr/parent" && e.kind === "restarted"),
    "parent restarted",
  );
  assert.is(parentStarts, 2);
  assert.is(await parent.ask({ kind: "child", body: "hi" }), "child ok", "the restarted parent has a fresh child");
  assert.is(await sibling.ask("x"), "sibling ok", "a sibling is untouched");
  assert.is(sys.escalations.length, 0);
  await sys.shutdown();
});

test("runtime - a top-level actor that escalates is stopped and recorded; others run on", async () => {
  const clock = new ManualClock();
  const sys = new ActorSystem({ clock });
  const bad = sys.spawn<string, string>("bad", {
    supervisor: { maxRestarts: 0 },
    producer: () => ({
      receive() {
        throw new Error("always");
      },
    }),
  });
  const good = sys.spawn<string, string>("good", { producer: () => ({ receive: (m) => m }) });
  await bad.ask("x").catch(() => {});
  await tick();
  assert.is(sys.escalations.length, 1);
  assert.is(sys.escalations[0]!.actor, "/mr/bad");
  const err = await bad.ask("y").catch((e) => e);
  assert.instance(err, ActorStoppedError);
  assert.is(await good.ask("still here"), "still here");
  await sys.shutdown();
});

test("runtime - the decider can resume: the instance and its state survive an expected error", async () => {
  const sys = new ActorSystem();
  class Refused extends Error {}
  const ref = sys.spawn<number, number>("resumer", {
    supervisor: { decider: (e) => (e instanceof Refused ? "resume" : "restart") },
    producer: () => {
      let total = 0;
      return {
        receive(n) {
          if (n < 0) throw new Refused("negative");
          return (total += n);
        },
      };
    },
  });
  assert.is(await ref.ask(5), 5);
  assert.instance(await ref.ask(-1).catch((e) => e), Refused);
  assert.is(await ref.ask(5), 10);
  await sys.shutdown();
});

test("runtime - receiveBatch gets every queued message at once and replies to each", async () => {
  const sys = new ActorSystem();
  const sizes: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ref = sys.spawn<number, number>("batcher", {
    maxBatch: 100,
    producer: () => ({
      async receiveBatch(ms) {
        sizes.push(ms.length);
        if (sizes.length === 1) await gate;
        return ms.map((m) => (m % 7 === 0 ? { ok: false as const, error: new Error(`bad ${m}`) } : { ok: true as const, value: m + 1 }));
      },
    }),
  });
  const first = ref.ask(1);
  await tick();
  const rest = Array.from({ length: 250 }, (_, i) =>
    ref.ask(i + 2).then(
      (v) => v,
      (e: Error) => e.message,
    ),
  );
  release();
  assert.is(await first, 2);
  const out = await Promise.all(rest);
  assert.equal(sizes, [1, 100, 100, 50]);
  assert.is(out[5], "bad 7");
  assert.is(out[0], 3);
  await sys.shutdown();
});

test.run();
