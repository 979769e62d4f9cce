// Remote addressing over NATS: an actor served at a subject, and a ref that asks it over
// request/reply. Payloads are msgpack; errors travel as { code, message, data } and come
// back as RemoteActorError with the same code (data: a coded error's details).
import { Packr } from "msgpackr";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { AskTimeoutError, NoResponderError, RemoteActorError } from "./errors.js";
import { CodedError } from "../errors/index.js";
import type { ActorRef } from "./types.js";
import { isNoResponders, isRequestTimeout } from "./nats_failure.js";

const packr = new Packr({ useRecords: false });

type Reply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; data?: unknown } };

function errorReply(err: unknown): Reply {
  const e = err as { code?: unknown; message?: unknown; data?: unknown };
  const data = err instanceof CodedError ? err.details : e?.data;
  return {
    ok: false,
    error: {
      code: typeof e?.code === "string" ? e.code : "INTERNAL",
      message: typeof e?.message === "string" ? e.message : String(err),
      ...(data !== undefined ? { data } : {}),
    },
  };
}

export interface ServeOptions {
  /** queue group, so several processes can share the subject; default none */
  queue?: string;
  /** ask timeout used towards the local actor; default 30_000 ms */
  timeoutMs?: number;
}

/** Makes `ref` reachable at `subject`; returns the subscription (unsubscribe to stop). */
export function serveActor<M, R>(nc: NatsConnection, subject: string, ref: ActorRef<M, R>, opts: ServeOptions = {}): Subscription {
  return nc.subscribe(subject, {
    ...(opts.queue ? { queue: opts.queue } : {}),
    callback: (err, msg) => {
      if (err) return;
      let message: M;
      try {
        message = packr.unpack(msg.data) as M;
      } catch (e) {
        if (msg.reply) msg.respond(packr.pack(errorReply({ code: "BAD_REQUEST", message: `undecodable request on ${subject}: ${(e as Error).message}` })));
        return;
      }
      if (!msg.reply) {
        try {
          ref.tell(message);
        } catch {
          /* a tell has nobody to tell about a refusal */
        }
        return;
      }
      ref.ask(message, opts.timeoutMs ?? 30_000).then(
        (value) => msg.respond(packr.pack({ ok: true, value } satisfies Reply)),
        (e) => msg.respond(packr.pack(errorReply(e))),
      );
    },
  });
}

/** A reference to an actor served at `subject` by some process. */
export function remoteRef<M, R>(nc: NatsConnection, subject: string): ActorRef<M, R> {
  return {
    path: `nats:${subject}`,
    tell(message: M) {
      nc.publish(subject, packr.pack(message));
    },
    async ask(message: M, timeoutMs = 5_000): Promise<R> {
      let raw;
      try {
        raw = await nc.request(subject, packr.pack(message), { timeout: timeoutMs });
      } catch (e) {
        if (isNoResponders(e)) throw new NoResponderError(subject);
        if (isRequestTimeout(e)) throw new AskTimeoutError(`nats:${subject}`, timeoutMs);
        throw e;
      }
      const reply = packr.unpack(raw.data) as Reply;
      if (reply.ok) return reply.value as R;
      throw new RemoteActorError(reply.error.code, reply.error.message, reply.error.data);
    },
  };
}
