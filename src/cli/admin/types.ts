// Contracts of the admin commands: one definition per Carbonio command, used by the CLI
// (`mailreplica setAccountDestination ...`) and the REPL (`setAccountDestination ...`) alike.
import type { ParamsSpec } from "../types.js";

/** JSON-RPC params as sent: names as in docs/jsonrpc.md. */
export type RpcParams = Record<string, unknown>;

/** One admin command, which is also the JSON-RPC method of the same name on mr.rpc.admin. */
export interface AdminCommandDef {
  /** Carbonio's word: the command, and the method name. */
  readonly name: string;
  /** One line for command lists. */
  readonly summary: string;
  /** Carbonio params: mandatory ones first (positional), then `name value` pairs. */
  readonly params: ParamsSpec;
  /** The arguments after the name, e.g. `<destination> <priority> [accounts VALUE[,VALUE]] ...`. */
  readonly usage: string;
  /** Notes and examples, one line each, without the command prefix (`mailreplica ` or none). */
  readonly notes: readonly string[];
  /** Example argument lists, shown after `mailreplica <name>` (CLI) or `<name>` (REPL). */
  readonly examples: readonly string[];
  /**
   * The words after the command's name as JSON-RPC params: validated, `input_file` read
   * (relative to `cwd`) and sent as `accounts`. Throws CliUsageError (or InputFileError).
   */
  toParams(words: readonly string[], cwd: string): RpcParams;
  /** The exit code a result means (default 0): `test` exits 1 when a check failed. */
  readonly exitCode?: (result: unknown) => number;
  /** How long to wait for the answer, when longer than the default 30 s (verifyReplicas compares every copy before it answers). */
  readonly callTimeoutMs?: number;
  /** Waits for its operation's end even without --sync (promoteAccounts: an operator wants the outcome). */
  readonly waits?: boolean;
  /** The result, human-readable. `prefix` is how a command is typed here (`mailreplica ` or ``), for hints. */
  format(result: unknown, prefix: string): string[];
}
