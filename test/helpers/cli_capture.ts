// Runs the CLI with its output captured, in this process (fast, the usual way) or as the real
// bin/mailreplica child process, and connects as the CLI does, for tests that check what an
// operator sees.
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { connectNats } from "../../src/cli/admin/connection.js";
import { CallError } from "../../src/cli/admin/errors.js";
import { runCli } from "../../src/cli/main.js";
import type { NatsAuth } from "../../src/natsauth/connect_options.js";
import { spawnCli } from "./processes.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** `mailreplica <argv>` in this process with `env` (no system config file unless named) in `cwd`. */
export function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  return runCliWithEnv(argv, { MR_SYSTEM_CONFIG: "none", ...env }, cwd);
}

/**
 * `mailreplica <argv>` in this process with exactly `env` as its environment (nothing added:
 * for tests of what the CLI does with or without MR_SYSTEM_CONFIG and the like) in `cwd`.
 */
export async function runCliWithEnv(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), env, cwd });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** `bin/mailreplica <argv>` as a child process with `env`: its exit code and its stdout and stderr as they came, interleaved. */
export function runCliChild(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(argv, { env });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** Connects like the CLI does; the CallError it failed with, or undefined when it connected. */
export async function cliConnectError(url: string, auth: NatsAuth): Promise<CallError | undefined> {
  try {
    const nc = await connectNats([url], { name: "test", auth, timeoutMs: 5_000 });
    await nc.flush();
    await nc.close();
    return undefined;
  } catch (e) {
    assert.instance(e, CallError);
    return e as CallError;
  }
}

export interface ReplChild {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved */
  out(): string;
  send(line: string): void;
}

/** `mailreplica repl` as a child process reading piped lines (no TTY, so no prompt), with this process's environment and `env` on top. */
export function startReplChild(env: NodeJS.ProcessEnv): ReplChild {
  const child = spawnCli(["repl"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  return { child, out: () => text, send: (line) => void child.stdin!.write(`${line}\n`) };
}
