// Error classes and the one place a thrown value becomes a JSON-RPC error object.
import { type AppErrorCode, ProtocolErrors, resolveAppCode } from "./codes.js";
import type { JsonRpcErrorObject } from "./types.js";
import { isConnectionClosed, isConnectRefused, isNoResponders, isRequestTimeout } from "../runtime/nats_failure.js";

/**
 * A JSON-RPC error as it travels: thrown by a method it is sent unchanged; returned by a
 * server it is what rpcCall() throws. `appCode` is data.code, the stable string clients
 * branch on for application errors.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    if (!Number.isInteger(code)) throw new TypeError(`jsonrpc: RpcError code must be an integer, got ${code}`);
    this.name = "RpcError";
  }

  /** data.code when the server sent one (application errors always do). */
  get appCode(): string | undefined {
    const d = this.data as { code?: unknown } | undefined;
    return typeof d === "object" && d !== null && typeof d.code === "string" ? d.code : undefined;
  }

  toJSON(): JsonRpcErrorObject {
    return { code: this.code, message: this.message, ...(this.data !== undefined ? { data: this.data } : {}) };
  }
}

/**
 * What a method throws for an expected failure: a code from AppErrorCodes (typed, so a typo
 * fails the build), a message that says what to do, and optional structured data.
 */
export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

/** The stable string code of an error: data.code of a JSON-RPC error response, else a thrown `code`. */
export function appCodeOf(e: unknown): string | undefined {
  if (e instanceof RpcError) return e.appCode;
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/** Why an rpc call failed on the client side, before or instead of a JSON-RPC response. */
export type RpcClientErrorCode = "NO_RESPONDER" | "TIMEOUT" | "BAD_RESPONSE";

/**
 * A call that got no usable response. The codes are in AppErrorCodes (NO_RESPONDER is an
 * alias of UNAVAILABLE), so a method that lets one escape answers its own caller correctly.
 */
export class RpcClientError extends Error {
  constructor(
    readonly code: RpcClientErrorCode,
    message: string,
    readonly subject: string,
  ) {
    super(message);
    this.name = "RpcClientError";
  }
}

const DETAIL_MAX = 200;

// Built-in classes that mean a bug in our code, whatever `code` they carry (Node sets
// ERR_* codes on many TypeErrors): they are internal errors, not application errors.
const BUG_CLASSES = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A one-line, bounded description of an unexpected throw: never a stack. */
function shortDetail(err: unknown): string {
  let text: string;
  if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else if (typeof err === "string" || typeof err === "number" || typeof err === "boolean") text = `thrown value: ${String(err)}`;
  else text = "a non-Error value was thrown";
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > DETAIL_MAX ? `${line.slice(0, DETAIL_MAX - 3)}...` : line;
}

/** The error object for a throw, and whether it was unexpected (the caller logs those). */
export interface MappedError {
  error: JsonRpcErrorObject;
  internal: boolean;
}

/**
 * NATS client failures that escape a method (a KV read or blob put while a JetStream leader
 * is being elected, a connection that closed): the service is not reachable right now, which
 * is UNAVAILABLE to the caller; a request that got no answer in time is TIMEOUT. The client's
 * error classes mean nothing to a JSON-RPC client.
 */
// UNAVAILABLE only where the request was never taken by anyone: a lost connection mid-request
// is not among them (it may have been served), so it stays an internal error with its detail.
function fromNatsClient(err: unknown): { code: string; message: string } | undefined {
  // An error of ours with its own code (OUTCOME_UNKNOWN caused by a timeout) keeps it.
  if (!(err instanceof Error) || typeof (err as { code?: unknown }).code === "string") return undefined;
  const unavailable = (what: string) => ({ code: "UNAVAILABLE", message: `NATS: ${what}; nothing was done, retry after a short back-off` });
  if (isNoResponders(err)) return unavailable("no responders (no JetStream leader or service answered)");
  if (isConnectionClosed(err) || isConnectRefused(err)) return unavailable(`${err.message} (connection closed)`);
  if (isRequestTimeout(err)) return { code: "TIMEOUT", message: `NATS: no answer in time (${err.message}); it may still complete, check before retrying` };
  return undefined;
}

/** Node's system errors (ENOENT, EACCES...) carry the file or address in their message. */
function isSystemError(err: unknown): boolean {
  const e = err as { syscall?: unknown; errno?: unknown } | null;
  return typeof e === "object" && e !== null && (typeof e.syscall === "string" || typeof e.errno === "number");
}

/**
 * RpcError → sent as is. An error with a string `code` that AppErrorCodes documents (or an
 * alias of one) becomes its number with data = { ...error.data, code } (code last, so the
 * stable code always wins; an alias also sets data.alias; APP_ERROR keeps the data.code it was
 * thrown with as data.cause). Anything else, including a string
 * code we never documented (a library's EMAXLEN, Node's ENOENT, an internal code that escaped)
 * → -32603 with only a short description in data: clients branch on data.code, so only
 * documented codes may reach them, and a system error's message (a path) stays in the log.
 */
export function toErrorObject(err: unknown): MappedError {
  if (err instanceof RpcError) return { error: err.toJSON(), internal: false };
  const nats = fromNatsClient(err);
  if (nats) return toErrorObject(nats);
  const e = err as { code?: unknown; message?: unknown; data?: unknown } | null | undefined;
  const isBug = BUG_CLASSES.some((cls) => err instanceof cls);
  const known = !isBug && typeof e === "object" && e !== null && typeof e.code === "string" ? resolveAppCode(e.code) : undefined;
  if (known && typeof e === "object" && e !== null) {
    const extra = isPlainObject(e.data) ? e.data : e.data !== undefined ? { detail: e.data } : {};
    // APP_ERROR is generic: the specific cause a method named in data.code (OLD_PRIMARY_STILL_WRITING,
    // LOG_BAD_PROMOTION...) would be overwritten by the stable code, so it travels as data.cause.
    const cause = known.code === "APP_ERROR" && typeof extra.code === "string" && extra.code !== "APP_ERROR" ? { cause: extra.code } : {};
    const data = { ...extra, ...cause, code: known.code, ...(known.alias !== undefined ? { alias: known.alias } : {}) };
    const message = typeof e.message === "string" && e.message !== "" ? e.message : known.hint;
    return { error: { code: known.rpcCode, message, data }, internal: false };
  }
  const code = typeof e === "object" && e !== null && typeof e.code === "string" ? e.code.slice(0, 40) : undefined;
  const detail = isSystemError(err) ? `system error ${code ?? "(no code)"}; see the server's log` : shortDetail(err);
  return { error: { code: ProtocolErrors.INTERNAL_ERROR.code, message: ProtocolErrors.INTERNAL_ERROR.message, data: detail }, internal: true };
}
