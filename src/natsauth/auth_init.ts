// `mailreplica auth init`: one nkey user seed per identity (@nats-io/nkeys createUser; files
// 0600 in a 0700 folder) and the nats-server include granting each its permissions.
// Idempotent: existing seeds are kept (their public keys read back from them), missing
// identities are added, the include is rewritten from the current configuration.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createUser, fromSeed } from "@nats-io/nkeys";
import type { JetStreamConfig } from "../config/index.js";
import { NatsAuthError } from "./errors.js";
import { HOST_NAME, identityLabel, inboxPrefixOf, seedFileName, type Identity } from "./identities.js";
import { permissionsOf, streamNames } from "./permissions.js";
import { AUTH_INCLUDE_FILE, renderAuthorization, renderUsersInclude, USERS_INCLUDE_FILE, type ConfUser } from "./server_conf.js";

export interface AuthInitOptions {
  /** Folder of the seeds and the include (created 0700 when missing). */
  dir: string;
  /** Every mailstore host (each gets an identity; their mr.node subjects are in the permissions). */
  mailstores: readonly string[];
  /** Every supervisor host (`supervisor --host`, default the machine's hostname). */
  supervisors: readonly string[];
  /** Stream and bucket names the permissions name. */
  jetstream: Pick<JetStreamConfig, "streams" | "buckets">;
}

export interface InitializedIdentity {
  id: Identity;
  /** absolute path of its seed file (secret: copy it to that host only) */
  seedFile: string;
  publicKey: string;
  inboxPrefix: string;
  /** false when its seed existed and was kept */
  created: boolean;
}

/** What `initAuth` did; holds no secret (the CLI prints it). */
export interface AuthInitResult {
  dir: string;
  /** the nats-server include for a server without accounts: `authorization { include ./<usersInclude> }` (absolute path) */
  include: string;
  /** the users include (`users = [...]`), included by `include` or inside an account's block (absolute path) */
  usersInclude: string;
  identities: InitializedIdentity[];
}

function checkHosts(kind: string, hosts: readonly string[]): void {
  if (kind === "mailstores" && hosts.length === 0)
    throw new NatsAuthError("AUTH_INIT_INVALID", "auth init needs at least one mailstore host (--mailstores h1,h2,...)");
  const seen = new Map<string, string>();
  for (const h of hosts) {
    if (!HOST_NAME.test(h))
      throw new NatsAuthError(
        "AUTH_INIT_INVALID",
        `${kind}: ${JSON.stringify(h)} is not a host name; allowed: letters, digits, '.', '-' and '_', starting with a letter or digit`,
      );
    // Inbox prefixes turn '.' into '_': two hosts must not share one (one could read the other's replies).
    const prefix = inboxPrefixOf({ role: "mailstore", host: h });
    const other = seen.get(prefix);
    if (other !== undefined)
      throw new NatsAuthError(
        "AUTH_INIT_INVALID",
        `${kind}: ${other} and ${h} ${other === h ? "are listed twice" : "would share the reply inbox prefix " + prefix}; list each host once, with names that differ in more than '.' and '_'`,
      );
    seen.set(prefix, h);
  }
}

/** The seed of `file` (kept) or a new one written there; returns its public key. */
function seedOf(file: string): { publicKey: string; created: boolean } {
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8").trim();
    try {
      return { publicKey: fromSeed(new TextEncoder().encode(text)).getPublicKey(), created: false };
    } catch {
      throw new NatsAuthError("NATS_AUTH_FILE", `${file} exists but is not an nkey user seed; move it away and run auth init again to create a new one`);
    }
  }
  const kp = createUser();
  // wx: never overwrite a seed another run wrote in the meantime.
  writeFileSync(file, `${new TextDecoder().decode(kp.getSeed())}\n`, { mode: 0o600, flag: "wx" });
  return { publicKey: kp.getPublicKey(), created: true };
}

/** Writes missing seeds and the include; see the module comment. Throws NatsAuthError. */
export function initAuth(o: AuthInitOptions): AuthInitResult {
  checkHosts("mailstores", o.mailstores);
  checkHosts("supervisors", o.supervisors);
  const dir = resolve(o.dir);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode is filtered by the umask
  }
  const ids: Identity[] = [
    ...o.mailstores.map((host): Identity => ({ role: "mailstore", host })),
    ...o.supervisors.map((host): Identity => ({ role: "supervisor", host })),
    { role: "admin" },
    { role: "client" },
    { role: "operator" },
  ];
  const ctx = { jetstream: o.jetstream, mailstores: o.mailstores };
  const identities: InitializedIdentity[] = [];
  const users: ConfUser[] = [];
  for (const id of ids) {
    const seedFile = join(dir, seedFileName(id));
    const { publicKey, created } = seedOf(seedFile);
    identities.push({ id, seedFile, publicKey, inboxPrefix: inboxPrefixOf(id), created });
    users.push({ id, publicKey, permissions: permissionsOf(id, ctx) });
  }
  const generated = "Generated by 'mailreplica auth init'; run it again (it keeps the seeds) instead of editing this file.";
  const usersInclude = join(dir, USERS_INCLUDE_FILE);
  writeWhole(
    usersInclude,
    renderUsersInclude(users, [
      generated,
      `Identities: ${ids.map(identityLabel).join(", ")}.`,
      `Streams: ${streamNames(o.jetstream).join(", ")}.`,
      `Included by ${AUTH_INCLUDE_FILE} (a server without accounts), or inside the mailreplica account's block: include ./${USERS_INCLUDE_FILE}`,
    ]),
  );
  const include = join(dir, AUTH_INCLUDE_FILE);
  writeWhole(
    include,
    renderAuthorization([
      generated,
      `For a server without accounts: include ./${AUTH_INCLUDE_FILE} at the top level of nats-server.conf, with ${USERS_INCLUDE_FILE} beside it.`,
    ]),
  );
  return { dir, include, usersInclude, identities };
}

/** Only public keys: readable by the nats-server user. Replaced whole, never half written. */
function writeWhole(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}
