// Mailstores and supervisors as real child processes (bin/mailreplica), for the tests' systems
// that must kill -9 or freeze one: each under a key, its output kept for failure messages and
// log checks, its configuration handed over as one file.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import type { Config } from "../../src/config/index.js";
import { exited, spawnCli, waitFor } from "./processes.js";

/** The environment of a child: `config` written to `<root>/config.json` as MR_CONFIG, no other MR_ variable but MR_DEBUG. */
export function configFileEnv(root: string, config: Config): NodeJS.ProcessEnv {
  const file = join(root, "config.json");
  writeFileSync(file, JSON.stringify(config, null, 2));
  const env: NodeJS.ProcessEnv = { ...process.env, MR_CONFIG: file };
  for (const k of Object.keys(env)) if (k.startsWith("MR_") && k !== "MR_CONFIG" && k !== "MR_DEBUG") delete env[k];
  return env;
}

export class NodeChildren {
  /** the running children by key (a host, or a supervisor's name) */
  readonly processes = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, string>();

  /** Starts `bin/mailreplica <args>` as `key`; resolves once its output shows `ready`, throws with that output when it exits first. */
  async start(key: string, args: string[], env: NodeJS.ProcessEnv, ready: string, timeoutMs: number): Promise<ChildProcess> {
    const child = spawnCli(args, { env });
    this.logs.set(key, "");
    const keep = (d: Buffer) => this.logs.set(key, ((this.logs.get(key) ?? "") + d.toString()).slice(-20_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.processes.set(key, child);
    const outcome = await waitFor(
      `${key} to start`,
      () => {
        if (child.exitCode !== null || child.signalCode !== null) return "exited";
        return (this.logs.get(key) ?? "").includes(ready) ? "started" : undefined;
      },
      timeoutMs,
    );
    if (outcome === "exited") throw new Error(`${key} exited before it started:\n${this.logs.get(key)}`);
    return child;
  }

  /** The last 20 000 characters `key` wrote (stdout and stderr). */
  log(key: string): string {
    return this.logs.get(key) ?? "";
  }

  async kill9(key: string): Promise<void> {
    const child = this.processes.get(key);
    if (!child) throw new Error(`no process for ${key}`);
    child.kill("SIGKILL");
    await exited(child);
    this.processes.delete(key);
  }
}
