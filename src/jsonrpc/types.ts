// The JSON-RPC 2.0 wire shapes and the method table the dispatcher looks methods up in.
// Nothing here knows about NATS: the same table serves any transport.

/** A request id: the spec allows a string, a number or null (null still gets a response). */
export type JsonRpcId = string | number | null;

/** By-name (object) or by-position (array) params; a request may also omit params. */
export type JsonRpcParams = { [name: string]: unknown } | unknown[];

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  method: string;
  params?: JsonRpcParams;
  /** absent: a notification, which never gets a response */
  id?: JsonRpcId;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: "2.0";
  result: unknown;
  id: JsonRpcId;
}

export interface JsonRpcFailure {
  jsonrpc: "2.0";
  error: JsonRpcErrorObject;
  id: JsonRpcId;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;

/**
 * One callable method. `call` gets the request's params exactly as sent (undefined when
 * omitted) and a caller-supplied context (the server passes the NATS subject and headers).
 * Whatever it returns (or resolves to) is the result; whatever it throws becomes the error.
 * Methods built with defineMethod() validate their params before the handler runs.
 */
export interface RpcMethod<C = unknown> {
  readonly name: string;
  call(params: JsonRpcParams | undefined, ctx: C): unknown;
}

/** Methods by name. A Map, so names like "constructor" or "__proto__" cannot hit Object.prototype. */
export type MethodTable<C = unknown> = ReadonlyMap<string, RpcMethod<C>>;
