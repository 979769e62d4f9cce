// Error classes and the one place a thrown value becomes a JSON-RPC error object.
import { type AppErrorCode, ProtocolErrors, type ResolvedAppCode, resolveAppCode } from "./codes.js";
import type { JsonRpcErrorObject } from "./types.js";
import { CallerFacingError } from "../errors/index.js";
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
 * fails the build), a message that says what to do, and optional structured data (sent as
 * the error's data, with data.code added). Caller-facing by definition.
 */
export class AppError extends CallerFacingError<AppErrorCode> {
  constructor(code: AppErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, { ...(details !== undefined ? { details } : {}), ...options });
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
 * alias of UNAVAILABLE), so it is caller-facing: a method that lets one escape answers its
 * own caller correctly. (No `cause`: transientReason() walks causes, and a NATS timeout
 * behind it would make callers that branch on the code see a transient failure instead.)
 */
export class RpcClientError extends CallerFacingError<RpcClientErrorCode> {
  constructor(
    code: RpcClientErrorCode,
    message: string,
    readonly subject: string,
  ) {
    super(code, message);
  }
}

const DETAIL_MAX = 200;
const CODE_MAX = 40;

/** A one-line, bounded description of an unexpected throw: never a stack. */
function shortDetail(err: unknown): string {
  let text: string;
  if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else if (typeof err === "string" || typeof err === "number" || typeof err === "boolean") text = `thrown value: ${String(err)}`;
  else text = "a non-Error value was thrown";
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > DETAIL_MAX ? `${line.slice(0, DETAIL_MAX - 3)}...` : line;
}

/** The string `code` of a thrown value (Node's ENOENT, a library's EMAXLEN, ours), bounded. */
function stringCode(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code.slice(0, CODE_MAX) : undefined;
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
function fromNatsClient(err: unknown): { code: AppErrorCode; message: string } | undefined {
  // An error with its own code (a CodedError caused by a timeout) is not the client's.
  if (!(err instanceof Error) || stringCode(err) !== undefined) return undefined;
  const unavailable = (what: string) => ({ code: "UNAVAILABLE" as const, message: `NATS: ${what}; nothing was done, retry after a short back-off` });
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
 * The application error for a documented code: its number, data = { ...details, code } (code
 * last, so the stable code always wins; an alias also sets data.alias; APP_ERROR keeps the
 * data.code it was thrown with as data.cause), and the message, else the code's hint.
 */
function applicationError(known: ResolvedAppCode, message: string, details: Readonly<Record<string, unknown>> | undefined): JsonRpcErrorObject {
  const extra = details ?? {};
  // APP_ERROR is generic: the specific cause a method named in data.code (OLD_PRIMARY_STILL_WRITING,
  // LOG_BAD_PROMOTION...) would be overwritten by the stable code, so it travels as data.cause.
  const cause = known.code === "APP_ERROR" && typeof extra.code === "string" && extra.code !== "APP_ERROR" ? { cause: extra.code } : {};
  const data = { ...extra, ...cause, code: known.code, ...(known.alias !== undefined ? { alias: known.alias } : {}) };
  return { code: known.rpcCode, message: message !== "" ? message : known.hint, data };
}

/**
 * What the caller of a failed method learns when the failure was not meant for it: -32603 and
 * a short description. A thrown value with a string code that is not caller-facing (Node's
 * ENOENT or EACCES, a library's EMAXLEN, a ConfigError, any object with a `code`) is named by
 * its code only: such messages name files and addresses, which stay in the server's log.
 * A value without a code (a bug: TypeError, a plain Error) keeps its one-line message, and a
 * caller-facing error whose code is not documented too (its message was written for callers).
 */
function internalError(err: unknown): JsonRpcErrorObject {
  const code = stringCode(err);
  let detail: string;
  if (isSystemError(err)) detail = `system error ${code ?? "(no code)"}; see the server's log`;
  else if (code === undefined || err instanceof CallerFacingError) detail = shortDetail(err);
  else detail = `${err instanceof Error ? err.name : "a thrown value with code"} ${code}; see the server's log`;
  return { code: ProtocolErrors.INTERNAL_ERROR.code, message: ProtocolErrors.INTERNAL_ERROR.message, data: detail };
}

/**
 * The one mapping from a thrown value to a JSON-RPC error, by class, never by the shape of
 * the value:
 * - RpcError: sent as is.
 * - a CallerFacingError (AppError, MailError, NodeError, RuntimeError... see
 *   src/errors/coded_error.ts) whose code AppErrorCodes documents (or an alias of one): that
 *   code's number, its message, data = { ...details, code } (applicationError).
 * - a NATS client failure without a code of its own: UNAVAILABLE or TIMEOUT (fromNatsClient).
 * - anything else, a caller-facing error with an undocumented code included: -32603 with a
 *   short description (internalError), and `internal` set, so the server logs it. Clients
 *   branch on data.code: only documented codes of errors written for them may reach them.
 */
export function toErrorObject(err: unknown): MappedError {
  if (err instanceof RpcError) return { error: err.toJSON(), internal: false };
  if (err instanceof CallerFacingError) {
    const known = resolveAppCode(err.code);
    if (known) return { error: applicationError(known, err.message, err.details), internal: false };
  } else {
    const nats = fromNatsClient(err);
    if (nats) return { error: applicationError(resolveAppCode(nats.code)!, nats.message, undefined), internal: false };
  }
  return { error: internalError(err), internal: true };
}

/**
 * The fields an internal error is logged with besides the error itself: its string code
 * (`errCode`: ENOENT, CONFIG_INVALID, ERR_INVALID_ARG_TYPE) when it has one, and its message
 * (`error`, first line), so an operator finds in the log what the caller was not told.
 */
export function internalErrorFields(err: unknown): { errCode?: string; error: string } {
  const code = stringCode(err);
  const message = typeof err === "object" && err !== null ? (err as { message?: unknown }).message : err;
  const text = typeof message === "string" ? message : shortDetail(err);
  return { ...(code !== undefined ? { errCode: code } : {}), error: text.split("\n", 1)[0] ?? "" };
}
