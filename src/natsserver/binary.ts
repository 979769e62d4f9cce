// Finds a nats-server >= 2.10, or fetches a Debian suite's package (trixie by default,
// MR_NATS_SUITE=sid for the newest release) into the project's git-ignored `.local/` folder
// without touching the system's apt configuration.
// Why >= 2.10: 2.9 lets two writers pass the same Nats-Expected-Last-Subject-Sequence on
// clustered streams (fixed in 2.9.21) and lacks multiple filter subjects per consumer.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { projectRoot } from "../paths.js";
import { CodedError } from "../errors/index.js";

export const MIN_NATS_SERVER: readonly [number, number] = [2, 10];

export class NatsServerNotFoundError extends CodedError<"NATS_SERVER_NOT_FOUND"> {
  constructor(message: string) {
    super("NATS_SERVER_NOT_FOUND", message);
  }
}

export interface NatsServerBinary {
  path: string;
  version: string;
  /** where it was found: the NATS_SERVER variable, the project folder, or PATH */
  source: "env" | "project" | "path";
}

/** Debian suites whose nats-server package mailreplica is tested with (CI runs both). */
export const NATS_SUITES = ["trixie", "sid"] as const;
export type NatsSuite = (typeof NATS_SUITES)[number];

/**
 * The suite named by MR_NATS_SUITE (default trixie). `explicit` when the variable is set: then
 * that suite's package is what the user asked for, and a nats-server on PATH is not used.
 */
export function natsSuite(env: NodeJS.ProcessEnv = process.env): { suite: NatsSuite; explicit: boolean } {
  const raw = env.MR_NATS_SUITE;
  if (raw === undefined || raw === "") return { suite: "trixie", explicit: false };
  if (!(NATS_SUITES as readonly string[]).includes(raw)) {
    throw new NatsServerNotFoundError(
      `MR_NATS_SUITE=${raw} is not a suite mailreplica fetches nats-server from; allowed: ${NATS_SUITES.join(", ")} (unset means trixie)`,
    );
  }
  return { suite: raw as NatsSuite, explicit: true };
}

/** Folder that holds the fetched package of a suite (git-ignored). */
export function localNatsDir(suite: NatsSuite = natsSuite().suite): string {
  return join(projectRoot(), ".local", suite === "trixie" ? "nats-server" : `nats-server-${suite}`);
}

/** The version a nats-server binary reports, or undefined when it does not run. */
export function natsServerVersion(path: string): string | undefined {
  const r = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) return undefined;
  const m = /v?(\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr);
  return m?.[1];
}

export function isRecentEnough(version: string): boolean {
  const [maj = 0, min = 0] = version.split(".").map(Number);
  return maj > MIN_NATS_SERVER[0] || (maj === MIN_NATS_SERVER[0] && min >= MIN_NATS_SERVER[1]);
}

function onPath(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, "nats-server");
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Looks for a usable nats-server, in this order: $NATS_SERVER, the project's `.local/` copy
 * of the suite's package, PATH (not when MR_NATS_SUITE names a suite). A candidate that is too
 * old is skipped, and `rejected` says why.
 */
export function findNatsServer(rejected: string[] = []): NatsServerBinary | undefined {
  const { suite, explicit } = natsSuite();
  const candidates: Array<[string | undefined, NatsServerBinary["source"]]> = [
    [process.env.NATS_SERVER, "env"],
    [join(localNatsDir(suite), "usr", "sbin", "nats-server"), "project"],
    [explicit ? undefined : onPath(), "path"],
  ];
  for (const [path, source] of candidates) {
    if (!path || !existsSync(path)) {
      if (source === "env" && path) rejected.push(`NATS_SERVER=${path} does not exist`);
      continue;
    }
    const version = natsServerVersion(path);
    if (!version) {
      rejected.push(`${path} does not run (--version failed)`);
      continue;
    }
    if (!isRecentEnough(version)) {
      rejected.push(
        `${path} is nats-server ${version}; mailreplica needs 2.10 or newer (2.9 lets two writers pass ` +
          `the same expected-last-subject-sequence on clustered streams and lacks multi-filter consumers)`,
      );
      continue;
    }
    return { path, version, source };
  }
  return undefined;
}

