// The NATS edge of the admin CLI and the REPL: connecting, and calling a method on
// mr.rpc.admin or mr.rpc.mailbox. Every failure leaves here as a CallError that says what to
// do. nats and the JSON-RPC client are imported on first use, so command files stay light.
import type { NatsConnection } from "@nats-io/transport-node";
import type { NatsAuth } from "../../natsauth/connect_options.js";
import { CallError, codeOfRpcError } from "./errors.js";

/** Who answers a call: the supervisor (admin methods) or any mailstore (mailbox methods). */
export type RpcTarget = "admin" | "mailbox";

export const RPC_SUBJECTS: Readonly<Record<RpcTarget, string>> = {
  admin: "mr.rpc.admin",
  mailbox: "mr.rpc.mailbox",
};

/** Admin calls may scan many accounts (getAccountStatus): wait longer than the client's 10 s default. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface ConnectOptions {
  /** Connection name shown by the NATS server. */
  name: string;
  /** Keep reconnecting forever (the REPL); a one-shot CLI call gives up after nats.js's default attempts. */
  reconnectForever?: boolean;
  /** How long the first connection may take, ms. Default 5000. */
  timeoutMs?: number;
  /** Credentials, TLS and inbox prefix (config nats.*); none: anonymous. */
  auth?: NatsAuth;
}

/**
 * Connects to `servers` with the configured credentials; throws CallError NATS_UNREACHABLE
 * naming them and how to get a server, or NATS_AUTH_FILE / NATS_AUTH_REFUSED / NATS_TLS_FAILED
 * naming the setting to fix.
 */
export async function connectNats(servers: readonly string[], opts: ConnectOptions): Promise<NatsConnection> {
  const { connect } = await import("@nats-io/transport-node");
  const { natsAuthFailure, natsConnectionOptions } = await import("../../natsauth/connect_options.js");
  try {
    return await connect({
      // Without nats.inboxPrefix the CLI and the REPL reply on the admin identity's inboxes.
      ...natsConnectionOptions(servers, opts.auth, { identity: { role: "admin" } }),
      name: opts.name,
      timeout: opts.timeoutMs ?? 5_000,
      ...(opts.reconnectForever ? { maxReconnectAttempts: -1 } : {}),
    });
  } catch (e) {
    const auth = natsAuthFailure(e, servers, opts.auth);
    if (auth) throw new CallError(auth.message, auth.code);
    const code = (e as { code?: unknown }).code;
    const why = typeof code === "string" && code !== "" ? code : (e as Error).message;
    throw new CallError(
      `cannot connect to NATS at ${servers.join(",")} (${why}); start a local cluster with 'npm start' (mailreplica dev), or point --servers / MR_SERVERS at a running nats-server`,
      "NATS_UNREACHABLE",
    );
  }
}

/** What to start when nothing answers on a target's subject. */
function noResponderMessage(target: RpcTarget, servers: string): string {
  return target === "admin"
    ? `the supervisor is not running: nothing answers ${RPC_SUBJECTS.admin} on ${servers}; start it with 'mailreplica supervisor --servers ${servers}', or run 'npm start' (mailreplica dev) for a whole local cluster`
    : `no mailstore is running: nothing answers ${RPC_SUBJECTS.mailbox} on ${servers}; start one with 'mailreplica mailstore --host H --servers ${servers}', or run 'npm start' (mailreplica dev) for a whole local cluster`;
}

export interface CallOptions {
  timeoutMs?: number;
  /** base of a relative deliverMessage `file`; default the process's cwd */
  cwd?: string;
  /** upload object store for deliverMessage `file` (jetstream.buckets.uploads); default mr_uploads */
  uploadsBucket?: string;
  /** where getItem `out -` writes the message (standard output); without it, `out -` is refused */
  stdout?: (bytes: Uint8Array) => Promise<void>;
}

/**
 * Calls `method` on the target's subject and resolves with its result. Throws CallError:
 * the server's error (code = data.code or the protocol name), NO_RESPONDER saying what to
 * start, TIMEOUT, or BAD_RESPONSE. Two calls are the CLI's own: deliverMessage with `file`
 * (sent inline or through the upload object store) and getItem with `out` (the message read
 * with getItemBody, part after part, into a file).
 */
export async function callMethod(
  nc: NatsConnection,
  target: RpcTarget,
  method: string,
  params: Record<string, unknown> | unknown[],
  opts: CallOptions = {},
): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (target === "mailbox" && method === "getItem" && !Array.isArray(params) && params.out !== undefined) {
    const { saveItemBody } = await import("./item_download.js");
    return saveItemBody((p) => callOnce(nc, target, "getItemBody", p, timeoutMs), params, {
      cwd: opts.cwd ?? process.cwd(),
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
    });
  }
  // deliverMessage `file`: inline when small, else through the upload object store.
  const delivery =
    target === "mailbox" && method === "deliverMessage" && !Array.isArray(params)
      ? await (await import("./deliver_file.js")).prepareDelivery(nc, params, { cwd: opts.cwd ?? process.cwd(), bucket: opts.uploadsBucket ?? "mr_uploads" })
      : undefined;
  let failed = true;
  try {
    const result = await callOnce(nc, target, method, delivery?.params ?? params, timeoutMs);
    failed = false;
    return result;
  } finally {
    await delivery?.cleanup(failed);
  }
}

/** One JSON-RPC call, its failures turned into CallErrors. */
async function callOnce(
  nc: NatsConnection,
  target: RpcTarget,
  method: string,
  params: Record<string, unknown> | unknown[],
  timeoutMs: number,
): Promise<unknown> {
  const { rpcCall, RpcError, RpcClientError } = await import("../../jsonrpc/index.js");
  try {
    return await rpcCall(nc, RPC_SUBJECTS[target], method, params, { timeoutMs });
  } catch (e) {
    if (e instanceof RpcError) {
      // "Method not found" alone does not say which: an older server lacks this one.
      const message = e.code === -32601 ? `${e.message}: the ${target === "admin" ? "supervisor" : "mailstore"} does not have '${method}'` : e.message;
      throw new CallError(message, codeOfRpcError(e.code, e.data), e.code, e.data);
    }
    if (e instanceof RpcClientError) {
      const servers = nc.getServer() || "NATS";
      const message = e.code === "NO_RESPONDER" ? noResponderMessage(target, servers) : e.message;
      throw new CallError(message, e.code);
    }
    throw e;
  }
}

/** Closes the connection, flushing what is pending; never throws (it runs on the way out). */
export async function closeQuietly(nc: NatsConnection): Promise<void> {
  try {
    await nc.close();
  } catch {
    /* already closed */
  }
}
