// The nats.js connection options of a configured NATS: servers, the one authenticator the
// configuration names (creds, nkey seed, user + password, token: nats.js's own
// authenticators, no crypto here), TLS, and the identity's inbox prefix. Every process that
// talks to the operator's NATS (mailstore, supervisor, CLI, REPL, probes, dev) connects
// through it, so a secured server works everywhere or nowhere. Files are read here, when a
// process connects, and errors name the setting and the file, never the content.
import { readFileSync, statSync } from "node:fs";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
} from "@nats-io/nats-core";
import type { NatsConfig } from "../config/index.js";
import { NatsAuthError } from "./errors.js";
import { fileReadProblem } from "../text/file_read_problem.js";
import { inboxPrefixOf, type Identity } from "./identities.js";
import { isAuthRefused, tlsFailureCode } from "../runtime/nats_failure.js";

/** The authentication part of the configuration (everything of `nats` but where and the name). */
export type NatsAuth = Omit<NatsConfig, "servers" | "name">;

/** Files holding a secret: readable by others is refused, by the group warned about. */
const SECRET_KEYS = new Set(["nats.credsFile", "nats.nkeyFile", "nats.passwordFile", "nats.tokenFile", "nats.tls.keyFile"]);

export interface ConnectionOptionsExtra {
  /** Told about a secret file its group may read (allowed, but worth fixing). */
  warn?: (line: string) => void;
  /**
   * The process's own identity: its reply inbox prefix (`_INBOX_mailstore_<host>`...) is the
   * default when nats.inboxPrefix is not set, so a host needs only its seed.
   */
  identity?: Identity;
}

function readSetting(key: string, file: string, warn?: (line: string) => void): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new NatsAuthError("NATS_AUTH_FILE", `${key} ${fileReadProblem(file, e)}; give a readable file, or unset ${key}`, { cause: e });
  }
  if (SECRET_KEYS.has(key) && process.platform !== "win32") {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o004) {
      throw new NatsAuthError(
        "NATS_AUTH_FILE",
        `${key} ${file} is readable by every user of this machine (mode ${mode.toString(8)}), so its secret is not one; make it private: chmod 600 ${file}`,
      );
    }
    if (mode & 0o040)
      warn?.(`warning: ${key} ${file} is readable by its group (mode ${mode.toString(8)}); chmod 600 ${file} unless that group is meant to read it`);
  }
  return text;
}

/** The first line of a password or token file (a trailing newline is not part of the secret). */
function firstLine(key: string, file: string, text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  if (line === "") throw new NatsAuthError("NATS_AUTH_FILE", `${key} ${file} is empty on its first line; write the secret there`);
  return line;
}

/** An nkey user seed: `SU` and 56 base32 characters; the content itself is never shown. */
function seedOf(key: string, file: string, text: string): Uint8Array {
  const seed = text.trim();
  if (!/^SU[A-Z2-7]{56}$/.test(seed)) {
    throw new NatsAuthError(
      "NATS_AUTH_FILE",
      `${key} ${file} does not hold one nkey user seed (a line of 58 characters starting with SU); use a seed written by 'mailreplica auth init' or 'nk -gen user'`,
    );
  }
  return new TextEncoder().encode(seed);
}

/** A .creds file holds a user JWT block and an nkey seed block; nats.js parses them. */
function credsOf(key: string, file: string, text: string): Uint8Array {
  if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
    throw new NatsAuthError(
      "NATS_AUTH_FILE",
      `${key} ${file} is not a NATS credentials file (it needs a 'BEGIN NATS USER JWT' and a 'BEGIN USER NKEY SEED' block, as 'nsc generate creds' writes)`,
    );
  }
  return new TextEncoder().encode(text);
}

/** Which configured credential authenticates: `nats.nkeyFile /etc/...`, or `no credentials (anonymous)`. */
export function describeNatsAuth(auth: NatsAuth): string {
  if (auth.credsFile !== undefined) return `nats.credsFile ${auth.credsFile}`;
  if (auth.nkeyFile !== undefined) return `nats.nkeyFile ${auth.nkeyFile}`;
  if (auth.user !== undefined)
    return `nats.user ${auth.user} with ${auth.passwordFile !== undefined ? `nats.passwordFile ${auth.passwordFile}` : "the password of MR_NATS_PASSWORD"}`;
  if (auth.tokenFile !== undefined) return `nats.tokenFile ${auth.tokenFile}`;
  return "no credentials (anonymous)";
}

