// Reading back a message larger than one NATS message, on a real system (nats-server with its
// default 1 MiB max_payload, two in-process mailstores, real SQLite): a 3 MiB message with
// 8-bit bytes delivered through the upload object store is read with getItemBody in parts,
// byte for byte; bad ranges are refused and change nothing; getItem of a small message is as
// it was; the CLI's `getItem ... out FILE` (and `out -`) writes the whole message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { tempDir } from "./helpers/processes.js";
import { stopBounded } from "./helpers/workload.js";
import { refused } from "./helpers/refused.js";
import { RpcError } from "../src/jsonrpc/index.js";
import { callMethod, CallError } from "../src/cli/admin/index.js";
import { runCli } from "../src/cli/main.js";
import type { CliIo } from "../src/cli/types.js";
import { ReplSession } from "../src/repl/session.js";
import { maxBodyPart } from "../actors/mailstore/item_body.js";
import type { MailstoreNode } from "../actors/mailstore/node.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
const ACCOUNT = "reader@example.com";
const MAX_PAYLOAD = 1024 * 1024;
const PART = maxBodyPart(MAX_PAYLOAD);

let sys: TestSystem;
let uploads: ObjectStore;
let accountId: string;
let ms1: MailstoreNode;
/** how often ms1 fetched and opened a body from mr_blobs */
let loads = 0;
let big: { id: number; raw: Buffer; sha256: string };

/** A 3 MiB message whose body is every byte value (8-bit, not UTF-8), from a fixed seed. */
function largeMessage(): Buffer {
  const head = Buffer.from(
    "From: big@example.org\r\nTo: reader@example.com\r\nSubject: three MiB\r\nMessage-ID: <big3@example.org>\r\n" +
      "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n",
  );
  const body = Buffer.alloc(3 * 1024 * 1024);
  let x = 0x2545f491;
  for (let i = 0; i < body.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    body[i] = x & 0xff;
  }
  return Buffer.concat([head, body]);
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

async function part(params: Record<string, unknown>): Promise<any> {
  return sys.mailbox("getItemBody", { account: ACCOUNT, ...params });
}

async function appliedSeq(): Promise<number> {
  return ms1.store.replicaState(accountId)!.appliedSeq;
}

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2] });
  ms1 = await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  await sys.startSupervisor(); // writes the account record createAccount asks for
  accountId = (await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: MS1 })).id;
  uploads = await new Objm(sys.nc).open(sys.config.jetstream.buckets.uploads);
  // Counts the body reads of the primary (a wrapper, the real store underneath).
  const get = ms1.blobs.get.bind(ms1.blobs);
  ms1.blobs.get = (name: string) => {
    loads++;
    return get(name);
  };
  const raw = largeMessage();
  await uploads.putBlob({ name: "read-back-3mib" }, raw);
  const r = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "read-back-3mib" }, 30_000);
  big = { id: r.itemId, raw, sha256: sha256(raw) };
});
test.after(async () => {
  await stopBounded(sys);
});

test("upload read back - a 3 MiB message is read back in parts of at most one answer, byte for byte, its body fetched and decrypted once", async () => {
  assert.ok(big.raw.length > 3 * MAX_PAYLOAD, "larger than three NATS messages");
  const before = loads;
  const parts: any[] = [];
  let offset = 0;
  for (;;) {
    const p = await part({ id: big.id, offset });
    parts.push(p);
    assert.ok(Buffer.byteLength(JSON.stringify(p)) < MAX_PAYLOAD, "the answer fits in one NATS message");
    assert.is(p.id, big.id);
    assert.is(p.offset, offset);
    assert.is(p.size, big.raw.length);
    assert.is(p.sha256, big.sha256, "the whole body's sha256, in every answer");
    assert.is(Buffer.from(p.data, "base64").length, p.length);
    offset += p.length;
    if (!p.more) {
      assert.is(p.nextOffset, undefined);
      break;
    }
    assert.is(p.length, PART, "the largest part when no length is given");
    assert.is(p.nextOffset, offset);
  }
  assert.is(parts.length, Math.ceil(big.raw.length / PART));
  const whole = Buffer.concat(parts.map((p) => Buffer.from(p.data, "base64")));
  assert.ok(whole.equals(big.raw), "the exact bytes, 8-bit ones included");
  assert.is(sha256(whole), big.sha256);
  assert.is(loads - before, 1, "one fetch and decryption for all the parts (the cache)");
  assert.ok(ms1.bodies.cache.bytes >= big.raw.length, "the decrypted body is held between parts");

  // Any length, in any order, all at once: the same bytes.
  const length = 100_003;
  const offsets = Array.from({ length: Math.ceil(big.raw.length / length) }, (_, i) => i * length).reverse();
  const got = await Promise.all(offsets.map((o) => part({ id: big.id, offset: o, length })));
  for (const [i, p] of got.entries()) {
    const o = offsets[i]!;
    assert.is(p.offset, o);
    assert.is(p.length, Math.min(length, big.raw.length - o), "the last part stops at the end");
    assert.ok(Buffer.from(p.data, "base64").equals(big.raw.subarray(o, o + length)), `part at ${o}`);
  }
  // A range that ends past the body is cut at its end.
  const tail = await part({ id: big.id, offset: big.raw.length - 10, length: 1000 });
  assert.equal([tail.length, tail.more, Buffer.from(tail.data, "base64").equals(big.raw.subarray(-10))], [10, false, true]);
});

