// Serves a method table on a NATS subject: every request message is one JSON-RPC payload
// (single or batch), answered on its reply subject when the spec says there is an answer.
import type { MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { ProtocolErrors } from "./codes.js";
import { type DispatchOptions, handleRpcPayload } from "./dispatch.js";
import type { MethodTable } from "./types.js";
import { printable } from "../text/printable.js";

/** What a method served over NATS learns about the message that called it. */
export interface NatsRpcContext {
  subject: string;
  headers: MsgHdrs | undefined;
}

export interface ServeJsonRpcOptions {
  /** queue group, so several processes share the subject and each request is handled once */
  queue?: string;
  /** largest request payload accepted, in bytes; default 8 MiB */
  maxPayloadBytes?: number;
  /**
   * Told about every unexpected throw (answered with -32603 and no stack). Default: one
   * line and the stack on stderr, so the operator can find what the caller cannot see.
   */
  onInternalError?: (err: unknown, method: string) => void;
}

export interface JsonRpcService {
  /** Stops taking requests and waits for the ones in progress to be answered. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

function mib(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? ` (${bytes / (1024 * 1024)} MiB)` : "";
}

export function serveJsonRpc(nc: NatsConnection, subject: string, methods: MethodTable<NatsRpcContext>, opts: ServeJsonRpcOptions = {}): JsonRpcService {
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const report =
    opts.onInternalError ??
    ((err: unknown, method: string) => {
      // The message may quote request values: escaped, so it stays one line; the stack frames follow.
      const head = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const frames = err instanceof Error ? (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)) : [];
      process.stderr.write(`jsonrpc ${subject}: ${method} failed unexpectedly: ${printable(head)}\n${frames.map((f) => `${printable(f)}\n`).join("")}`);
    });
  // The server must survive any input, including a logging hook that throws.
  const onInternalError = (err: unknown, method: string): void => {
    try {
      report(err, method);
    } catch {
      /* nowhere left to report to */
    }
  };
  const inFlight = new Set<Promise<void>>();

  function send(reply: string, text: string): void {
    try {
      nc.publish(reply, text);
    } catch (err) {
      // Most likely over the server's max_payload (a large batch: each member was already
      // bounded on its own). Tell the caller instead of leaving it to time out.
      try {
        const size = Buffer.byteLength(text, "utf8");
        const detail = `the response is ${size} bytes and could not be sent (${(err as Error)?.message ?? String(err)}); send fewer calls per batch`;
        nc.publish(reply, JSON.stringify({ jsonrpc: "2.0", error: { code: ProtocolErrors.INTERNAL_ERROR.code, message: ProtocolErrors.INTERNAL_ERROR.message, data: detail }, id: null }));
      } catch {
        /* the connection is gone: the caller's request will time out */
      }
    }
  }

  async function handle(data: Uint8Array, reply: string | undefined, ctx: NatsRpcContext): Promise<void> {
    if (data.length > maxPayload) {
      if (reply) {
        const message = `Invalid Request: the payload is ${data.length} bytes, over the limit of ${maxPayload} bytes${mib(maxPayload)}; send fewer or smaller calls`;
        send(reply, JSON.stringify({ jsonrpc: "2.0", error: { code: ProtocolErrors.INVALID_REQUEST.code, message }, id: null }));
      }
      return;
    }
    const maxResponseBytes = nc.info?.max_payload;
    const dispatchOpts: DispatchOptions = { onInternalError, ...(maxResponseBytes ? { maxResponseBytes } : {}) };
    let text: string | undefined;
    try {
      text = await handleRpcPayload(data, methods, ctx, dispatchOpts);
    } catch (err) {
      // handleRpcPayload answers every failure itself; this is a last guard against a bug there.
      onInternalError(err, "(dispatch)");
      text = JSON.stringify({ jsonrpc: "2.0", error: { code: ProtocolErrors.INTERNAL_ERROR.code, message: ProtocolErrors.INTERNAL_ERROR.message }, id: null });
    }
    if (text !== undefined && reply) send(reply, text);
  }

  const sub: Subscription = nc.subscribe(subject, {
    ...(opts.queue ? { queue: opts.queue } : {}),
    callback: (err, msg) => {
      if (err) return; // a subscription error (e.g. permissions) has no message to answer
      // Each message runs on its own, so a slow method never holds up the next request.
      const p = handle(msg.data, msg.reply || undefined, { subject: msg.subject, headers: msg.headers })
        .catch((e: unknown) => onInternalError(e, "(serve)"))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
  });

  return {
    async stop(): Promise<void> {
      try {
        await sub.drain();
      } catch {
        /* already closed with the connection: nothing more will arrive */
      }
      await Promise.allSettled([...inFlight]);
    },
  };
}
