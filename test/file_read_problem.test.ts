import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errnoCode, fileReadProblem } from "../src/text/file_read_problem.js";

const dir = mkdtempSync(join(tmpdir(), "mr-file-read-"));
const file = join(dir, "a.json");
writeFileSync(file, "{}");

/** The error reading `path` throws (the test fails when it reads). */
function readError(path: string): unknown {
  try {
    readFileSync(path, "utf8");
  } catch (e) {
    return e;
  }
  throw new Error(`${path} was read`);
}

test("file read problem - missing file, folder, and a path through a file say what is wrong in words", () => {
  const missing = join(dir, "none.json");
  assert.is(fileReadProblem(missing, readError(missing)), `${missing} does not exist`);
  assert.is(fileReadProblem(dir, readError(dir)), `${dir} is a folder`);
  const through = join(file, "below");
  assert.is(errnoCode(readError(through)), "ENOTDIR");
  assert.is(fileReadProblem(through, readError(through)), `${through} cannot be reached (a part of its path is a file, not a folder)`);
});

test("file read problem - permission denied names the process; other codes and plain errors are quoted", () => {
  // Tests may run as root, which reads any file: the system error is built as Node builds it.
  const denied = Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: "EACCES", errno: -13, syscall: "open", path: file });
  assert.is(fileReadProblem(file, denied), `${file} is not readable by this process (permission denied)`);
  assert.is(fileReadProblem(file, Object.assign(new Error("i/o error"), { code: "EIO" })), `${file} cannot be read (EIO)`);
  assert.is(fileReadProblem(file, new Error("no code")), `${file} cannot be read (no code)`);
  assert.is(fileReadProblem(file, "odd"), `${file} cannot be read (odd)`);
  assert.is(fileReadProblem(file, Object.assign(new Error("x"), { code: "toString" })), `${file} cannot be read (toString)`);
});

test("file read problem - errnoCode is the string code of an error, else undefined", () => {
  assert.is(errnoCode(readError(join(dir, "none"))), "ENOENT");
  assert.is(errnoCode(new Error("plain")), undefined);
  assert.is(errnoCode({ code: 13 }), undefined);
  assert.is(errnoCode(null), undefined);
  assert.is(errnoCode("ENOENT"), undefined);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
