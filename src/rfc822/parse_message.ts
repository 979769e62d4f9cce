// Reads the metadata a mailbox lists (sender, recipients, subject, date) from RFC 822 text.
// Only the primary parses, once per delivery; the parsed fields travel in the log entry, so
// replicas never parse and always agree.
import { randomUUID } from "node:crypto";
import { simpleParser, type AddressObject } from "mailparser";
import type { DeliveredMessage } from "../mail/index.js";

/** The listed metadata of a message: a delivery's fields before its body has a blob digest. */
export type MessageMeta = Omit<DeliveredMessage, "blob">;

export class MessageError extends Error {
  readonly code = "INVALID_MESSAGE";
  constructor(message: string) {
    super(message);
    this.name = "MessageError";
  }
}

/** Largest raw message accepted (bytes). */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

// A header section starts the message: at least one "Name: value" line.
const FIRST_HEADER = /^[!-9;-~]+:/;

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  const out: string[] = [];
  for (const obj of list) {
    for (const v of obj.value) {
      if (v.address) out.push(v.address.toLowerCase());
      for (const g of v.group ?? []) if (g.address) out.push(g.address.toLowerCase());
    }
  }
  return out;
}

export async function parseMessage(raw: string, now: number = Date.now()): Promise<MessageMeta> {
  const size = Buffer.byteLength(raw, "utf8");
  if (size === 0) throw new MessageError("raw is empty; give the whole RFC 822 message (headers, a blank line, the body)");
  if (size > MAX_MESSAGE_BYTES) throw new MessageError(`raw is ${size} bytes; the largest message accepted is ${MAX_MESSAGE_BYTES} bytes`);
  if (!FIRST_HEADER.test(raw)) {
    throw new MessageError("raw does not start with a header line ('Name: value'); give the whole RFC 822 message (headers, a blank line, the body)");
  }
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const date = parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.getTime() : now;
  return {
    messageId: parsed.messageId ?? `<${randomUUID()}@mailreplica>`,
    from: addresses(parsed.from)[0] ?? "",
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    subject: parsed.subject ?? "",
    date,
    size,
  };
}
