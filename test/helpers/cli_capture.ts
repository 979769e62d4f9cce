// Runs the CLI in this process with its output captured, and connects as the CLI does, for
// tests that check what an operator sees. (More test files keep their own copy of `cli`; the
// layout issue merges them.)
import * as assert from "uvu/assert";
import { connectNats } from "../../src/cli/admin/connection.js";
import { CallError } from "../../src/cli/admin/errors.js";
import { runCli } from "../../src/cli/main.js";
import type { NatsAuth } from "../../src/natsauth/connect_options.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** `mailreplica <argv>` with `env` (no system config file unless named) in `cwd`. */
export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: { MR_SYSTEM_CONFIG: "none", ...env }, cwd });
  return { code, out: out.join("\n"), err: err.join("\n") };
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
