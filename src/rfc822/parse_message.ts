// Reads the metadata a mailbox lists (sender, recipients, subject, date) from RFC 822 text.
// Only the primary parses, once per delivery; the parsed fields travel in the log entry, so
// replicas never parse and always agree.
import { randomUUID } from "node:crypto";
import { simpleParser, type AddressObject } from "mailparser";
import type { DeliveredMessage } from "../mail/index.js";
import { CallerFacingError } from "../errors/index.js";

/** The listed metadata of a message: a delivery's fields before its body has a blob digest. */
export type MessageMeta = Omit<DeliveredMessage, "blob">;

/** What is wrong with a message; each code is documented (src/jsonrpc/codes.ts, README). */
export type MessageErrorCode = "INVALID_MESSAGE" | "MESSAGE_TOO_LARGE" | "MESSAGE_TOO_COMPLEX";

/** Caller-facing: the message the caller sent is refused, with a documented code; `cause` is the parser's error. */
export class MessageError extends CallerFacingError<MessageErrorCode> {
  constructor(message: string, code: MessageErrorCode = "INVALID_MESSAGE", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Largest raw message accepted by default (bytes): `limits.maxMessageBytes`' default. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

/** The refusal of a message over the limit (also used before an upload is read). */
export function messageTooLarge(what: string, size: number, maxBytes: number): MessageError {
  return new MessageError(
    `${what} is ${size} bytes; the largest message accepted is ${maxBytes} bytes (limits.maxMessageBytes); nothing was stored`,
    "MESSAGE_TOO_LARGE",
  );
}

/**
 * A parser failure as a documented error: mailsplit's EMAXLEN (a header section over 1 MiB,
 * or more than 1000 MIME parts) has its own code, anything else the parser throws means the text is not a message
 * it can read. Never a raw library error (its code would reach the caller undocumented).
 */
export function parseFailure(err: unknown): MessageError {
  const code = (err as { code?: unknown } | null)?.code;
  const detail = String((err as Error | null)?.message ?? err).slice(0, 200);
  if (code === "EMAXLEN") {
    return new MessageError(
      `the message is over the parser's limits (${detail}): at most 1 MiB of headers per part and 1000 MIME parts; nothing was stored`,
      "MESSAGE_TOO_COMPLEX",
      { cause: err },
    );
  }
  return new MessageError(
    `raw could not be parsed as an RFC 822 message (${detail}); give the whole message (headers, a blank line, the body)`,
    "INVALID_MESSAGE",
    { cause: err },
  );
}

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

/**
 * The listed metadata of `raw` (text, or the bytes of an upload). Refuses an empty text, one
 * over `maxBytes`, one that does not start with a header line, and one the parser cannot read,
 * each with a MessageError.
 */
export async function parseMessage(raw: string | Uint8Array, now: number = Date.now(), maxBytes: number = MAX_MESSAGE_BYTES): Promise<MessageMeta> {
  const size = typeof raw === "string" ? Buffer.byteLength(raw, "utf8") : raw.length;
  if (size === 0) throw new MessageError("raw is empty; give the whole RFC 822 message (headers, a blank line, the body)");
  if (size > maxBytes) throw messageTooLarge("the message", size, maxBytes);
  // Only the start is tested: decoding a few bytes of an upload, not all of it.
  const head = typeof raw === "string" ? raw.slice(0, 8192) : Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.length, 8192)).toString("latin1");
  if (!FIRST_HEADER.test(head)) {
    throw new MessageError("raw does not start with a header line ('Name: value'); give the whole RFC 822 message (headers, a blank line, the body)");
  }
  let parsed;
  try {
    const input = typeof raw === "string" ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    parsed = await simpleParser(input, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  } catch (e) {
    throw parseFailure(e);
  }
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
