// The terminal form of a JSON log line: `12:00:00.123 INFO  mailstore ms1 promoted here account=a@x epoch=2`.
// Written here rather than taken from pino-pretty: a few lines, no worker thread, and the
// same escaping (printable) as the rest of the CLI output, so it stays one line too.
import { printable } from "../text/printable.js";

const OWN = new Set(["time", "level", "role", "host", "msg"]);

function value(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? printable(JSON.stringify(v)) : printable(v);
  if (v && typeof v === "object" && "message" in v) {
    const e = v as { type?: unknown; message?: unknown };
    return printable(JSON.stringify(`${typeof e.type === "string" ? `${e.type}: ` : ""}${String(e.message)}`));
  }
  return printable(JSON.stringify(v) ?? String(v));
}

/** One JSON log line as one line of text for a person; a line that is not JSON is returned escaped. */
export function prettyLine(json: string): string {
  let ev: Record<string, unknown>;
  try {
    ev = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return printable(json);
  }
  const time = typeof ev.time === "string" ? ev.time.slice(11, 23) : "";
  const level = String(ev.level ?? "")
    .toUpperCase()
    .padEnd(5);
  const fields = Object.entries(ev)
    .filter(([k]) => !OWN.has(k))
    .map(([k, v]) => `${printable(k)}=${value(v)}`);
  return [time, level, printable(`${String(ev.role ?? "")} ${String(ev.host ?? "")}`), printable(String(ev.msg ?? "")), ...fields]
    .filter((s) => s !== "")
    .join(" ");
}
