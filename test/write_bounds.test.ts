// Write-path bounds on a real system whose nats-server has a small max_payload (256 KiB), so
// group commits, list pages and messages meet it with test-sized data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { RpcError } from "../src/jsonrpc/index.js";
import { callMethod } from "../src/cli/admin/index.js";
import { CallError } from "../src/cli/admin/errors.js";

const MAX_PAYLOAD = 256 * 1024;
const MAX_MESSAGE = 6 * 1024 * 1024;
const ACCOUNT = "bounds@example.com";

let sys: TestSystem;
let uploads: ObjectStore;
let accountId: string;

test.before(async () => {
  sys = await TestSystem.start({
    hosts: ["ms1.example.com", "ms2.example.com"],
    natsMaxPayload: MAX_PAYLOAD,
    config: (c) => {
      c.limits.maxMessageBytes = MAX_MESSAGE;
    },
  });
  await sys.startMailstore("ms1.example.com");
  await sys.startMailstore("ms2.example.com");
  await sys.startSupervisor();
  accountId = (await sys.mailbox("createAccount", { name: ACCOUNT, mailHost: "ms1.example.com" })).id;
  await sys.admin("setAccountDestination", { destination: "ms2.example.com", priority: 10, accounts: [ACCOUNT] });
  await waitFor("replica available", async () => {
    const a = (await sys.admin("getAccountStatus", { accounts: ACCOUNT })).accounts[0];
    return a?.replicas[0]?.available === true;
  });
  uploads = await new Objm(sys.nc).open(sys.config.jetstream.buckets.uploads);
});
test.after(async () => {
  await sys?.stop();
});

/** A message whose listed metadata (recipients) is about `bytes` long. */
function wideMessage(n: number, bytes: number): string {
  const per = `rcpt${n}-0000000@example.com`.length + 2;
  const to = Array.from({ length: Math.ceil(bytes / per) }, (_, i) => `rcpt${n}-${String(i).padStart(7, "0")}@example.com`).join(",\r\n ");
  return `From: wide${n}@example.org\r\nTo: ${to}\r\nSubject: wide ${n}\r\nMessage-ID: <wide${n}@example.org>\r\n\r\nbody ${n}\r\n`;
}

/** A message whose Subject is about `bytes` long. */
function longSubject(n: number, bytes: number): string {
  return `From: long${n}@example.org\r\nTo: user@example.com\r\nSubject: ${"s".repeat(bytes)}\r\nMessage-ID: <long${n}@example.org>\r\n\r\nbody ${n}\r\n`;
}

async function upload(name: string, data: string | Uint8Array): Promise<void> {
  await uploads.putBlob({ name }, typeof data === "string" ? Buffer.from(data, "utf8") : data);
}

async function total(): Promise<number> {
  return (await sys.mailbox("listItems", { account: ACCOUNT, limit: 1 })).total;
}

async function replicaEqual(): Promise<void> {
  const ms1 = sys.inProcess.get("ms1.example.com")!.store;
  const ms2 = sys.inProcess.get("ms2.example.com")!.store;
  await waitFor("replica equal to primary", () => JSON.stringify(ms2.dumpAccount(accountId)) === JSON.stringify(ms1.dumpAccount(accountId)));
}

function appCode(e: unknown): string | undefined {
  return e instanceof RpcError ? e.appCode : undefined;
}

test("write bounds - a delivery too large for one append is refused alone (ENTRY_TOO_LARGE); the small ones delivered with it are stored and replicated", async () => {
  const before = await total();
  await upload("huge-1", wideMessage(1, MAX_PAYLOAD + 20 * 1024));
  const small = [0, 1, 2, 3, 4].map((i) => sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(100 + i) }));
  const huge = sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "huge-1" }).then(
    () => assert.unreachable("the huge delivery must be refused"),
    (e: unknown) => e,
  );
  const results = await Promise.all(small);
  for (const r of results) assert.type(r.itemId, "number");
  const err = await huge;
  assert.instance(err, RpcError);
  assert.is((err as RpcError).code, -32050);
  assert.is(appCode(err), "ENTRY_TOO_LARGE");
  assert.match((err as RpcError).message, /over the \d+ bytes one append/);
  assert.is(await total(), before + 5, "the five small ones, not the huge one");
  // Refused: its upload stays for the client to fix or delete.
  assert.is((await uploads.info("huge-1"))?.deleted, false);
  await replicaEqual();
});

