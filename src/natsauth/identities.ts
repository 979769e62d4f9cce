// The NATS identities of a mailreplica deployment: one per role, and per host for the
// processes that run on several machines. Each has its own nkey seed file and its own reply
// inbox prefix, so the server can let it subscribe to its own replies only.

/** mailstore, supervisor: one per host; admin: the operator's CLI/REPL; client: webmail/MTA; operator: JetStream administration. */
export type Role = "mailstore" | "supervisor" | "admin" | "client" | "operator";

export const ROLES: readonly Role[] = ["mailstore", "supervisor", "admin", "client", "operator"];

export interface Identity {
  role: Role;
  /** the mailstore's or supervisor's host; undefined for the single-identity roles */
  host?: string;
}

/**
 * Host names as the processes use them (`--host`): they become subject tokens
 * (`mr.node.<host>.admin`) and file names, so only letters, digits, `.`, `-` and `_`.
 */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** `mailstore mailstore1.example.com`, `admin`: how messages name an identity. */
export function identityLabel(id: Identity): string {
  return id.host === undefined ? id.role : `${id.role} ${id.host}`;
}

/** Seed file name: `mailstore.mailstore1.example.com.nk`, `admin.nk`. */
export function seedFileName(id: Identity): string {
  return id.host === undefined ? `${id.role}.nk` : `${id.role}.${id.host}.nk`;
}

/**
 * Reply inbox prefix: `_INBOX_mailstore_mailstore1_example_com`, `_INBOX_admin`. One token
 * (dots of a host become `_`), so `<prefix>.>` in a permission covers exactly its inboxes.
 */
export function inboxPrefixOf(id: Identity): string {
  return id.host === undefined ? `_INBOX_${id.role}` : `_INBOX_${id.role}_${id.host.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}
