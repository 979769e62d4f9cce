// Calling JSON-RPC methods over NATS request/reply: one call, a batch, or a notification.
// Transport failures become RpcClientError (NO_RESPONDER, TIMEOUT, BAD_RESPONSE); an error
// response becomes RpcError with the server's code, message and data.
import type { NatsConnection } from "@nats-io/transport-node";
import { RpcClientError, RpcError } from "./errors.js";
import type { JsonRpcId, JsonRpcParams, JsonRpcRequest } from "./types.js";
import { isNoResponders, isRequestTimeout } from "../runtime/nats_failure.js";

export interface RpcCallOptions {
  /** how long to wait for the response; default 10_000 ms */
  timeoutMs?: number;
}

export const DEFAULT_RPC_TIMEOUT_MS = 10_000;

// Ids only need to be unique among this process's calls in flight: the reply inbox is ours.
let lastId = 0;
function nextId(): number {
  lastId = lastId >= Number.MAX_SAFE_INTEGER ? 1 : lastId + 1;
  return lastId;
}

function request(method: string, params: JsonRpcParams | undefined, id: number | undefined): JsonRpcRequest {
  return { jsonrpc: "2.0", method, ...(params !== undefined ? { params } : {}), ...(id !== undefined ? { id } : {}) };
}

async function send(nc: NatsConnection, subject: string, body: string, timeoutMs: number): Promise<unknown> {
  let msg;
  try {
    msg = await nc.request(subject, body, { timeout: timeoutMs });
  } catch (err) {
    if (isNoResponders(err)) throw new RpcClientError("NO_RESPONDER", `nothing serves ${subject}; is the supervisor/mailstore running?`, subject);
    if (isRequestTimeout(err)) {
      throw new RpcClientError("TIMEOUT", `no response on ${subject} within ${timeoutMs} ms; the call may still complete, check before retrying`, subject);
    }
    throw err;
  }
  try {
    return JSON.parse(msg.string());
  } catch {
    throw new RpcClientError("BAD_RESPONSE", `the response on ${subject} is not JSON; is something other than a JSON-RPC server answering there?`, subject);
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: RpcError | RpcClientError };

/** Reads one response object; anything that is not a JSON-RPC 2.0 response is BAD_RESPONSE. */
function readResponse(res: unknown, subject: string): { id: JsonRpcId; outcome: Outcome } {
  const bad = (why: string) => new RpcClientError("BAD_RESPONSE", `malformed JSON-RPC response on ${subject}: ${why}`, subject);
  if (typeof res !== "object" || res === null || Array.isArray(res)) throw bad("not an object");
  const r = res as Record<string, unknown>;
  if (r.jsonrpc !== "2.0") throw bad('jsonrpc is not "2.0"');
  const id = r.id;
  if (!(id === null || typeof id === "string" || typeof id === "number")) throw bad("no valid id");
  if ("error" in r) {
    const e = r.error as { code?: unknown; message?: unknown; data?: unknown } | null;
    if (typeof e !== "object" || e === null || !Number.isInteger(e.code) || typeof e.message !== "string") throw bad("error is not { code, message }");
    return { id, outcome: { ok: false, error: new RpcError(e.code as number, e.message, e.data) } };
  }
  if (!("result" in r)) throw bad("neither result nor error");
  return { id, outcome: { ok: true, value: r.result } };
}

/**
 * Calls `method` and resolves with its result. Throws RpcError for an error response,
 * RpcClientError NO_RESPONDER / TIMEOUT / BAD_RESPONSE when no usable response came.
 */
export async function rpcCall<T = unknown>(nc: NatsConnection, subject: string, method: string, params?: JsonRpcParams, opts: RpcCallOptions = {}): Promise<T> {
  const id = nextId();
  const res = await send(nc, subject, JSON.stringify(request(method, params, id)), opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
  const { id: got, outcome } = readResponse(res, subject);
  // An error the server could not tie to our request (parse error, oversized payload) has id null.
  if (!outcome.ok) throw outcome.error;
  if (got !== id) throw new RpcClientError("BAD_RESPONSE", `response on ${subject} carries id ${JSON.stringify(got)}, expected ${id}`, subject);
  return outcome.value as T;
}

/** Sends a notification: no id, no response, no confirmation that anyone received it. */
export function rpcNotify(nc: NatsConnection, subject: string, method: string, params?: JsonRpcParams): void {
  nc.publish(subject, JSON.stringify(request(method, params, undefined)));
}

export interface RpcBatchCall {
  method: string;
  params?: JsonRpcParams;
  /** send as a notification: no response, its outcome is undefined */
  notification?: boolean;
}

/** One call's outcome in a batch: its result, or the error it got. */
export type RpcBatchOutcome = Outcome;

/**
 * Sends `calls` as one batch and returns one outcome per call, in the order of `calls`
 * (undefined for notifications). A batch of only notifications is published and resolves
 * at once. Throws (RpcError / RpcClientError) only when the batch as a whole failed.
 */
export async function rpcBatch(
  nc: NatsConnection,
  subject: string,
  calls: readonly RpcBatchCall[],
  opts: RpcCallOptions = {},
): Promise<(RpcBatchOutcome | undefined)[]> {
  if (calls.length === 0) return []; // an empty batch is an invalid request; there is nothing to ask
  const ids = calls.map((c) => (c.notification ? undefined : nextId()));
  const body = JSON.stringify(calls.map((c, i) => request(c.method, c.params, ids[i])));
  if (ids.every((id) => id === undefined)) {
    nc.publish(subject, body);
    return calls.map(() => undefined);
  }
  const res = await send(nc, subject, body, opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
  if (!Array.isArray(res)) {
    // The server rejected the batch as a whole (e.g. it is over the payload limit).
    const { outcome } = readResponse(res, subject);
    if (!outcome.ok) throw outcome.error;
    throw new RpcClientError("BAD_RESPONSE", `a batch on ${subject} got a single result instead of an array`, subject);
  }
  const byId = new Map<JsonRpcId, Outcome>();
  for (const el of res) {
    const { id, outcome } = readResponse(el, subject);
    byId.set(id, outcome);
  }
  return calls.map((c, i) => {
    const id = ids[i];
    if (id === undefined) return undefined;
    return (
      byId.get(id) ?? {
        ok: false,
        error: new RpcClientError("BAD_RESPONSE", `the batch response on ${subject} has no answer for ${c.method} (id ${id})`, subject),
      }
    );
  });
}
