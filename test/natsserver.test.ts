import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findNatsServer, isRecentEnough, localNatsDir, natsServerVersion, natsSuite } from "../src/natsserver/binary.js";
import { tempDir } from "./helpers/processes.js";

/** A stand-in binary that only answers --version like nats-server VERSION does. */
function fakeServer(version: string): string {
  const dir = tempDir("mr-fake-nats-");
  const file = join(dir, "nats-server");
  writeFileSync(file, `#!/bin/sh\necho "nats-server: v${version}"\n`);
  chmodSync(file, 0o755);
  return file;
}

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

test("nats-server - 2.10 and newer are recent enough, 2.9 is not", () => {
  for (const v of ["2.10.0", "2.10.27", "2.11.1", "3.0.0"]) assert.ok(isRecentEnough(v), v);
  for (const v of ["2.9.10", "2.9.21", "1.4.1"]) assert.not.ok(isRecentEnough(v), v);
});

test("nats-server - a 2.9 named by NATS_SERVER is not used, and the reason says why", () => {
  const old = fakeServer("2.9.10");
  assert.is(natsServerVersion(old), "2.9.10");
  const rejected: string[] = [];
  const found = withEnv({ NATS_SERVER: old }, () => findNatsServer(rejected));
  assert.ok(
    rejected.some((r) => r.includes(old) && r.includes("2.9.10") && r.includes("2.10 or newer")),
    rejected.join("\n"),
  );
  // What is used instead (the project's fetched one, or one on PATH) is recent enough.
  if (found) {
    assert.is.not(found.path, old);
    assert.ok(isRecentEnough(found.version));
  }
});

test("nats-server - a recent one named by NATS_SERVER is used as it is", () => {
  const recent = fakeServer("2.10.99");
  const found = withEnv({ NATS_SERVER: recent }, () => findNatsServer());
  assert.equal(found, { path: recent, version: "2.10.99", source: "env" });
});

test("nats-server - a 2.9 first on PATH is skipped", () => {
  const old = fakeServer("2.9.10");
  const rejected: string[] = [];
  const found = withEnv({ NATS_SERVER: undefined, PATH: `${join(old, "..")}:${process.env.PATH ?? ""}` }, () => findNatsServer(rejected));
  assert.ok(!found || found.path !== old);
  // The fetched project copy is looked at before PATH; without one, the 2.9 on PATH is reported.
  if (!found || found.source !== "project")
    assert.ok(
      rejected.some((r) => r.includes(old)),
      rejected.join("\n"),
    );
});

test("nats-server - MR_NATS_SUITE picks the Debian suite: trixie by default, sid on request, others refused", () => {
  assert.equal(natsSuite({}), { suite: "trixie", explicit: false });
  assert.equal(natsSuite({ MR_NATS_SUITE: "sid" }), { suite: "sid", explicit: true });
  assert.equal(natsSuite({ MR_NATS_SUITE: "trixie" }), { suite: "trixie", explicit: true });
  assert.throws(
    () => natsSuite({ MR_NATS_SUITE: "bookworm" }),
    (e: Error) => e.message.includes("MR_NATS_SUITE=bookworm") && e.message.includes("allowed: trixie, sid"),
  );
  // Each suite has its own folder, so switching suites never runs the other one's binary.
  assert.is.not(localNatsDir("sid"), localNatsDir("trixie"));
});

test("nats-server - with MR_NATS_SUITE set, a nats-server on PATH is not used", () => {
  const onPath = fakeServer("2.10.98");
  const env = { NATS_SERVER: undefined, PATH: `${join(onPath, "..")}:${process.env.PATH ?? ""}` };
  const found = withEnv({ ...env, MR_NATS_SUITE: "sid" }, () => findNatsServer());
  assert.ok(!found || found.path !== onPath, `the suite's own copy (or none), not ${onPath}`);
});

test.run();
