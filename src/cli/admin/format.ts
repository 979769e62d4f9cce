// Human-readable output of admin results, in Carbonio's indented `name  value` style: a
// generic layout for any JSON, and dedicated ones for getAccountStatus, monitor and progress.
import { printable } from "../../text/printable.js";

const INDENT = "    ";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== "object";
}

/** Timestamps (`lastAppliedAt`, `at`, `validUntil` ...) in epoch ms are shown as ISO dates. */
function looksLikeTime(key: string, v: number): boolean {
  return (key === "at" || /(At|Until|Time)$/.test(key)) && v > 1e11 && v < 1e14;
}

function scalarText(key: string, v: unknown): string {
  if (v === null || v === undefined) return "-";
  // Server values may quote what a caller sent: one line each, control characters escaped.
  if (typeof v === "string") return v === "" ? '""' : printable(v);
  if (typeof v === "number" && looksLikeTime(key, v)) return new Date(v).toISOString();
  return String(v);
}

/** A value that fits on its key's line: a scalar, or a list of scalars (comma joined). */
function inlineText(key: string, v: unknown): string | undefined {
  if (isScalar(v)) return scalarText(key, v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "(none)";
    if (v.every(isScalar)) return v.map((x) => scalarText(key, x)).join(",");
  }
  if (isObject(v) && Object.keys(v).length === 0) return "(none)";
  return undefined;
}

/** `name  value` rows of `obj` (only `keys`, in that order), nested values indented below their name. */
export function formatRows(obj: Record<string, unknown>, keys: readonly string[], indent: string): string[] {
  const present = keys.filter((k) => obj[k] !== undefined);
  const width = Math.max(0, ...present.filter((k) => inlineText(k, obj[k]) !== undefined).map((k) => k.length));
  const lines: string[] = [];
  for (const k of present) {
    const v = obj[k];
    const text = inlineText(k, v);
    if (text !== undefined) {
      lines.push(`${indent}${printable(k).padEnd(width)}  ${text}`);
      continue;
    }
    lines.push(`${indent}${printable(k)}`);
    lines.push(...formatValue(v, indent + INDENT));
  }
  return lines;
}