function apt(args: string[], aptDir: string): { ok: boolean; out: string } {
  // A private sources list and lists folder: the system's apt state is left as it is.
  const opts = [
    "-o",
    `Dir::Etc::SourceList=${join(aptDir, "sources.list")}`,
    "-o",
    "Dir::Etc::SourceParts=/dev/null",
    "-o",
    `Dir::State::Lists=${join(aptDir, "lists")}`,
    "-o",
    `Dir::Cache=${join(aptDir, "cache")}`,
    "-o",
    "Debug::NoLocking=1",
    "-o",
    "APT::Sandbox::User=root",
    "-q",
  ];
  const r = spawnSync("apt-get", [...opts, ...args], { cwd: aptDir, encoding: "utf8", timeout: 300_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** Downloads nats-server from the Debian suite with apt-get download and unpacks it with dpkg-deb. */
export function fetchNatsServer(log: (line: string) => void = () => {}): NatsServerBinary {
  const { suite } = natsSuite();
  const hasApt = spawnSync("apt-get", ["--version"], { encoding: "utf8" }).status === 0;
  const hasDpkg = spawnSync("dpkg-deb", ["--version"], { encoding: "utf8" }).status === 0;
  if (!hasApt || !hasDpkg) {
    throw new NatsServerNotFoundError(
      "No nats-server >= 2.10 was found and this machine has no apt-get/dpkg-deb to fetch one. " +
        `Install nats-server 2.10 or newer (e.g. Debian ${suite}'s \`nats-server\` package, or your ` +
        "distribution's), then put it on PATH or set NATS_SERVER=/path/to/nats-server.",
    );
  }
  const dir = localNatsDir(suite);
  const aptDir = join(dir, "apt");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(aptDir, "lists", "partial"), { recursive: true });
  mkdirSync(join(aptDir, "cache", "archives", "partial"), { recursive: true });
  writeFileSync(join(aptDir, "sources.list"), `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${suite} main\n`);
  log(`fetching nats-server from Debian ${suite} (apt-get download, private sources list)`);
  const upd = apt(["update"], aptDir);
  if (!upd.ok) throw new NatsServerNotFoundError(`apt-get update (private ${suite} list) failed:\n${upd.out.trim()}`);
  const dl = apt(["download", "nats-server"], aptDir);
  const deb = readdirSync(aptDir).find((f) => f.startsWith("nats-server_") && f.endsWith(".deb"));
  if (!dl.ok || !deb) throw new NatsServerNotFoundError(`apt-get download nats-server failed:\n${dl.out.trim()}`);
  const x = spawnSync("dpkg-deb", ["-x", join(aptDir, deb), dir], { encoding: "utf8" });
  if (x.status !== 0) throw new NatsServerNotFoundError(`dpkg-deb -x ${deb} failed: ${x.stderr}`);
  rmSync(aptDir, { recursive: true, force: true });
  const path = join(dir, "usr", "sbin", "nats-server");
  const version = natsServerVersion(path);
  if (!version || !isRecentEnough(version)) {
    throw new NatsServerNotFoundError(`the fetched ${deb} gives nats-server ${version ?? "that does not run"}; need 2.10 or newer`);
  }
  return { path, version, source: "project" };
}

/** Finds a usable nats-server, fetching it once when none is found. */
export function ensureNatsServer(log: (line: string) => void = () => {}): NatsServerBinary {
  const rejected: string[] = [];
  const found = findNatsServer(rejected);
  for (const r of rejected) log(`not used: ${r}`);
  return found ?? fetchNatsServer(log);
}

/** The path of a usable nats-server, or a NatsServerNotFoundError saying what to do. */
export function natsServerPath(): string {
  const rejected: string[] = [];
  const found = findNatsServer(rejected);
  if (found) return found.path;
  throw new NatsServerNotFoundError(
    "No nats-server >= 2.10 found. Run `node scripts/prepare.mjs` (npm start and npm test do) to fetch one, " +
      "or set NATS_SERVER=/path/to/nats-server." +
      (rejected.length ? ` Not used: ${rejected.join("; ")}` : ""),
  );
}