test("upload read back - getItem of the large message says which call reads it; its metadata is intact", async () => {
  const e = await refused(sys.mailbox("getItem", { account: ACCOUNT, id: big.id }), "MESSAGE_TOO_LARGE");
  assert.is(e.code, -32051);
  assert.match(e.message, /read it in parts with getItemBody/);
  assert.match(e.message, new RegExp(`getItem account A id ${big.id} out FILE`));
  const data = e.data as Record<string, unknown>;
  assert.is(data.readWith, "getItemBody");
  assert.is(data.size, big.raw.length);
  assert.is(data.maxLength, PART);
  const listed = (await sys.mailbox("listItems", { account: ACCOUNT, limit: 1000 })).items.find((i: { id: number }) => i.id === big.id);
  assert.is(listed.subject, "three MiB");
  assert.is(listed.size, big.raw.length);
});

test("upload read back - bad ranges are refused with -32602 naming the param and what is allowed, before the body is read; nothing changes", async () => {
  const seq = await appliedSeq();
  const total = (await sys.mailbox("listItems", { account: ACCOUNT, limit: 1 })).total;
  const before = loads;
  const size = big.raw.length;
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ offset: -1 }, "offset", /"offset" must be an integer of at least 0, got the number -1/],
    [{ offset: 1.5 }, "offset", /"offset" must be an integer of at least 0, got the number 1.5/],
    [{ offset: "10" }, "offset", /"offset" must be an integer of at least 0, got the string "10"/],
    [
      { offset: size },
      "offset",
      new RegExp(`"offset" must be an integer from 0 to ${size - 1} \\(item ${big.id}'s body is ${size} bytes\\), got the number ${size}`),
    ],
    [{ offset: size + 4096 }, "offset", new RegExp(`from 0 to ${size - 1} .*got the number ${size + 4096}`)],
    [{ length: 0 }, "length", /"length" must be an integer of at least 1, got the number 0/],
    [{ length: -5 }, "length", /"length" must be an integer of at least 1, got the number -5/],
    [{ length: 2.5 }, "length", /"length" must be an integer of at least 1, got the number 2.5/],
    [{ length: "all" }, "length", /"length" must be an integer of at least 1, got the string "all"/],
    [
      { length: PART + 1 },
      "length",
      new RegExp(
        `"length" must be an integer from 1 to ${PART} \\(the most one answer carries, base64, under this NATS server's max_payload of ${MAX_PAYLOAD} bytes\\), got the number ${PART + 1}`,
      ),
    ],
    [{ length: 25 * 1024 * 1024 }, "length", new RegExp(`from 1 to ${PART} `)],
    [{ id: 0 }, "id", /"id" must be an integer of at least 1/],
    [{ id: undefined }, "id", /"id" is missing; it is required/],
    [{ range: "0-100" }, "range", /unknown param "range"; allowed names: account, id, offset, length/],
  ];
  for (const [params, param, message] of cases) {
    const e = await sys.mailbox("getItemBody", { account: ACCOUNT, id: big.id, ...params }).then(
      () => assert.unreachable(`${JSON.stringify(params)} must be refused`),
      (x: unknown) => x,
    );
    assert.instance(e, RpcError, JSON.stringify(params));
    assert.is((e as RpcError).code, -32602, JSON.stringify(params));
    assert.match((e as RpcError).message, message);
    assert.is(((e as RpcError).data as { param?: string }).param, param);
  }
  // An item or account that is not there: the usual codes.
  await refused(part({ id: 424242 }), "ITEM_NOT_FOUND");
  await refused(sys.mailbox("getItemBody", { account: "nobody@example.com", id: big.id }), "ACCOUNT_UNKNOWN");
  assert.is(loads, before, "no refused range read the body");
  assert.is(await appliedSeq(), seq, "nothing appended to the account log");
  assert.is((await sys.mailbox("listItems", { account: ACCOUNT, limit: 1 })).total, total);
});

