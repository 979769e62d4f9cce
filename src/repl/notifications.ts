// Notifications for the Global Admin (docs/architecture.md, Directory and operations): a core subscription on
// mr.notify.> (MR_NOTIFY's subjects) shows new ones as they arrive; history stays in the stream.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { printable } from "../text/printable.js";

export const NOTIFY_SUBJECTS = "mr.notify.>";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fieldText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * One line for a notification body `{ kind, at, from, ...fields }`:
 * `*** [12:00:01] operation.completed from sup1: <summary, or the fields as name=value>`.
 */
export function formatNotification(subject: string, text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `*** ${subject}: ${text}`;
  }
  if (!isObject(body)) return `*** ${subject}: ${text}`;
  const { kind, at, from, summary, ...fields } = body;
  const when = typeof at === "number" ? new Date(at).toISOString().slice(11, 19) : undefined;
  const what = typeof kind === "string" ? kind : subject.replace(/^mr\.notify\./, "");
  const head = `*** ${when ? `[${when}] ` : ""}${what}${typeof from === "string" ? ` from ${from}` : ""}`;
  const detail =
    typeof summary === "string"
      ? summary
      : Object.entries(fields)
          .map(([k, v]) => `${k}=${fieldText(v)}`)
          .join(" ");
  return detail ? `${head}: ${detail}` : head;
}

/** Prints each new notification through `print` until stop(). */
export function watchNotifications(nc: NatsConnection, print: (line: string) => void): { stop(): void } {
  const sub: Subscription = nc.subscribe(NOTIFY_SUBJECTS, {
    callback: (err, msg) => {
      if (err) {
        print(`*** notifications stopped: ${err.message}`);
        return;
      }
      // Anyone who may publish on mr.notify.> chooses the text: one line, control characters escaped.
      print(printable(formatNotification(msg.subject, msg.string())));
    },
  });
  return { stop: () => sub.unsubscribe() };
}
