// The body frame and its in-place secretbox, without NATS: byte-for-byte agreement with
// tweetnacl's standard secretbox, decryption without a copy, every tampered byte refused,
// names and headers parsed strictly, object streams made of views.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import nacl from "tweetnacl";
import { openInPlace, sealInPlace } from "../src/blobs/body_box.js";
import { openFrame, sealFrame, WORKER_MIN_BYTES } from "../src/blobs/box_runner.js";
import { blobName, frameLength, headerLength, parseName, readHeader, TAG_LENGTH, writeHeader } from "../src/blobs/blob_format.js";
import { objectStream } from "../src/blobs/object_bytes.js";
import { BlobError } from "../src/blobs/errors.js";

const KID = "k1-0a1b2c3d";

/** A sealed frame of `plain` and its parts. */
function sealed(plain: Uint8Array, kid = KID): { frame: Buffer; nonce: Uint8Array; key: Uint8Array; boxOffset: number } {
  const key = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const boxOffset = headerLength(kid);
  const frame = Buffer.alloc(frameLength(kid, plain.length));
  frame.set(plain, boxOffset + TAG_LENGTH);
  sealInPlace(frame, boxOffset, nonce, key);
  writeHeader(frame, kid, nonce);
  return { frame, nonce, key, boxOffset };
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    assert.instance(e, BlobError);
    return (e as BlobError).code;
  }
  return undefined;
}

test("blobs frame - sealing in place gives exactly nacl.secretbox's box, for every length around the block sizes", () => {
  for (const n of [0, 1, 15, 16, 31, 32, 33, 63, 64, 65, 1000, 128 * 1024 + 5]) {
    const plain = randomBytes(n);
    const { frame, nonce, key, boxOffset } = sealed(plain);
    const box = nacl.secretbox(new Uint8Array(plain), nonce, key);
    assert.ok(Buffer.from(box).equals(frame.subarray(boxOffset)), `length ${n}`);
    const h = readHeader(frame, "x");
    assert.is(h.kid, KID);
    assert.is(h.boxOffset, boxOffset);
    assert.ok(Buffer.from(h.nonce).equals(Buffer.from(nonce)));
  }
});

test("blobs frame - opening in place leaves the plaintext inside the frame (no copy)", () => {
  const plain = randomBytes(300_000);
  const { frame, nonce, key, boxOffset } = sealed(plain);
  assert.ok(openInPlace(frame, boxOffset, readHeader(frame, "x").nonce, key));
  const out = frame.subarray(boxOffset + TAG_LENGTH);
  assert.ok(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(plain));
  assert.ok(nonce.length === 24);
});

test("blobs frame - a change to any byte of the box or its nonce, or the wrong key, fails to open", () => {
  const plain = randomBytes(200);
  const { frame, key, boxOffset } = sealed(plain);
  for (let i = boxOffset; i < frame.length; i++) {
    const copy = Buffer.from(frame);
    copy[i]! ^= 0x80;
    assert.is(openInPlace(copy, boxOffset, readHeader(copy, "x").nonce, key), false, `byte ${i}`);
  }
  const copy = Buffer.from(frame);
  assert.is(openInPlace(copy, boxOffset, readHeader(copy, "x").nonce, nacl.randomBytes(32)), false);
  // a nonce changed in the header
  const other = Buffer.from(frame);
  other[boxOffset - 1]! ^= 0x01;
  assert.is(openInPlace(other, boxOffset, readHeader(other, "x").nonce, key), false);
});

test("blobs frame - large frames are sealed and opened on the worker thread: moved there and back (no copy), same box as nacl.secretbox", async () => {
  const plain = randomBytes(WORKER_MIN_BYTES * 4 + 3);
  const key = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const boxOffset = headerLength(KID);
  const frame = Buffer.allocUnsafeSlow(frameLength(KID, plain.length));
  frame.set(plain, boxOffset + TAG_LENGTH);
  const sealedFrame = await sealFrame(frame, boxOffset, nonce, key);
  assert.is(frame.buffer.byteLength, 0, "the caller's buffer was transferred, not copied");
  assert.ok(Buffer.from(nacl.secretbox(new Uint8Array(plain), nonce, key)).equals(sealedFrame.subarray(boxOffset)));
  writeHeader(sealedFrame, KID, nonce);
  const tampered = Buffer.allocUnsafeSlow(sealedFrame.length);
  sealedFrame.copy(tampered);
  tampered[tampered.length - 1]! ^= 0x01;
  const opened = await openFrame(sealedFrame, boxOffset, nonce, key);
  assert.ok(opened.ok);
  assert.ok(opened.frame.subarray(boxOffset + TAG_LENGTH).equals(plain));
  assert.is((await openFrame(tampered, boxOffset, nonce, key)).ok, false);
});

test("blobs frame - headers that are not version-1 frames are refused with what to do", () => {
  const { frame } = sealed(randomBytes(10));
  assert.is(
    code(() => readHeader(Buffer.from("plain text mail"), "n")),
    "BLOB_UNREADABLE",
  );
  assert.is(
    code(() => readHeader(frame.subarray(0, 20), "n")),
    "BLOB_UNREADABLE",
  );
  const v2 = Buffer.from(frame);
  v2[4] = 2;
  try {
    readHeader(v2, "n");
    assert.unreachable("version 2 accepted");
  } catch (e) {
    assert.is((e as BlobError).code, "BLOB_UNREADABLE");
    assert.match((e as BlobError).message, /frame version 2.*upgrade/);
  }
  const badKid = Buffer.from(frame);
  badKid[6] = 0x2f; // "/" is not allowed in a kid
  assert.is(
    code(() => readHeader(badKid, "n")),
    "BLOB_UNREADABLE",
  );
});

test("blobs frame - names: version 1 (kids with dots too) and legacy sha256 parse, anything else is refused", () => {
  const mac = randomBytes(32);
  for (const kid of [KID, "a", "k.with.dots", "x".repeat(64)]) {
    const p = parseName(blobName(kid, mac));
    assert.is(p.kind, "v1");
    assert.ok(p.kind === "v1" && p.kid === kid && p.mac.equals(mac), kid);
  }
  const legacy = parseName("ab".repeat(32));
  assert.is(legacy.kind, "legacy");
  for (const bad of [
    "",
    "b1.",
    `b1..${"0".repeat(64)}`,
    `b1.k1.${"0".repeat(63)}`,
    `b1.k1.${"A".repeat(64)}`,
    `b1.k/1.${"0".repeat(64)}`,
    "AB".repeat(32),
    `b2.k1.${"0".repeat(64)}`,
  ]) {
    assert.is(
      code(() => parseName(bad)),
      "BLOB_UNREADABLE",
      JSON.stringify(bad),
    );
  }
});

test("blobs frame - the object stream hands out views of the frame, 128 KiB at a time, covering it exactly", async () => {
  const data = randomBytes(3 * 128 * 1024 + 17);
  const reader = objectStream(data).getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  assert.equal(
    parts.map((p) => p.length),
    [131072, 131072, 131072, 17],
  );
  assert.ok(
    parts.every((p) => p.buffer === data.buffer),
    "views, not copies",
  );
  assert.ok(Buffer.concat(parts).equals(data));
});

test.run();
