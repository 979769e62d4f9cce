// Whatever the parser throws becomes a documented mailreplica error, never a library code or -32603.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MessageError, parseFailure, parseMessage } from "../src/rfc822/parse_message.js";
import { toErrorObject } from "../src/jsonrpc/index.js";

async function refusal(raw: string | Uint8Array, maxBytes?: number): Promise<MessageError> {
  try {
    await parseMessage(raw, 0, maxBytes);
  } catch (e) {
    assert.instance(e, MessageError);
    return e as MessageError;
  }
  throw new Error("parseMessage accepted it");
}

test("parse errors - a header section over mailparser's 1 MiB (EMAXLEN) is MESSAGE_TOO_COMPLEX (-32053)", async () => {
  const e = await refusal(`X-Big: ${"y".repeat(1100 * 1024)}\r\nSubject: s\r\n\r\nbody\r\n`);
  assert.is(e.code, "MESSAGE_TOO_COMPLEX");
  assert.is((e.cause as { code?: string }).code, "EMAXLEN", "the library's error is kept as the cause");
  const mapped = toErrorObject(e);
  assert.is(mapped.internal, false);
  assert.is(mapped.error.code, -32053);
  assert.equal(mapped.error.data, { code: "MESSAGE_TOO_COMPLEX" });
});

test("parse errors - more than 1000 MIME parts (EMAXLEN too) is MESSAGE_TOO_COMPLEX", async () => {
  const parts = Array.from({ length: 1100 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join("");
  const e = await refusal(`Subject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`);
  assert.is(e.code, "MESSAGE_TOO_COMPLEX");
});

test("parse errors - any other parser failure is INVALID_MESSAGE naming it; a bound on size is MESSAGE_TOO_LARGE", async () => {
  const other = parseFailure(Object.assign(new Error("weird input"), { code: "ESOMETHING" }));
  assert.is(other.code, "INVALID_MESSAGE");
  assert.match(other.message, /weird input/);
  assert.is(toErrorObject(other).error.code, -32024);
  const big = await refusal(Buffer.from(`Subject: s\r\n\r\n${"z".repeat(5000)}`), 2048);
  assert.is(big.code, "MESSAGE_TOO_LARGE");
  assert.match(big.message, /2048 bytes/);
  assert.is(toErrorObject(big).error.code, -32051);
  assert.is((await refusal("no header here")).code, "INVALID_MESSAGE");
});

test("parse errors - bytes and text of the same message give the same metadata", async () => {
  const raw = "Message-ID: <same@example.org>\r\nFrom: a@example.org\r\nTo: B@Example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody\r\n";
  assert.equal(await parseMessage(Buffer.from(raw), 1), await parseMessage(raw, 1));
});

test.run();
