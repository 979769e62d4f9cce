// SIGHUP makes a running mailstore (a real child process) read every key file at once. The
// change made here is one the 3 s poll cannot see: trusted-signers.json rewritten in place
// with the same size and its old mtime, so its stamp (mtime, size, inode) is the one the
// mailstore read at start, and the poll's check, asked for through keyStatus, still reads
// nothing. Only the SIGHUP reads it. No step waits for time to pass: each waits for the line
// the mailstore logs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, futimesSync, openSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { TestSystem } from "./helpers/system.js";
import { tempDir, waitFor } from "./helpers/processes.js";
import { initKeys, TRUST_FILE } from "../src/keys/index.js";
import { rpcCall } from "../src/jsonrpc/index.js";
import { nodeAdminSubject } from "../actors/mailstore/node.js";

const MS1 = "ms1.example.com";
let sys: TestSystem;
let child: ChildProcess;

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1] });
});
test.after(async () => {
  await sys?.stop();
});

/** What the reload compares to decide a file changed: mtime, size, inode. */
function stamp(file: string): string {
  const st = statSync(file);
  return `${st.mtimeMs}:${st.size}:${st.ino}`;
}

async function trustDigest(): Promise<string> {
  return (await rpcCall<{ trustDigest: string }>(sys.nc, nodeAdminSubject(MS1), "keyStatus", {}, { timeoutMs: 10_000 })).trustDigest;
}

/** Waits for `line` in ms1's log; fails at once when ms1 exited or a poll read the file. */
async function logged(line: string): Promise<void> {
  const seen = await waitFor(`ms1 to log "${line}"`, () => {
    const log = sys.log(MS1);
    if (child.exitCode !== null || child.signalCode !== null) return "exited";
    // Only if a poll ran in the instant between writing the file and setting its mtime back:
    // then this run proves nothing about SIGHUP.
    if (log.includes(`keys: ${TRUST_FILE} reloaded`)) return "polled";
    return log.includes(line) ? "logged" : undefined;
  });
  if (seen === "exited") assert.unreachable(`ms1 exited:\n${sys.log(MS1)}`);
  if (seen === "polled") assert.unreachable(`the 3 s poll read ${TRUST_FILE} while the test rewrote it; run again:\n${sys.log(MS1)}`);
}

test("keys sighup - SIGHUP reads trusted-signers.json even when its stamp did not change, and logs what changed, or that nothing did", async () => {
  const file = join(sys.config.keys.dir, TRUST_FILE);
  // The key the list will trust later: another mailstore's, made in a folder of its own.
  const other = JSON.parse(readFileSync(initKeys({ dir: tempDir("mr-keys-other-"), host: "ms9.example.com" }).trustFile, "utf8")) as {
    signers: { kid: string }[];
  };
  const newKey = other.signers[0]!;
  const list = JSON.parse(readFileSync(file, "utf8")) as { version: number; signers: { kid: string }[] };
  const before = JSON.stringify(list, null, 2);
  const after = JSON.stringify({ ...list, signers: [...list.signers, newKey] }, null, 2);
  // Both versions the same size (trailing spaces are still JSON), with the same whole-second
  // mtime (set and read back exactly). The first replaces the file before the mailstore
  // starts; the second is written over it in place (same inode, never another size), its
  // mtime set back at once.
  const mtime = Math.floor(Date.now() / 1000) - 60;
  writeFileSync(file, before.padEnd(after.length));
  utimesSync(file, mtime, mtime);
  child = await sys.spawnMailstore(MS1);
  const started = stamp(file);
  const digest = await trustDigest();

  child.kill("SIGHUP");
  await logged("keys (SIGHUP): every key file read again, nothing changed (1 trusted key,");

  const fd = openSync(file, "r+");
  try {
    const bytes = Buffer.from(after);
    writeSync(fd, bytes, 0, bytes.length, 0);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
  assert.is(stamp(file), started, "the rewritten file must look unchanged to the stamp check");
  // The poll's check (keyStatus runs it) sees nothing to read.
  assert.is(await trustDigest(), digest);

  child.kill("SIGHUP");
  await logged(`keys (SIGHUP): ${TRUST_FILE} reloaded (2 keys; new or changed: ${newKey.kid})`);
  assert.is.not(await trustDigest(), digest, "the mailstore trusts the new list");
});

test("keys sighup - a supervisor survives SIGHUP (Node's default would end it) and says it has nothing to reload", async () => {
  const sup = await sys.spawnSupervisor("sup1");
  sup.kill("SIGHUP");
  const seen = await waitFor("sup1 to log the SIGHUP", () => {
    if (sup.exitCode !== null || sup.signalCode !== null) return "exited";
    return sys.log("sup1").includes("SIGHUP: nothing to reload") ? "logged" : undefined;
  });
  assert.is(seen, "logged", sys.log("sup1"));
  // Still serving.
  const services = await rpcCall<{ services: { host: string }[] }>(sys.nc, "mr.rpc.admin", "getServices", {}, { timeoutMs: 10_000 });
  assert.ok(
    services.services.some((s) => s.host === "sup1"),
    JSON.stringify(services),
  );
  assert.is(sup.exitCode, null);
});

test.run();
