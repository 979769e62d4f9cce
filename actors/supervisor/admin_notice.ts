// Admin notices (docs/architecture.md, Directory and operations): when `supervisor.adminAccount` is configured, the end of every
// operation is also delivered as a short message into that mailbox, so the Global Admin
// learns of it without watching the REPL. Delivery goes through mr.rpc.mailbox like any other
// mail (so the notice is itself replicated); a failure is logged and never fails the
// operation, which has already ended when the notice is written.
import type { Logger } from "../../src/log/index.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { rpcCall } from "../../src/jsonrpc/index.js";
import type { OperationRecord } from "./operations.js";

/** At most this many failed accounts are listed in the body; monitor has them all. */
const MAX_FAILED_LISTED = 50;
const DELIVERY_TIMEOUT_MS = 10_000;

/** What deliverAdminNotice needs of the supervisor. */
export interface NoticeSender {
  readonly nc: NatsConnection;
  readonly host: string;
  readonly opts: { adminAccount?: string };
  readonly clock: { now(): number };
  log: Logger;
}

/** Text from callers (host names, descriptions) kept on one line, so it cannot add lines. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").trim();
}

/** A header value on one line of printable ASCII; anything else is RFC 2047 encoded. */
function headerText(s: string): string {
  const line = oneLine(s);
  return /^[\x20-\x7e]*$/.test(line) ? line : `=?UTF-8?B?${Buffer.from(line, "utf8").toString("base64")}?=`;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at >= 0 ? address.slice(at + 1) : address;
}

/** The notice as RFC 822 text (CRLF line ends). */
export function buildAdminNotice(op: OperationRecord, what: string, adminAccount: string, supervisorHost: string, now: number): string {
  const domain = domainOf(adminAccount);
  const failed = op.results.filter((r) => !r.ok);
  const lines = [
    `Operation ${op.operationId} (${op.kind}) ended: ${op.state}.`,
    `What: ${oneLine(what)}`,
    "",
    `Total: ${op.total}`,
    `Done: ${op.done}`,
    `Failed: ${op.failed}`,
    `Started: ${new Date(op.startedAt).toISOString()}`,
    `Ended: ${new Date(op.endedAt ?? now).toISOString()}`,
    `Supervisor: ${supervisorHost}`,
  ];
  if (failed.length > 0) {
    lines.push("", "Failed accounts:");
    for (const r of failed.slice(0, MAX_FAILED_LISTED)) lines.push(`  ${r.account}: ${r.code ?? "failed"}${r.message ? ` - ${oneLine(r.message)}` : ""}`);
    if (failed.length > MAX_FAILED_LISTED) lines.push(`  ... and ${failed.length - MAX_FAILED_LISTED} more`);
  }
  lines.push("", `Details: mailreplica monitor ${op.operationId}`);
  const headers = [
    `From: mailreplica <mailreplica@${domain}>`,
    `To: ${adminAccount}`,
    `Subject: ${headerText(`mailreplica: ${op.kind} ${op.state} (${what})`)}`,
    `Date: ${new Date(now).toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${op.operationId}.${now}@${domain}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    `X-Mailreplica-Operation: ${op.operationId}`,
  ];
  return `${headers.join("\r\n")}\r\n\r\n${lines.join("\r\n")}\r\n`;
}

/** Delivers the notice into the admin mailbox, if one is configured. Never throws. */
export async function deliverAdminNotice(node: NoticeSender, op: OperationRecord, what: string): Promise<void> {
  const admin = node.opts.adminAccount;
  if (!admin) return;
  try {
    const raw = buildAdminNotice(op, what, admin, node.host, node.clock.now());
    await rpcCall(node.nc, "mr.rpc.mailbox", "deliverMessage", { account: admin, raw, folder: "Inbox" }, { timeoutMs: DELIVERY_TIMEOUT_MS });
  } catch (e) {
    const err = e as { message?: string; appCode?: string; code?: unknown };
    const code = err.appCode ?? (typeof err.code === "string" ? err.code : undefined);
    const hint = code === "ACCOUNT_UNKNOWN" ? "create the account (createAccount) or fix supervisor.adminAccount (MR_ADMIN_ACCOUNT)" : "";
    node.log.warn(
      { operationId: op.operationId, account: admin, error: err.message ?? String(e), ...(code ? { code } : {}), ...(hint ? { hint } : {}) },
      "admin notice of operation not delivered",
    );
  }
}
