import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ActorSystem, NoResponderError, RemoteActorError, remoteRef, serveActor } from "../src/runtime/index.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";

let server: NatsNode;
let a: NatsConnection;
let b: NatsConnection;

test.before(async () => {
  server = await startNatsServer();
  a = await connect({ servers: server.url });
  b = await connect({ servers: server.url });
});
test.after(async () => {
  await a?.close();
  await b?.close();
  await server?.stop();
});

class Refusal extends Error {
  readonly code = "NOT_ALLOWED";
  readonly data = { why: "odd" };
}

test("runtime remote - ask across two connections reaches the actor and keeps order", async () => {
  const sys = new ActorSystem();
  const seen: number[] = [];
  const ref = sys.spawn<{ n: number }, { doubled: number }>("doubler", {
    producer: () => ({
      receive({ n }) {
        seen.push(n);
        return { doubled: n * 2 };
      },
    }),
  });
  const sub = serveActor(a, "rt.doubler", ref);
  await a.flush();
  const remote = remoteRef<{ n: number }, { doubled: number }>(b, "rt.doubler");
  for (let i = 0; i < 20; i++) assert.equal(await remote.ask({ n: i }), { doubled: i * 2 });
  assert.equal(
    seen,
    Array.from({ length: 20 }, (_, i) => i),
  );
  sub.unsubscribe();
  await sys.shutdown();
});

test("runtime remote - a typed error comes back with its code and data", async () => {
  const sys = new ActorSystem();
  const ref = sys.spawn<number, number>("picky", {
    supervisor: { decider: () => "resume" },
    producer: () => ({
      receive(n) {
        if (n % 2) throw new Refusal(`odd numbers are refused: ${n}`);
        return n;
      },
    }),
  });
  const sub = serveActor(a, "rt.picky", ref);
  await a.flush();
  const remote = remoteRef<number, number>(b, "rt.picky");
  const err = await remote.ask(3).catch((e) => e);
  assert.instance(err, RemoteActorError);
  assert.is(err.code, "NOT_ALLOWED");
  assert.equal(err.details, { why: "odd" });
  assert.is(await remote.ask(4), 4);
  sub.unsubscribe();
  await sys.shutdown();
});

test("runtime remote - asking a subject nobody serves gives NoResponderError", async () => {
  const err = await remoteRef<number, number>(b, "rt.nobody")
    .ask(1, 2_000)
    .catch((e) => e);
  assert.instance(err, NoResponderError);
  assert.is(err.code, "NO_RESPONDER");
});

test("runtime remote - tell over NATS delivers without a reply", async () => {
  const sys = new ActorSystem();
  const got: string[] = [];
  const ref = sys.spawn<string, void>("sink", { producer: () => ({ receive: (m) => void got.push(m) }) });
  const sub = serveActor(a, "rt.sink", ref);
  await a.flush();
  remoteRef<string, void>(b, "rt.sink").tell("hello");
  await b.flush();
  for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got, ["hello"]);
  sub.unsubscribe();
  await sys.shutdown();
});

test.run();
