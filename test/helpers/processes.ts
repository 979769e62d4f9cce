// Every child process a test starts is tracked here and killed when the test process ends,
// also when a test fails or throws, so no nats-server or mailstore outlives its test.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { projectRoot } from "../../src/paths.js";
import "./hook_errors.js";

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function cleanup(): void {
  for (const p of live) {
    try {
      p.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  live.clear();
  if (!process.env.MR_KEEP_TEMP) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
  });
}

/** Spawns a child that is killed when this test process exits. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return trackChild(spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts }));
}

/** `bin/mailreplica <args>` (this checkout's CLI) as a tracked child process. */
export function spawnCli(args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawnTracked(process.execPath, [join(projectRoot(), "bin", "mailreplica"), ...args], opts);
}

/** Makes an already spawned child be killed when this process exits. */
export function trackChild(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** A temporary folder removed when the test process exits (kept with MR_KEEP_TEMP=1). */
export function tempDir(prefix = "mr-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** Ports freePort() has handed out in this process. */
const givenPorts = new Set<number>();

/** One port the kernel finds free now on 127.0.0.1 (asked for, then released). */
function kernelFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1, never one this process was given before: a port is released
 * as soon as it is chosen, so the kernel may offer it again to the next call, and two
 * nats-server nodes given the same route port had one of them exit at start ("address
 * already in use"), which looked like a cluster formed without a node.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await kernelFreePort();
    if (givenPorts.has(port)) continue;
    givenPorts.add(port);
    return port;
  }
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await sleep(everyMs);
  }
}
