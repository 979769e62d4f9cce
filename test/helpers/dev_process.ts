// `mailreplica dev` as a child process, for the tests that run it whole: its output as it
// comes, waiting until it printed its summary, the pids it printed, and a SIGTERM stop.
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { exited, spawnCli } from "./processes.js";

export interface DevProcess {
  child: ChildProcess;
  out(): string;
  err(): string;
}

/** `mailreplica dev <args>` with this process's environment and `env` on top. */
export function startDev(args: string[], env: NodeJS.ProcessEnv, stdin: "ignore" | "pipe" = "ignore"): DevProcess {
  const child = spawnCli(["dev", ...args], {
    stdio: [stdin, "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err };
}

/** Until dev printed its summary (the "Stop: " line); fails, with its output, when it exits first or takes longer. */
export async function untilUp(dev: DevProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!dev.out().includes("\nStop: ")) {
    if (dev.child.exitCode !== null || dev.child.signalCode !== null)
      assert.unreachable(`dev exited (${dev.child.exitCode ?? dev.child.signalCode}) before it was up:\n${dev.out()}\n${dev.err()}`);
    if (Date.now() > deadline) assert.unreachable(`dev was not up after ${timeoutMs} ms:\n${dev.out()}\n${dev.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid printed for `name` in the summary (`  name  ... pid N`). */
export function pidOf(dev: DevProcess, name: string): number {
  const m = new RegExp(`^  ${name.replace(/\./g, "\\.")}\\s+.*?pid (\\d+)`, "m").exec(dev.out());
  assert.ok(m, `no pid of ${name} in:\n${dev.out()}`);
  return Number(m![1]);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then its exit code once it ended. */
export async function stopDev(dev: DevProcess): Promise<number | null> {
  dev.child.kill("SIGTERM");
  await exited(dev.child);
  return dev.child.exitCode;
}
