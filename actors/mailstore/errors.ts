// Errors of the mailstore and supervisor actors, with stable codes (see README).
// Caller-facing: NOT_PRIMARY, APPLY_FAILED... answer the JSON-RPC caller with their code.
import { CallerFacingError } from "../../src/errors/index.js";

export class NodeError extends CallerFacingError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details !== undefined ? { details } : {});
  }

  static notPrimary(accountId: string, host: string, primary?: string): NodeError {
    return new NodeError(
      "NOT_PRIMARY",
      `${host} is not the primary of account ${accountId}${primary ? ` (${primary} is)` : ""}; send mailbox requests to mr.rpc.mailbox, which routes them to the primary`,
      { account: accountId, host, ...(primary ? { primary } : {}) },
    );
  }
}
