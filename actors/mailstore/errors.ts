// Errors of the mailstore and supervisor actors, with stable codes (see README).

export class NodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "NodeError";
  }

  static notPrimary(accountId: string, host: string, primary?: string): NodeError {
    return new NodeError(
      "NOT_PRIMARY",
      `${host} is not the primary of account ${accountId}${primary ? ` (${primary} is)` : ""}; send mailbox requests to mr.rpc.mailbox, which routes them to the primary`,
      { account: accountId, host, ...(primary ? { primary } : {}) },
    );
  }
}