test("write bounds - deliveries whose group commit is over max_payload are split into several appends, applied in order on the replica", async () => {
  const before = await total();
  const seqBefore = sys.inProcess.get("ms1.example.com")!.store.replicaState(accountId)!.appliedSeq;
  // 12 × ~60 KiB of metadata: about 720 KiB, nearly three times max_payload.
  const ids = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      sys.mailbox("deliverMessage", { account: ACCOUNT, raw: longSubject(200 + i, 60 * 1024) }).then((r) => r.itemId as number),
    ),
  );
  assert.is(new Set(ids).size, 12);
  assert.is(await total(), before + 12);
  const seqAfter = sys.inProcess.get("ms1.example.com")!.store.replicaState(accountId)!.appliedSeq;
  assert.ok(seqAfter - seqBefore >= 3, `at least 3 appends for 720 KiB under a ${MAX_PAYLOAD}-byte max_payload (got ${seqAfter - seqBefore})`);
  await replicaEqual();
});

test("write bounds - listItems pages stop before max_payload and say where the next one starts", async () => {
  const all: number[] = [];
  let offset = 0;
  let pages = 0;
  for (;;) {
    const page = await sys.mailbox("listItems", { account: ACCOUNT, limit: 1000, offset });
    pages++;
    assert.ok(Buffer.byteLength(JSON.stringify(page)) < MAX_PAYLOAD, "the page fits in one message");
    all.push(...page.items.map((i: { id: number }) => i.id));
    if (!page.more) {
      assert.is(page.nextOffset, undefined);
      break;
    }
    assert.is(page.nextOffset, offset + page.items.length);
    assert.ok(page.items.length > 0);
    offset = page.nextOffset;
  }
  assert.ok(pages >= 3, `the 12 long items need several pages (got ${pages})`);
  assert.is(all.length, await total());
  assert.is(new Set(all).size, all.length, "no item twice");
  // A page cut only by limit says so too (the answer's shape is the same as before, plus more/nextOffset).
  const first = await sys.mailbox("listItems", { account: ACCOUNT, limit: 1 });
  assert.equal(Object.keys(first).sort(), ["items", "more", "nextOffset", "total"]);
  assert.is(first.more, true);
  assert.is(first.nextOffset, 1);
});

test("write bounds - a 5 MiB message goes through the upload store: listed and readable on primary and replica; the upload is deleted", async () => {
  const body = Buffer.alloc(5 * 1024 * 1024, "0123456789abcdef\r\n");
  const raw = Buffer.concat([
    Buffer.from("From: big@example.org\r\nTo: user@example.com\r\nSubject: five MiB\r\nMessage-ID: <big5@example.org>\r\n\r\n"),
    body,
  ]);
  await upload("big-5mib", raw);
  const r = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "big-5mib", folder: "Inbox", requestId: "deliver-big-5mib" });
  assert.type(r.itemId, "number");
  const gone = await uploads.info("big-5mib");
  assert.ok(gone === null || gone.deleted, "a delivered upload is deleted");
  const page = await sys.mailbox("listItems", { account: ACCOUNT, limit: 1 });
  assert.is(page.items[0].id, r.itemId);
  assert.is(page.items[0].size, raw.length);
  assert.is(page.items[0].subject, "five MiB");
  await replicaEqual();
  for (const host of ["ms1.example.com", "ms2.example.com"]) {
    const node = sys.inProcess.get(host)!;
    const item = node.store.getItem(accountId, r.itemId);
    assert.ok(Buffer.from(await node.blobs.get(item.blob)).equals(raw), `${host} reads the whole body`);
  }
  // getItem cannot carry 5 MiB in one answer: a clear refusal, not an internal error.
  const tooBig = await sys.mailbox("getItem", { account: ACCOUNT, id: r.itemId }).catch((e: unknown) => e);
  assert.is(appCode(tooBig), "MESSAGE_TOO_LARGE");
  // A small one is still read whole.
  const smallId = (await sys.mailbox("deliverMessage", { account: ACCOUNT, raw: rawMessage(400) })).itemId;
  assert.is((await sys.mailbox("getItem", { account: ACCOUNT, id: smallId })).raw, rawMessage(400));
  // A retry with the same requestId gets the first outcome, though the upload is gone.
  const again = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "big-5mib", folder: "Inbox", requestId: "deliver-big-5mib" });
  assert.equal(again, r);
});