/** Any JSON value as indented text: objects as rows, arrays of objects as blocks separated by a blank line. */
export function formatValue(value: unknown, indent = ""): string[] {
  if (isObject(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? [`${indent}(none)`] : formatRows(value, keys, indent);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}(none)`];
    if (value.every(isScalar)) return value.map((v) => `${indent}${scalarText("", v)}`);
    const lines: string[] = [];
    value.forEach((v, i) => {
      if (i > 0) lines.push("");
      lines.push(...formatValue(v, indent));
    });
    return lines;
  }
  return [`${indent}${scalarText("", value)}`];
}

// ---------------------------------------------------------------- getAccountStatus

const ACCOUNT_FIELDS = ["accountId", "accountMailHost", "paused", "mailboxId", "epoch", "sequence", "itemId"];
const REPLICA_FIELDS = ["available", "status", "delay", "sequence", "itemId", "mailboxId", "canConnectToNats", "lagEvents", "lagMs", "lastAppliedAt", "error"];

/** Known fields first, in a fixed order, then whatever else the server sent (never hidden). */
function orderedKeys(obj: Record<string, unknown>, first: readonly string[], skip: readonly string[]): string[] {
  return [...first.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !first.includes(k) && !skip.includes(k))];
}

function formatReplica(r: unknown, indent: string): string[] {
  if (!isObject(r)) return formatValue(r, indent);
  const head = `${indent}${scalarText("destination", r.destination)}${r.priority !== undefined ? ` (priority ${scalarText("priority", r.priority)})` : ""}`;
  // accountId repeats the account's own; destination and priority are in the head line.
  return [head, ...formatRows(r, orderedKeys(r, REPLICA_FIELDS, ["destination", "priority", "accountId"]), indent + INDENT)];
}

function formatAccount(a: unknown): string[] {
  if (!isObject(a)) return formatValue(a);
  const lines = [scalarText("accountName", a.accountName ?? a.accountId)];
  lines.push(...formatRows(a, orderedKeys(a, ACCOUNT_FIELDS, ["accountName", "replicas"]), INDENT));
  const replicas = a.replicas;
  if (Array.isArray(replicas) && replicas.length > 0) {
    lines.push(`${INDENT}replicas`);
    for (const r of replicas) lines.push(...formatReplica(r, INDENT + INDENT));
  } else if (replicas !== undefined) {
    lines.push(`${INDENT}replicas  (none)`);
  }
  return lines;
}

/** One block per account with its replicas (like Carbonio's), and a count. */
export function formatAccountStatus(result: unknown): string[] {
  const accounts = isObject(result) ? result.accounts : undefined;
  if (!Array.isArray(accounts)) return formatValue(result);
  if (accounts.length === 0) return ["no replicated account matches"];
  const lines: string[] = [];
  accounts.forEach((a, i) => {
    if (i > 0) lines.push("");
    lines.push(...formatAccount(a));
  });
  // `total` repeats the count printed last.
  const rest = Object.keys(result as Record<string, unknown>).filter((k) => k !== "accounts" && k !== "total");
  if (rest.length) lines.push("", ...formatRows(result as Record<string, unknown>, rest, ""));
  lines.push("", `${accounts.length} account${accounts.length === 1 ? "" : "s"}`);
  return lines;
}

// ---------------------------------------------------------------- operations

/** The operationId of a long operation's result, when it has one. */
export function operationIdOf(result: unknown): string | undefined {
  const id = isObject(result) ? result.operationId : undefined;
  return typeof id === "string" && id !== "" ? id : undefined;
}

function count(v: unknown): string {
  return typeof v === "number" ? String(v) : Array.isArray(v) ? String(v.length) : "?";
}

/** `operation <id>: running, 3/10 done, 1 failed` from a monitor result. */
export function operationSummary(m: unknown): string {
  const o = isObject(m) ? m : {};
  return `operation ${scalarText("", o.operationId)}: ${scalarText("", o.state)}, ${count(o.done)}/${count(o.total)} done, ${count(o.failed)} failed`;
}

const BAR_WIDTH = 20;

/** How far an operation is, 0..1: the supervisor's `progress` percent, else (done + failed) / total. */
function ratioOf(o: Record<string, unknown>): number | undefined {
  if (typeof o.progress === "number") return o.progress / 100;
  const { total, done, failed } = o;
  if (typeof total !== "number" || typeof done !== "number" || total <= 0) return undefined;
  return (done + (typeof failed === "number" ? failed : 0)) / total;
}

/** `[##########----------]  50% 5/10 done, 0 failed (running)`; no bar while the total is unknown. */
export function progressLine(m: unknown): string {
  const o = isObject(m) ? m : {};
  const tail = `${count(o.done)}/${count(o.total)} done, ${count(o.failed)} failed (${scalarText("", o.state)})`;
  const r = ratioOf(o);
  if (r === undefined) return `operation ${scalarText("", o.operationId)}: ${tail}`;
  const ratio = Math.min(1, Math.max(0, r));
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${tail}`;
}

/** One line per account of an operation: `a@x.com  ok` or `a@x.com  failed: <message> [<code>]`. */
function resultLine(r: unknown): string {
  if (!isObject(r) || typeof r.account !== "string") return formatValue(r).join(" ");
  if (r.ok === true) return `${printable(r.account)}  ok`;
  return `${printable(r.account)}  failed: ${scalarText("message", r.message)}${typeof r.code === "string" ? ` [${printable(r.code)}]` : ""}`;
}

/** A monitor result: the summary line, then the other fields, then one line per account done. */
export function formatMonitor(m: unknown): string[] {
  if (!isObject(m)) return formatValue(m);
  const skip = ["operationId", "state", "total", "done", "progress", "results"];
  const rest = Object.keys(m).filter((k) => !skip.includes(k) && !(k === "failed" && typeof m.failed === "number"));
  const lines = [operationSummary(m), ...formatRows(m, rest, INDENT)];
  if (Array.isArray(m.results) && m.results.length > 0) lines.push(`${INDENT}results`, ...m.results.map((r) => `${INDENT}${INDENT}${resultLine(r)}`));
  return lines;
}

// ---------------------------------------------------------------- getServices

/** One line per service: role, host, alive or down, the module's state, version, pid, start. */
export function formatServices(result: unknown): string[] {
  const services = isObject(result) ? result.services : undefined;
  if (!Array.isArray(services) || !services.every(isObject)) return formatValue(result);
  if (services.length === 0) return ["no mailstore or supervisor has been seen"];
  const rows = services.map((s) => {
    const module = isObject(s.services) && isObject(s.services.module) ? s.services.module : undefined;
    return [
      scalarText("role", s.role),
      scalarText("host", s.host),
      s.alive === true ? "alive" : s.alive === false ? "DOWN" : "-",
      module ? `module ${module.running === true ? "running" : "stopped"}` : "",
      s.version ? `v${scalarText("version", s.version)}` : "",
      s.pid ? `pid ${scalarText("pid", s.pid)}` : "",
      typeof s.startedAt === "number" ? `since ${scalarText("startedAt", s.startedAt)}` : "",
    ];
  });
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
}

/** A long operation's first answer: its fields, then how to follow it. */
export function formatOperationStart(result: unknown, prefix: string): string[] {
  const lines = formatValue(result);
  const id = operationIdOf(result);
  const state = isObject(result) ? result.state : undefined;
  // An operation that already ended (removeAccountDestination) needs no follow-up hint.
  if (id && (state === undefined || state === "running"))
    lines.push(`operation ${id} started; follow it with '${prefix}monitor ${id}', or run the command with --sync or --progress`);
  return lines;
}

// ---------------------------------------------------------------- verifyReplicas

/** Digests are sha256 hex; the first 12 characters tell copies apart on screen (--json has them whole). */
function shortDigest(v: unknown): string {
  return typeof v === "string" ? v.slice(0, 12) : "-";
}

function verdictWord(equal: unknown): string {
  return equal === true ? "equal" : equal === false ? "DIFFERENT" : "UNVERIFIED";
}

/** `item 262: primary {"flags":["seen"]}, replica {"flags":["flagged"]}` */
function differenceText(d: Record<string, unknown>): string {
  const what = [scalarText("kind", d.kind), d.id !== undefined ? scalarText("id", d.id) : "", d.path !== undefined ? `(${scalarText("path", d.path)})` : ""]
    .filter(Boolean)
    .join(" ");
  const side = (v: unknown): string => (v === null || v === undefined ? "missing" : JSON.stringify(v));
  return `${what}: primary ${side(d.primary)}, replica ${side(d.replica)}`;
}

/**
 * One block per account: the primary's line, then one line per replica (equal, DIFFERENT
 * with its first difference, UNVERIFIED with the reason), and the totals last.
 */
export function formatVerify(result: unknown): string[] {
  const accounts = isObject(result) ? result.accounts : undefined;
  if (!Array.isArray(accounts) || !accounts.every(isObject)) return formatValue(result);
  if (accounts.length === 0) return ["no account with a replica matches"];
  const lines: string[] = [];
  accounts.forEach((a, i) => {
    if (i > 0) lines.push("");
    lines.push(`${scalarText("account", a.account)}  ${verdictWord(a.equal)}`);
    lines.push(`${INDENT}primary  ${scalarText("primary", a.primary)}  seq ${scalarText("sequence", a.sequence)}  digest ${shortDigest(a.digest)}`);
    const replicas = Array.isArray(a.replicas) ? a.replicas.filter(isObject) : [];
    if (replicas.length === 0) lines.push(`${INDENT}replicas  (none)`);
    const width = Math.max(0, ...replicas.map((r) => scalarText("destination", r.destination).length));
    for (const r of replicas) {
      const head = `${INDENT}${scalarText("destination", r.destination).padEnd(width)}  ${verdictWord(r.equal)}`;
      lines.push(r.equal === null ? head : `${head}  seq ${scalarText("sequence", r.sequence)}  digest ${shortDigest(r.digest)}`);
      if (isObject(r.firstDifference)) lines.push(`${INDENT}${INDENT}first difference: ${differenceText(r.firstDifference)}`);
      if (typeof r.error === "string") lines.push(`${INDENT}${INDENT}${r.error}`);
    }
  });
  const o = result as Record<string, unknown>;
  lines.push(
    "",
    `${count(o.total)} account${o.total === 1 ? "" : "s"}: ${count(o.equal)} equal, ${count(o.different)} different, ${count(o.unverified)} unverified`,
  );
  return lines;
}
