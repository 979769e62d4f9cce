// Why a call to the supervisor or a mailstore failed, in one shape the CLI and the REPL print
// the same way: `<message> [<code>]`. Built at the NATS edge (connection.ts) from RpcError,
// RpcClientError and connection failures, so nothing downstream imports the client.
import { printable } from "../../text/printable.js";
import { CodedError } from "../../errors/index.js";

/** Names of the JSON-RPC protocol codes, shown when an error carries no data.code. */
const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  [-32700]: "PARSE_ERROR",
  [-32600]: "INVALID_REQUEST",
  [-32601]: "METHOD_NOT_FOUND",
  [-32602]: "INVALID_PARAMS",
  [-32603]: "INTERNAL_ERROR",
};

/** The stable string shown in brackets: data.code, else the protocol name, else the number. */
export function codeOfRpcError(rpcCode: number, data: unknown): string {
  const d = data as { code?: unknown } | null | undefined;
  if (typeof d === "object" && d !== null && typeof d.code === "string" && d.code !== "") return d.code;
  return PROTOCOL_NAMES[rpcCode] ?? String(rpcCode);
}

/**
 * A failed call: an error answer from the server (`rpcCode` set), no usable answer
 * (NO_RESPONDER, TIMEOUT, BAD_RESPONSE), or no NATS connection (NATS_UNREACHABLE).
 */
export class CallError extends CodedError {
  constructor(
    message: string,
    /** data.code of an application error, a protocol name, or a client-side code */
    code: string,
    /** the JSON-RPC error number, when the server answered with an error */
    readonly rpcCode?: number,
    /** the error's data as the server sent it (an object, or an internal error's text) */
    readonly data?: unknown,
  ) {
    super(code, message);
  }

  /** `<message> [<code>]`, what the CLI prints after `mailreplica: ` and the REPL after `error: `. */
  get line(): string {
    // The message may quote what was sent (an account name, an operation id): kept on one line.
    return printable(`${this.message} [${this.code}]`);
  }

  /** The error as --json prints it (on stderr, under `error`). */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.rpcCode !== undefined ? { rpcCode: this.rpcCode } : {}),
      ...(this.data !== undefined ? { data: this.data } : {}),
    };
  }
}
