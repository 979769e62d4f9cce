// The NATS identities of the dev cluster: `auth init` for its three mailstores, its
// supervisor, the admin (the REPL), client and operator, under <var>/auth, once (seeds are
// kept, the include rewritten each run). The nats-server(s) dev starts load the include, so
// anonymous connections are refused there, and every process dev starts gets its own seed
// and inbox prefix. `admin.json` there is a config file for a CLI in another terminal.
import { writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/index.js";
import { initAuth, type AuthInitResult } from "../natsauth/auth_init.js";
import type { NatsAuth } from "../natsauth/connect_options.js";
import type { Role } from "../natsauth/identities.js";

/** The config file a CLI in another terminal uses to reach the dev cluster as admin. */
export const DEV_ADMIN_CONFIG = "admin.json";

export interface DevAuth {
  result: AuthInitResult;
  /** the nats-server include */
  include: string;
  /** `<authDir>/admin.json` */
  adminConfig: string;
  /** The connection settings of an identity (nkey seed and inbox prefix). */
  auth(role: Role, host?: string): NatsAuth;
  /** The same as environment variables for a child process (other credential variables blanked). */
  env(role: Role, host?: string): Record<string, string>;
  /** Writes `adminConfig`: these servers with the admin identity. */
  writeAdminConfig(servers: readonly string[]): void;
  /** Seeds created by this run (labels), for the start-up summary. */
  created: string[];
}

/** Credential variables a child must not inherit from dev's environment: they would clash with its nkey. */
const CREDENTIAL_VARIABLES = [
  "MR_NATS_CREDS",
  "NATS_CREDS",
  "MR_NATS_NKEY",
  "NATS_NKEY",
  "MR_NATS_USER",
  "NATS_USER",
  "MR_NATS_PASSWORD",
  "NATS_PASSWORD",
  "MR_NATS_PASSWORD_FILE",
  "MR_NATS_TOKEN_FILE",
  "MR_NATS_TLS_CA",
  "NATS_CA",
  "MR_NATS_TLS_CERT",
  "NATS_CERT",
  "MR_NATS_TLS_KEY",
  "NATS_KEY",
  "MR_NATS_INBOX_PREFIX",
];

/** Writes (or keeps) the dev identities; `writeAdminConfig` once the NATS URLs are known. */
export function ensureDevAuth(authDir: string, config: Config, mailstores: readonly string[], supervisor: string): DevAuth {
  const result = initAuth({ dir: authDir, mailstores, supervisors: [supervisor], jetstream: config.jetstream });
  const find = (role: Role, host?: string) => {
    const i = result.identities.find((x) => x.id.role === role && x.id.host === host);
    if (!i) throw new Error(`dev has no ${role}${host ? ` ${host}` : ""} identity`); // a bug: dev asked for one it did not create
    return i;
  };
  const auth = (role: Role, host?: string): NatsAuth => {
    const i = find(role, host);
    return { nkeyFile: i.seedFile, inboxPrefix: i.inboxPrefix };
  };
  const adminConfig = join(authDir, DEV_ADMIN_CONFIG);
  return {
    result,
    include: result.include,
    adminConfig,
    auth,
    env: (role, host) => {
      const a = auth(role, host);
      return { ...Object.fromEntries(CREDENTIAL_VARIABLES.map((v) => [v, ""])), MR_NATS_NKEY: a.nkeyFile!, MR_NATS_INBOX_PREFIX: a.inboxPrefix! };
    },
    writeAdminConfig: (servers) => {
      const admin = find("admin");
      const tmp = `${adminConfig}.${process.pid}.tmp`;
      // Paths in a config file are relative to it: the folder can be moved whole.
      const body = { nats: { servers: [...servers], nkeyFile: admin.seedFile.slice(authDir.length + 1), inboxPrefix: admin.inboxPrefix } };
      writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, adminConfig);
    },
    created: result.identities.filter((i) => i.created).map((i) => (i.id.host ? `${i.id.role} ${i.id.host}` : i.id.role)),
  };
}
