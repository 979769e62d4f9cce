import { test } from "uvu";
import * as assert from "uvu/assert";
import { MailError, normalizeFlags, validateFolderPath, folderPathKey, MAX_FOLDER_DEPTH } from "../src/mail/index.js";

function refusal(fn: () => unknown): MailError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MailError) return e;
    throw e;
  }
  throw new Error("expected a MailError, nothing was thrown");
}

test("flags - system flags and keywords are split, lower-cased, sorted and unique", () => {
  const r = normalizeFlags(["Seen", "flagged", "$Label1", "Work", "seen", "work", "a_b-c", "DRAFT", "answered"]);
  assert.equal(r.flags, ["answered", "draft", "flagged", "seen"]);
  assert.equal(r.tags, ["$label1", "a_b-c", "work"]);
  assert.equal(normalizeFlags([]), { flags: [], tags: [] });
});

test("flags - a keyword of 64 characters is accepted, 65 refused", () => {
  assert.equal(normalizeFlags(["k".repeat(64)]).tags, ["k".repeat(64)]);
  const e = refusal(() => normalizeFlags(["k".repeat(65)]));
  assert.is(e.code, "INVALID_FLAG");
});

test("flags - bad keywords are refused with INVALID_FLAG naming the keyword and the allowed form", () => {
  for (const bad of ["", "two words", "\\Seen", "café", "a/b", "x\n"]) {
    const e = refusal(() => normalizeFlags(["seen", bad]));
    assert.is(e.code, "INVALID_FLAG", bad);
    assert.is(e.details?.["flag"], bad);
    assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
    assert.ok(e.message.includes("1 to 64 characters"), e.message);
  }
  assert.is(refusal(() => normalizeFlags([42 as unknown as string])).code, "INVALID_FLAG");
});

test("folder path - valid paths come back canonical", () => {
  assert.is(validateFolderPath("Inbox"), "Inbox");
  assert.is(validateFolderPath("/Inbox"), "Inbox");
  assert.is(validateFolderPath("Archive/2026"), "Archive/2026");
  assert.is(validateFolderPath("Proj ects/Über älles"), "Proj ects/Über älles");
  // NFC: a decomposed é equals the composed one.
  assert.is(validateFolderPath("Caf\u0065\u0301"), "Caf\u00e9");
  const deep = Array.from({ length: MAX_FOLDER_DEPTH }, (_, i) => `d${i}`).join("/");
  assert.is(validateFolderPath(deep), deep);
  assert.is(validateFolderPath("x".repeat(128)), "x".repeat(128));
  // The limit counts characters, not UTF-16 units: 128 emoji are fine.
  assert.is(validateFolderPath("📁".repeat(128)), "📁".repeat(128));
});

test("folder path - invalid paths are refused with INVALID_FOLDER_PATH", () => {
  const deep = Array.from({ length: MAX_FOLDER_DEPTH + 1 }, (_, i) => `d${i}`).join("/");
  for (const bad of ["", "/", "a//b", "a/", "//a", "x".repeat(129), "📁".repeat(129), "bell\u0007", "tab\tname", "nul\u0000", deep]) {
    const e = refusal(() => validateFolderPath(bad));
    assert.is(e.code, "INVALID_FOLDER_PATH", JSON.stringify(bad));
    assert.ok(e.message.includes("segments separated by '/'"), e.message);
  }
  assert.is(refusal(() => validateFolderPath(undefined as unknown as string)).code, "INVALID_FOLDER_PATH");
});

test("folder path - the key ignores case and keeps subtrees as key prefixes", () => {
  assert.is(folderPathKey("Archive/Ölfässer"), folderPathKey("ARCHIVE/ölfässer"));
  // Final and medial sigma fold alike.
  assert.is(folderPathKey("ΟΔΟΣ"), folderPathKey("οδος"));
  assert.is(folderPathKey("οδος"), folderPathKey("οδοσ"));
  const parent = "Straße";
  assert.ok(folderPathKey(`${parent}/Kinder`).startsWith(folderPathKey(parent) + "/"));
});

test.run();
