// The one shape of this project's errors: a stable UPPER_SNAKE `code` that callers branch on
// (never the message text), a message that tells the operator what to do next, optional
// JSON-safe `details`, and the standard ES2022 `cause` (the error this one translates, e.g.
// a library's or Node's, kept for the log). Generic on purpose: src/runtime uses it too.

export interface CodedErrorOptions {
  /** JSON-safe data a caller can act on (ids, names); never secrets, key material or bodies */
  details?: Readonly<Record<string, unknown>>;
  /** the error this one was made from, kept whole for the log */
  cause?: unknown;
}

export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: C, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    // The subclass's name in logs and `String(err)`, without each subclass setting it.
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }
}

/**
 * A coded error meant for the caller of a JSON-RPC method. Only these (and the JSON-RPC
 * layer's own AppError, which is one) are answered as application errors with data.code
 * (src/jsonrpc/errors.ts), and only when their code is documented in src/jsonrpc/codes.ts.
 * Every other thrown value, a plain CodedError included (a config or key file problem, a
 * codec failure), a Node system error or any object that merely has a string `code`, is an
 * internal error: the caller gets -32603 without its message, the server's log gets the rest.
 * A class opts in by extending this one; its messages must then be fit for a caller to read.
 */
export class CallerFacingError<C extends string = string> extends CodedError<C> {}
