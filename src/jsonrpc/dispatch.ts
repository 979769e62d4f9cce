// The JSON-RPC 2.0 processing rules, free of any transport: bytes in, the response text
// out (or undefined when the spec says nothing is sent).
import { ProtocolErrors } from "./codes.js";
import { toErrorObject } from "./errors.js";
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcParams, JsonRpcResponse, MethodTable } from "./types.js";

export interface DispatchOptions {
  /**
   * Told about every unexpected throw (those answered with -32603), with the method name,
   * so the stack can be logged here while the caller only sees a short description.
   */
  onInternalError?: (err: unknown, method: string) => void;
  /**
   * Largest response (UTF-8 bytes) one request may produce; a bigger one is replaced by a
   * -32603 for that id, so a single huge result cannot make the whole reply undeliverable.
   */
  maxResponseBytes?: number;
  /**
   * Most members one batch may have (they run concurrently); a longer batch is refused whole
   * with one -32600 that names the limit, and none of its members runs. Default MAX_BATCH_MEMBERS.
   */
  maxBatchMembers?: number;
  /**
   * Told about every error answer that is sent (one call per erroneous response object, so a
   * batch may tell several), e.g. to count errors in the service's stats. Never about
   * notifications, which get no answer.
   */
  onErrorAnswer?: (error: JsonRpcErrorObject) => void;
  /**
   * Told about every answer that is sent (one call per response object), success or error:
   * the method when the request named one of the table's (else undefined: an unknown method
   * or an invalid request, whose name is not repeated), and the error if any. For metrics.
   */
  onAnswer?: (method: string | undefined, error: JsonRpcErrorObject | undefined) => void;
}

/** Default cap on the members of one JSON-RPC batch. */
export const MAX_BATCH_MEMBERS = 100;

const decoder = new TextDecoder("utf-8", { fatal: true });

type Parsed = { ok: true; value: unknown } | { ok: false };

function parse(payload: Uint8Array | string): Parsed {
  try {
    const text = typeof payload === "string" ? payload : decoder.decode(payload);
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // invalid UTF-8, invalid JSON, or nesting deep enough to overflow the parser's stack
    return { ok: false };
  }
}

function isId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

function failure(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: "2.0", error, id };
}

const invalidRequest = (): JsonRpcErrorObject => ({ code: ProtocolErrors.INVALID_REQUEST.code, message: ProtocolErrors.INVALID_REQUEST.message });

// A logging hook that throws must not turn into a second failure.
function report(opts: DispatchOptions, err: unknown, method: string): void {
  try {
    opts.onInternalError?.(err, method);
  } catch {
    /* the hook's own failure has nowhere better to go */
  }
}

// An answer is about to be sent: tell the hooks (whose own failure must not matter).
function told(opts: DispatchOptions, error: JsonRpcErrorObject | undefined, method?: string): void {
  try {
    if (error) opts.onErrorAnswer?.(error);
  } catch {
    /* counting is best effort */
  }
  try {
    opts.onAnswer?.(method, error);
  } catch {
    /* counting is best effort */
  }
}

/** The text of an error answer, the hooks told. */
function errorText(opts: DispatchOptions, id: JsonRpcId, error: JsonRpcErrorObject, method?: string): string {
  told(opts, error, method);
  return JSON.stringify(failure(id, error));
}

// toErrorObject reads properties of an arbitrary thrown value; a throwing getter must still
// end up as an internal error rather than a rejected dispatch.
function mapError(err: unknown): ReturnType<typeof toErrorObject> {
  try {
    return toErrorObject(err);
  } catch {
    return toErrorObject(undefined);
  }
}

/** One JSON-RPC response serialized; a result that cannot be serialized or is too big becomes an error for its id. */
function serialize(res: JsonRpcResponse, method: string, opts: DispatchOptions): string {
  let text: string;
  try {
    text = JSON.stringify(res);
  } catch (err) {
    // e.g. a BigInt or a cycle in the result: a bug in the method, reported like a throw
    report(opts, err, method);
    return errorText(opts, res.id, mapError(err).error, method);
  }
  const max = opts.maxResponseBytes;
  if (max !== undefined && Buffer.byteLength(text, "utf8") > max) {
    const size = Buffer.byteLength(text, "utf8");
    return errorText(
      opts,
      res.id,
      {
        code: ProtocolErrors.INTERNAL_ERROR.code,
        message: ProtocolErrors.INTERNAL_ERROR.message,
        data: `the response to ${method} is ${size} bytes, over the ${max}-byte limit; ask for less (e.g. a smaller limit)`,
      },
      method,
    );
  }
  told(opts, "error" in res ? res.error : undefined, method);
  return text;
}

