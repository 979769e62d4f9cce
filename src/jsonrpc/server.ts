// Serves a method table on a NATS subject: every request message is one JSON-RPC payload
// (single or batch), answered on its reply subject when the spec says there is an answer.
import { headers } from "@nats-io/nats-core";
import type { MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { ProtocolErrors } from "./codes.js";
import { SERVICE_ERROR_CODE_HEADER, SERVICE_ERROR_HEADER, type EndpointRecorder } from "../micro/index.js";
import type { JsonRpcErrorObject } from "./types.js";
import { type DispatchOptions, handleRpcPayload } from "./dispatch.js";
import { internalErrorFields } from "./errors.js";
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
   * Told about every unexpected throw (answered with -32603 and no stack): a bug, or a
   * failure not meant for callers (a Node system error, a non-caller-facing coded error; see
   * toErrorObject). Log it with internalErrorFields(err). Default: one line (with the code)
   * and the stack on stderr, so the operator can find what the caller cannot see.
   */
  onInternalError?: (err: unknown, method: string) => void;
  /**
   * The endpoint's counters in a NATS service (src/micro): each request message is recorded
   * with its processing time, and as an error when its answer holds one (the first error's
   * text, `<code> [<data.code>]: <message>`). An erroneous answer is then also flagged with the
   * micro error headers (Nats-Service-Error-Code: the JSON-RPC code, Nats-Service-Error: the
   * text), so a micro-aware client sees it without parsing the body.
   */
  stats?: EndpointRecorder;
  /** Told about every answer sent, with its method (when one of the table's) and error (DispatchOptions.onAnswer). */
  onAnswer?: DispatchOptions["onAnswer"];
}

export interface JsonRpcService {
  /** Stops taking requests and waits for the ones in progress to be answered. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/** How an error answer reads in the service's stats and headers: one line, bounded. */
export function errorSummary(error: JsonRpcErrorObject): string {
  const data = error.data as { code?: unknown } | undefined;
  const appCode = data && typeof data === "object" && typeof data.code === "string" ? ` ${data.code}` : "";
  const text = printable(`${error.code}${appCode}: ${error.message}`);
  return text.length > 512 ? `${text.slice(0, 509)}...` : text;
}

function mib(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? ` (${bytes / (1024 * 1024)} MiB)` : "";
}

export function serveJsonRpc(nc: NatsConnection, subject: string, methods: MethodTable<NatsRpcContext>, opts: ServeJsonRpcOptions = {}): JsonRpcService {
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const report =
    opts.onInternalError ??
    ((err: unknown, method: string) => {
      // The message may quote request values: escaped, so it stays one line; the stack frames follow.
      const { errCode } = internalErrorFields(err);
      const head = `${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}${errCode !== undefined ? ` [${errCode}]` : ""}`;
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

  function errorHeaders(error: JsonRpcErrorObject | undefined): MsgHdrs | undefined {
    if (!opts.stats || !error) return undefined;
    const h = headers();
    h.set(SERVICE_ERROR_CODE_HEADER, String(error.code));
    h.set(SERVICE_ERROR_HEADER, errorSummary(error));
    return h;
  }

  /** Sends the answer; returns the error it had to send instead when the answer could not go. */
  function send(reply: string, text: string, error: JsonRpcErrorObject | undefined): JsonRpcErrorObject | undefined {
    try {
      const h = errorHeaders(error);
      nc.publish(reply, text, h ? { headers: h } : undefined);
      return undefined;
    } catch (err) {
      // Most likely over the server's max_payload (a large batch: each member was already
      // bounded on its own). Tell the caller instead of leaving it to time out.
      try {
        const size = Buffer.byteLength(text, "utf8");
        const detail = `the response is ${size} bytes and could not be sent (${(err as Error)?.message ?? String(err)}); send fewer calls per batch`;
        const instead: JsonRpcErrorObject = { code: ProtocolErrors.INTERNAL_ERROR.code, message: ProtocolErrors.INTERNAL_ERROR.message, data: detail };
        const h = errorHeaders(instead);
        nc.publish(reply, JSON.stringify({ jsonrpc: "2.0", error: instead, id: null }), h ? { headers: h } : undefined);
        return instead;
      } catch {
        /* the connection is gone: the caller's request will time out */
        return undefined;
      }
    }
  }

  function record(startedAt: bigint, error: JsonRpcErrorObject | undefined): void {
    if (!opts.stats) return;
    try {
      opts.stats.record(Number(process.hrtime.bigint() - startedAt), error ? errorSummary(error) : undefined);
    } catch {
      /* counting never fails a request */
    }
  }

  async function handle(data: Uint8Array, reply: string | undefined, ctx: NatsRpcContext): Promise<void> {
    const startedAt = process.hrtime.bigint();
    if (data.length > maxPayload) {
      const error: JsonRpcErrorObject = {
        code: ProtocolErrors.INVALID_REQUEST.code,
        message: `Invalid Request: the payload is ${data.length} bytes, over the limit of ${maxPayload} bytes${mib(maxPayload)}; send fewer or smaller calls`,
      };
      if (reply) send(reply, JSON.stringify({ jsonrpc: "2.0", error, id: null }), error);
      record(startedAt, error);
      try {
        if (reply) opts.onAnswer?.(undefined, error);
      } catch {
        /* counting never fails a request */
      }
      return;
    }
    const maxResponseBytes = nc.info?.max_payload;
    // The first error answer of this message (a batch may hold several): what the stats say.
    let firstError: JsonRpcErrorObject | undefined;
    const dispatchOpts: DispatchOptions = {
      onInternalError,
      onErrorAnswer: (e) => {
        firstError ??= e;
      },
      ...(maxResponseBytes ? { maxResponseBytes } : {}),
      ...(opts.onAnswer ? { onAnswer: opts.onAnswer } : {}),
    };
    let text: string | undefined;
    try {
      text = await handleRpcPayload(data, methods, ctx, dispatchOpts);
    } catch (err) {
      // handleRpcPayload answers every failure itself; this is a last guard against a bug there.
      onInternalError(err, "(dispatch)");
      firstError = { code: ProtocolErrors.INTERNAL_ERROR.code, message: ProtocolErrors.INTERNAL_ERROR.message };
      text = JSON.stringify({ jsonrpc: "2.0", error: firstError, id: null });
    }
    if (text !== undefined && reply) firstError = send(reply, text, firstError) ?? firstError;
    // Notifications count as requests too; their errors were never answered, so are none here.
    record(startedAt, text !== undefined ? firstError : undefined);
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
