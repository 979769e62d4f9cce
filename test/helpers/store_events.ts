// Mail events written straight into a store (tests of the store and of snapshots that need
// many items without going through NATS).
import type { MailEvent } from "../../src/mail/index.js";

/** `n` message.delivered events for items `from`, `from + 1`, … in the Inbox (folder 2). */
export function deliveredEvents(from: number, n: number): MailEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    t: "message.delivered" as const,
    itemId: from + i,
    folderId: 2,
    messageId: `<${from + i}@example.com>`,
    from: "a@example.org",
    to: ["b@example.com"],
    cc: [],
    subject: `item ${from + i}`,
    date: 1_760_000_000_000 + from + i,
    size: 100,
    flags: [],
    tags: [],
    blob: `b1.k1.${(from + i).toString(16).padStart(64, "0")}`,
  }));
}