/** Handles one element (a lone request or one member of a batch); undefined for a notification. */
async function handleOne<C>(req: unknown, methods: MethodTable<C>, ctx: C, opts: DispatchOptions): Promise<string | undefined> {
  if (typeof req !== "object" || req === null || Array.isArray(req)) return errorText(opts, null, invalidRequest());
  const r = req as Record<string, unknown>;
  const hasId = Object.prototype.hasOwnProperty.call(r, "id");
  // The id is echoed when it can be read, even on an invalid request; otherwise null (spec 5).
  const id: JsonRpcId = hasId && isId(r.id) ? r.id : null;
  const method = r.method;
  const params = r.params;
  if (
    r.jsonrpc !== "2.0" ||
    typeof method !== "string" ||
    (hasId && !isId(r.id)) ||
    (params !== undefined && (typeof params !== "object" || params === null))
  ) {
    return errorText(opts, id, invalidRequest());
  }
  const notification = !hasId;
  const entry = methods.get(method);
  if (!entry) {
    if (notification) return undefined;
    return errorText(opts, id, { code: ProtocolErrors.METHOD_NOT_FOUND.code, message: ProtocolErrors.METHOD_NOT_FOUND.message });
  }
  let result: unknown;
  try {
    result = await entry.call(params as JsonRpcParams | undefined, ctx);
  } catch (err) {
    const mapped = mapError(err);
    if (mapped.internal) report(opts, err, method);
    return notification ? undefined : serialize(failure(id, mapped.error), method, opts);
  }
  if (notification) return undefined;
  // `result` is required on success; a method that returns nothing answers null.
  return serialize({ jsonrpc: "2.0", result: result === undefined ? null : result, id }, method, opts);
}

/**
 * Processes one payload as the JSON-RPC 2.0 spec says and returns the response text, or
 * undefined when nothing must be sent (a notification, or a batch of only notifications).
 * Batch members run concurrently; their responses keep the order of the batch.
 * Never rejects: every failure is a JSON-RPC error in the returned text.
 */
export function handleRpcPayload(payload: Uint8Array | string, methods: MethodTable<undefined>): Promise<string | undefined>;
export function handleRpcPayload<C>(payload: Uint8Array | string, methods: MethodTable<C>, ctx: C, opts?: DispatchOptions): Promise<string | undefined>;
export async function handleRpcPayload<C>(
  payload: Uint8Array | string,
  methods: MethodTable<C>,
  ctx?: C,
  opts: DispatchOptions = {},
): Promise<string | undefined> {
  const parsed = parse(payload);
  if (!parsed.ok) {
    return errorText(opts, null, { code: ProtocolErrors.PARSE_ERROR.code, message: ProtocolErrors.PARSE_ERROR.message });
  }
  const body = parsed.value;
  if (!Array.isArray(body)) return handleOne(body, methods, ctx as C, opts);
  if (body.length === 0) return errorText(opts, null, invalidRequest());
  const maxMembers = opts.maxBatchMembers ?? MAX_BATCH_MEMBERS;
  if (body.length > maxMembers) {
    return errorText(opts, null, {
      code: ProtocolErrors.INVALID_REQUEST.code,
      message: `Invalid Request: a batch may hold at most ${maxMembers} calls, this one has ${body.length}; none was run; send them in batches of ${maxMembers} or fewer`,
      data: { limit: maxMembers, members: body.length },
    });
  }
  const answers = await Promise.all(body.map((el) => handleOne(el, methods, ctx as C, opts)));
  const sent = answers.filter((a): a is string => a !== undefined);
  // Each member was serialized alone (so one bad result cannot spoil the others); join them.
  return sent.length === 0 ? undefined : `[${sent.join(",")}]`;
}
