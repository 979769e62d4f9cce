// What a failed NATS/JetStream call means, read from the @nats-io/* client's error classes and
// the server's numeric JetStream api codes, never from message text. Every caller that must
// tell "refused", "nobody listens", "no answer in time" and "connection gone" apart asks here,
// so a client upgrade changes one file.
import { errors as core, RequestError } from "@nats-io/nats-core";
import { JetStreamApiError, JetStreamApiCodes, JetStreamError } from "@nats-io/jetstream";

/** The server's JetStream API error (`{code, err_code, description}`) behind `e`, if any. */
export interface JsApiFailure {
  /** HTTP-like status (400, 404, 503) */
  status: number;
  /** the stable err_code of nats-server's errors.json (10071, 10037, …) */
  errCode: number;
  description: string;
}

export const JS_ERR = {
  /** another writer got there first (Nats-Expected-Last-Subject-Sequence, KV revision) */
  WRONG_LAST_SEQUENCE: JetStreamApiCodes.StreamWrongLastSequence,
  /** newer servers' variant of the same refusal */
  WRONG_LAST_SEQUENCE_UNKNOWN: JetStreamApiCodes.StreamWrongLastSequenceUnknown,
  NO_MESSAGE_FOUND: JetStreamApiCodes.NoMessageFound,
  STREAM_NOT_FOUND: JetStreamApiCodes.StreamNotFound,
  CONSUMER_NOT_FOUND: JetStreamApiCodes.ConsumerNotFound,
} as const;

function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = e, depth = 0; c !== undefined && c !== null && depth < 5; c = (c as { cause?: unknown }).cause, depth++) out.push(c);
  return out;
}

/** The status of a JetStream status message turned error (a pull request's 408, 503, 409). */
function statusCode(c: unknown): number | undefined {
  if (!(c instanceof JetStreamError) || c instanceof JetStreamApiError) return undefined;
  const code = (c as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

export function jsApiFailure(e: unknown): JsApiFailure | undefined {
  for (const c of causes(e)) {
    if (c instanceof JetStreamApiError) {
      const api = c.apiError();
      return { status: api.code, errCode: api.err_code, description: api.description };
    }
  }
  return undefined;
}

/** The JetStream err_code behind `e`, if the server refused the request. */
export function jsErrCode(e: unknown): number | undefined {
  return jsApiFailure(e)?.errCode;
}

/** A JetStream CAS refusal: the expected last sequence (or KV revision) was not the stored one. */
export function isWrongLastSequence(e: unknown): boolean {
  const c = jsErrCode(e);
  return c === JS_ERR.WRONG_LAST_SEQUENCE || c === JS_ERR.WRONG_LAST_SEQUENCE_UNKNOWN;
}

/**
 * Nobody took the request: no subscriber, or (for JetStream) no stream leader listening, which
 * the client reports as "jetstream is not enabled" with a no-responders cause. Nothing was done.
 */
export function isNoResponders(e: unknown): boolean {
  for (const c of causes(e)) {
    if (c instanceof core.NoRespondersError) return true;
    if (c instanceof RequestError && c.isNoResponders()) return true;
    if (statusCode(c) === 503) return true;
  }
  return false;
}

/** No answer within the request's timeout: it may still have been served. */
export function isRequestTimeout(e: unknown): boolean {
  for (const c of causes(e)) {
    if (c instanceof core.TimeoutError) return true;
    if (statusCode(c) === 408) return true;
  }
  return false;
}

/** The connection is closed or draining: the request was never sent. */
export function isConnectionClosed(e: unknown): boolean {
  return causes(e).some((c) => c instanceof core.ClosedConnectionError || c instanceof core.DrainingConnectionError);
}

/** No server accepts connections (at connect time). */
export function isConnectRefused(e: unknown): boolean {
  return causes(e).some((c) => c instanceof core.ConnectionError);
}

/**
 * The request was cut off in flight (the client rejects pending requests with a RequestError
 * when the connection drops or the request is cancelled): it may have been served.
 */
export function isRequestLost(e: unknown): boolean {
  return causes(e).some((c) => c instanceof RequestError && !c.isNoResponders() && !(c.cause instanceof core.PermissionViolationError));
}

/** The server refused the connection's credentials (or wanted some), or they expired. */
export function isAuthRefused(e: unknown): boolean {
  return causes(e).some((c) => c instanceof core.AuthorizationError || c instanceof core.UserAuthenticationExpiredError);
}

/** Node's TLS/OpenSSL error codes (certificate verification, handshake alerts). */
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|CERT_|HOSTNAME_MISMATCH$)/;

/** The TLS handshake failed: Node's error code behind `e` (e.g. SELF_SIGNED_CERT_IN_CHAIN), else undefined. */
export function tlsFailureCode(e: unknown): string | undefined {
  for (const c of causes(e)) {
    const code = (c as { code?: unknown } | null)?.code;
    if (typeof code === "string" && TLS_CODE.test(code)) return code;
  }
  return undefined;
}

/** A publish or subscription the server's permissions refused. */
export function isPermissionViolation(e: unknown): boolean {
  return causes(e).some((c) => c instanceof core.PermissionViolationError);
}