test("upload read back - a small message: getItem unchanged, getItemBody gives it whole in one part and keeps nothing", async () => {
  const raw = rawMessage(7, ACCOUNT);
  const id = (await sys.mailbox("deliverMessage", { account: ACCOUNT, raw })).itemId;
  const item = await sys.mailbox("getItem", { account: ACCOUNT, id });
  assert.equal(Object.keys(item).sort(), [
    "blob",
    "cc",
    "date",
    "flags",
    "folder",
    "folderId",
    "from",
    "id",
    "messageId",
    "raw",
    "size",
    "subject",
    "tags",
    "to",
  ]);
  assert.is(item.raw, raw);
  assert.is(item.size, Buffer.byteLength(raw));
  const cached = ms1.bodies.cache.names();
  const p = await part({ id });
  assert.equal(Object.keys(p).sort(), ["data", "id", "length", "more", "offset", "sha256", "size"]);
  assert.equal([p.offset, p.length, p.size, p.more], [0, item.size, item.size, false]);
  assert.is(Buffer.from(p.data, "base64").toString("utf8"), raw);
  assert.is(p.sha256, sha256(Buffer.from(raw)));
  assert.equal(ms1.bodies.cache.names(), cached, "a body read whole in one answer is not kept");
});

function cliIo(cwd: string): { io: CliIo; out: string[]; err: string[]; bytes: Buffer[] } {
  const out: string[] = [];
  const err: string[] = [];
  const bytes: Buffer[] = [];
  const io: CliIo = {
    out: (l) => void out.push(l),
    err: (l) => void err.push(l),
    outBytes: async (b) => void bytes.push(Buffer.from(b)),
    env: { MR_SERVERS: sys.nats.url, MR_SYSTEM_CONFIG: "none" },
    cwd,
  };
  return { io, out, err, bytes };
}

test("upload read back - the CLI's getItem ... out FILE writes the whole message (mode 0600), out - writes it to standard output alone", async () => {
  const dir = tempDir("mr-read-back-");
  const r = (await callMethod(sys.nc, "mailbox", "getItem", { account: ACCOUNT, id: big.id, out: "copy.eml" }, { cwd: dir })) as Record<string, unknown>;
  const file = join(dir, "copy.eml");
  assert.equal(r, { id: big.id, size: big.raw.length, sha256: big.sha256, parts: Math.ceil(big.raw.length / PART), out: file });
  assert.ok(readFileSync(file).equals(big.raw), "the file holds the exact message");
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.equal(readdirSync(dir), ["copy.eml"], "no partial file left beside it");

  // The command line: name value words, the summary as JSON.
  const cli = cliIo(dir);
  assert.is(await runCli(["call", "mailbox", "getItem", "account", ACCOUNT, "id", String(big.id), "out", "cli.eml"], cli.io), 0, cli.err.join("\n"));
  assert.ok(readFileSync(join(dir, "cli.eml")).equals(big.raw));
  assert.equal(JSON.parse(cli.out.join("\n")), {
    id: big.id,
    size: big.raw.length,
    sha256: big.sha256,
    parts: Math.ceil(big.raw.length / PART),
    out: join(dir, "cli.eml"),
  });

  // out -: standard output holds the message and nothing else.
  const piped = cliIo(dir);
  assert.is(await runCli(["call", "mailbox", "getItem", "account", ACCOUNT, "id", String(big.id), "out", "-"], piped.io), 0, piped.err.join("\n"));
  assert.ok(Buffer.concat(piped.bytes).equals(big.raw));
  assert.equal(piped.out, []);

  // The REPL saves to a file too; it has no standard output for bytes.
  const lines: string[] = [];
  const session = new ReplSession({
    cwd: dir,
    out: (l) => void lines.push(...(typeof l === "string" ? [l] : l)),
    call: (t, m, p) => callMethod(sys.nc, t, m, p, { cwd: dir }),
  });
  assert.is(await session.execute(`getItem account ${ACCOUNT} id ${big.id} out repl.eml`), "ok", lines.join("\n"));
  assert.ok(readFileSync(join(dir, "repl.eml")).equals(big.raw));
  assert.is(await session.execute(`getItem account ${ACCOUNT} id ${big.id} out -`), "failed");
  assert.match(lines[lines.length - 1]!, /out - \(standard output\) is for the command line only; give a file path \[INVALID_PARAMS\]/);

  // A failed read leaves no file, neither under the name nor beside it.
  const e = await callMethod(sys.nc, "mailbox", "getItem", { account: ACCOUNT, id: 424242, out: "missing.eml" }, { cwd: dir }).catch((x: unknown) => x);
  assert.instance(e, CallError);
  assert.is((e as CallError).code, "ITEM_NOT_FOUND");
  assert.not.ok(existsSync(join(dir, "missing.eml")));
  assert.equal(readdirSync(dir).sort(), ["cli.eml", "copy.eml", "repl.eml"]);
});

test.run();
