// Runs admin commands and generic calls: parse, call, print; with --sync or --progress,
// wait for the operation and return its exit code. `executeAdmin` is shared by the CLI and
// the REPL; the CLI wrappers add the connection and the CLI's error lines.
import type { CommandIo } from "../types.js";
import { callMethod, closeQuietly, connectNats, type CallOptions, type RpcTarget } from "./connection.js";
import { CallError } from "./errors.js";
import { formatMonitor, formatValue, operationIdOf } from "./format.js";
import { waitForOperation } from "./operation.js";
import type { AdminCommandDef, RpcParams } from "./types.js";

/** Calls one method on mr.rpc.admin or mr.rpc.mailbox; throws CallError. */
export type Caller = (target: RpcTarget, method: string, params: RpcParams | unknown[], opts?: CallOptions) => Promise<unknown>;

/** Where an admin command prints, and how it was asked to behave. */
export interface AdminRunIo {
  out(line: string): void;
  err(line: string): void;
  json: boolean;
  sync: boolean;
  progress: boolean;
  /** How commands are typed here, for hints: `mailreplica ` on the command line, `` in the REPL. */
  prefix: string;
  /** Stops a --sync wait (not the operation). */
  signal?: AbortSignal;
}

/**
 * Calls the admin method with `params` (from `def.toParams`) and prints its result; waits
 * for the operation under --sync/--progress. Returns the exit code (0, or Carbonio's 0-4
 * after a wait). Throws CallError for a failed call.
 */
export async function executeAdmin(def: AdminCommandDef, params: RpcParams, call: Caller, io: AdminRunIo): Promise<number> {
  const admin = (method: string, p: RpcParams | unknown[]): Promise<unknown> => call("admin", method, p);
  const result = await call("admin", def.name, params, def.callTimeoutMs !== undefined ? { timeoutMs: def.callTimeoutMs } : undefined);
  const operationId = operationIdOf(result);
  const json = (v: unknown): void => io.out(JSON.stringify(v, null, 2));
  if (!(io.sync || io.progress || def.waits) || operationId === undefined) {
    if (io.json) json(result);
    else for (const line of def.format(result, io.prefix)) io.out(line);
    return def.exitCode?.(result) ?? 0;
  }
  if (!io.json && def.name !== "monitor") for (const line of formatValue(result)) io.out(line);
  const outcome = await waitForOperation(admin, operationId, {
    ...(io.signal ? { signal: io.signal } : {}),
    // Under --json, stdout holds only the JSON document: progress goes to stderr.
    ...(io.progress ? { onProgress: (line: string) => (io.json ? io.err(line) : io.out(line)) } : {}),
  });
  if (io.json) {
    json(outcome.reason === undefined ? outcome.last : { operationId, state: outcome.state, reason: outcome.reason, last: outcome.last ?? null });
  } else {
    if (outcome.last !== undefined) for (const line of formatMonitor(outcome.last)) io.out(line);
    if (outcome.reason !== undefined) io.err(`${io.prefix ? "mailreplica: " : ""}${outcome.reason}`);
  }
  return outcome.exitCode;
}

/** Prints a failed call the CLI's way (`mailreplica: <message> [<code>]`, or JSON under --json) and returns exit code 1. */
export function printCallError(e: CallError, io: CommandIo): number {
  if (io.globals.json) io.err(JSON.stringify({ error: e.toJSON() }));
  else io.err(`mailreplica: ${e.line}`);
  return 1;
}

/** Connects with the configured servers, runs `body`, closes; a CallError is printed and gives exit 1. */
async function withConnection(io: CommandIo, name: string, body: (call: Caller) => Promise<number>): Promise<number> {
  const { nats } = io.config();
  try {
    const nc = await connectNats(nats.servers, { name, auth: nats });
    try {
      const uploadsBucket = io.config().jetstream.buckets.uploads;
      const stdout = io.outBytes ? { stdout: (bytes: Uint8Array) => io.outBytes!(bytes) } : {};
      return await body((target, method, params, opts) => callMethod(nc, target, method, params, { cwd: io.cwd, uploadsBucket, ...stdout, ...opts }));
    } finally {
      await closeQuietly(nc);
    }
  } catch (e) {
    if (e instanceof CallError) return printCallError(e, io);
    throw e;
  }
}

/** `mailreplica <adminCommand> ...`: the exit code (0, 1 on a failed call; Carbonio's 0-4 with --sync). */
export async function runAdminCli(def: AdminCommandDef, argv: readonly string[], io: CommandIo): Promise<number> {
  const params = def.toParams(argv, io.cwd); // a usage error (exit 2) comes before any connection attempt
  // Ctrl-C while waiting stops the wait (exit 4 and how to follow the operation), not the CLI mid-call.
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once("SIGINT", onSigint);
  try {
    return await withConnection(io, `mailreplica ${def.name}`, (call) =>
      executeAdmin(def, params, call, {
        out: io.out,
        err: io.err,
        json: io.globals.json,
        sync: io.globals.sync,
        progress: io.globals.progress,
        prefix: "mailreplica ",
        signal: ac.signal,
      }),
    );
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** `mailreplica call <admin|mailbox> <method> [params]`: prints the result as JSON. */
export async function runCallCli(target: RpcTarget, method: string, params: RpcParams | unknown[], io: CommandIo): Promise<number> {
  return withConnection(io, `mailreplica call ${method}`, async (call) => {
    const result = await call(target, method, params);
    // getItem ... out -: standard output holds the message alone.
    const toStdout = target === "mailbox" && method === "getItem" && !Array.isArray(params) && params.out === "-";
    if (!toStdout) io.json(result);
    return 0;
  });
}