function authenticatorOf(auth: NatsAuth, warn?: (line: string) => void): Authenticator | undefined {
  if (auth.credsFile !== undefined) return credsAuthenticator(credsOf("nats.credsFile", auth.credsFile, readSetting("nats.credsFile", auth.credsFile, warn)));
  if (auth.nkeyFile !== undefined) return nkeyAuthenticator(seedOf("nats.nkeyFile", auth.nkeyFile, readSetting("nats.nkeyFile", auth.nkeyFile, warn)));
  if (auth.user !== undefined) {
    const pass =
      auth.passwordFile !== undefined
        ? firstLine("nats.passwordFile", auth.passwordFile, readSetting("nats.passwordFile", auth.passwordFile, warn))
        : auth.password;
    return usernamePasswordAuthenticator(auth.user, pass);
  }
  if (auth.tokenFile !== undefined) return tokenAuthenticator(firstLine("nats.tokenFile", auth.tokenFile, readSetting("nats.tokenFile", auth.tokenFile, warn)));
  return undefined;
}

/**
 * Connection options for `servers` with the configured authentication, TLS and inbox prefix.
 * Callers add their own name, timeouts and reconnect policy. Throws NatsAuthError
 * NATS_AUTH_FILE when a configured file cannot be used.
 */
export function natsConnectionOptions(servers: readonly string[] | string, auth: NatsAuth = {}, extra: ConnectionOptionsExtra = {}): ConnectionOptions {
  const out: ConnectionOptions = { servers: typeof servers === "string" ? servers : [...servers] };
  const authenticator = authenticatorOf(auth, extra.warn);
  if (authenticator) out.authenticator = authenticator;
  const t = auth.tls;
  if (t && (t.caFile !== undefined || t.certFile !== undefined || t.keyFile !== undefined)) {
    // Read here (not by nats.js from the paths) so a bad file is named before any connection.
    out.tls = {
      ...(t.caFile !== undefined ? { ca: readSetting("nats.tls.caFile", t.caFile, extra.warn) } : {}),
      ...(t.certFile !== undefined ? { cert: readSetting("nats.tls.certFile", t.certFile, extra.warn) } : {}),
      ...(t.keyFile !== undefined ? { key: readSetting("nats.tls.keyFile", t.keyFile, extra.warn) } : {}),
    };
  }
  const prefix = auth.inboxPrefix ?? (extra.identity ? inboxPrefixOf(extra.identity) : undefined);
  if (prefix !== undefined) out.inboxPrefix = prefix;
  return out;
}

/**
 * `e` (a failed connect) as a NatsAuthError naming the setting to fix when the server refused
 * the credentials or the TLS handshake failed; undefined for other failures (unreachable...).
 */
export function natsAuthFailure(e: unknown, servers: readonly string[] | string, auth: NatsAuth = {}): NatsAuthError | undefined {
  if (e instanceof NatsAuthError) return e;
  const where = typeof servers === "string" ? servers : servers.join(",");
  const said = (e as { message?: string }).message ?? String(e);
  if (isAuthRefused(e)) {
    const used = describeNatsAuth(auth);
    const fix =
      used === "no credentials (anonymous)"
        ? "the server requires authentication: set nats.credsFile, nats.nkeyFile, nats.user (+ MR_NATS_PASSWORD) or nats.tokenFile (MR_NATS_CREDS, MR_NATS_NKEY, ...)"
        : `check that ${used.split(" ")[0]} holds this identity's credentials and that the server's authorization lists them (mailreplica auth init writes both)`;
    return new NatsAuthError("NATS_AUTH_REFUSED", `NATS at ${where} refused ${used} (${said}); ${fix}`, { cause: e });
  }
  const tlsCode = tlsFailureCode(e);
  if (tlsCode !== undefined) {
    const tls = auth.tls ?? {};
    const files = [
      tls.caFile && `nats.tls.caFile ${tls.caFile}`,
      tls.certFile && `nats.tls.certFile ${tls.certFile}`,
      tls.keyFile && `nats.tls.keyFile ${tls.keyFile}`,
    ].filter(Boolean);
    return new NatsAuthError(
      "NATS_TLS_FAILED",
      `TLS with NATS at ${where} failed (${tlsCode}: ${said}); ${files.length ? `check ${files.join(", ")}` : "set nats.tls.caFile (MR_NATS_TLS_CA) to the CA of the servers' certificates, and nats.tls.certFile + nats.tls.keyFile for mutual TLS"}`,
      { cause: e },
    );
  }
  return undefined;
}