test("write bounds - an upload over limits.maxMessageBytes is refused with MESSAGE_TOO_LARGE and nothing is stored", async () => {
  const before = await total();
  const seqBefore = sys.inProcess.get("ms1.example.com")!.store.replicaState(accountId)!.appliedSeq;
  await upload("too-big", Buffer.concat([Buffer.from("Subject: too big\r\n\r\n"), Buffer.alloc(MAX_MESSAGE + 1, "x")]));
  const err = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "too-big" }).then(
    () => assert.unreachable("refused"),
    (e: unknown) => e,
  );
  assert.is(appCode(err), "MESSAGE_TOO_LARGE");
  assert.is((err as RpcError).code, -32051);
  assert.match((err as RpcError).message, new RegExp(`${MAX_MESSAGE} bytes`));
  assert.is(await total(), before);
  assert.is(sys.inProcess.get("ms1.example.com")!.store.replicaState(accountId)!.appliedSeq, seqBefore, "nothing appended");
});

test("write bounds - upload mistakes: an unknown name, both raw and upload, a name that is not one", async () => {
  const missing = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "never-put" }).catch((e: unknown) => e);
  assert.is(appCode(missing), "UPLOAD_NOT_FOUND");
  assert.is((missing as RpcError).code, -32052);
  const both = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "x", raw: rawMessage(1) }).catch((e: unknown) => e);
  assert.is((both as RpcError).code, -32602);
  assert.match((both as RpcError).message, /exactly one of raw .* or upload/);
  const neither = await sys.mailbox("deliverMessage", { account: ACCOUNT }).catch((e: unknown) => e);
  assert.is((neither as RpcError).code, -32602);
  const bad = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "a*b" }).catch((e: unknown) => e);
  assert.is((bad as RpcError).code, -32602);
});

test("write bounds - a message over the parser's limits gets MESSAGE_TOO_COMPLEX, not a library code", async () => {
  const before = await total();
  // A header section over mailsplit's 1 MiB (EMAXLEN), through the upload path.
  await upload("deep-headers", `X-Big: ${"y".repeat(1100 * 1024)}\r\nSubject: deep\r\n\r\nbody\r\n`);
  const err = await sys.mailbox("deliverMessage", { account: ACCOUNT, upload: "deep-headers" }).catch((e: unknown) => e);
  assert.is(appCode(err), "MESSAGE_TOO_COMPLEX");
  assert.is((err as RpcError).code, -32053);
  assert.is(await total(), before);
});

test("write bounds - the CLI's deliverMessage file PATH sends a large file through the upload store, a small one inline", async () => {
  const before = await total();
  const dir = sys.root;
  const big = join(dir, "big.eml");
  writeFileSync(big, Buffer.concat([Buffer.from("From: cli@example.org\r\nSubject: from a file\r\n\r\n"), Buffer.alloc(600 * 1024, "z")]));
  const small = join(dir, "small.eml");
  writeFileSync(small, rawMessage(300));
  const bucket = sys.config.jetstream.buckets.uploads;
  const r1 = (await callMethod(sys.nc, "mailbox", "deliverMessage", { account: ACCOUNT, file: "big.eml" }, { cwd: dir, uploadsBucket: bucket })) as {
    itemId: number;
  };
  const r2 = (await callMethod(sys.nc, "mailbox", "deliverMessage", { account: ACCOUNT, file: small }, { uploadsBucket: bucket })) as { itemId: number };
  assert.ok(r1.itemId < r2.itemId);
  assert.is(await total(), before + 2);
  const item = sys.inProcess.get("ms1.example.com")!.store.getItem(accountId, r1.itemId);
  assert.is(item.subject, "from a file");
  assert.is(item.size, 600 * 1024 + "From: cli@example.org\r\nSubject: from a file\r\n\r\n".length);
  // No upload left behind by the CLI.
  const left: string[] = [];
  for await (const i of await uploads.list()) if (i.name.startsWith("cli-")) left.push(i.name);
  assert.equal(left, []);
  // A file that cannot be read is a clear error before anything is sent.
  const e = await callMethod(sys.nc, "mailbox", "deliverMessage", { account: ACCOUNT, file: join(dir, "nope.eml") }).catch((x: unknown) => x);
  assert.instance(e, CallError);
  assert.match((e as CallError).message, /cannot read the message file/);
});

test.run();
