// The nats-server configuration includes `mailreplica auth init` writes: the users (one nkey
// user per identity with its allow lists; only public keys), and an `authorization` block
// including them for a server without accounts. A server with accounts includes the users
// file inside its mailreplica account instead (deploy/nats/nats-server.conf).
import { identityLabel, inboxPrefixOf, seedFileName, type Identity } from "./identities.js";
import type { Permissions } from "./permissions.js";

/** `authorization { include ./mailreplica-users.conf }`: the include of a server without accounts. */
export const AUTH_INCLUDE_FILE = "mailreplica-auth.conf";
/** `users = [...]`: included in an `authorization` block or in an account's block. */
export const USERS_INCLUDE_FILE = "mailreplica-users.conf";

export interface ConfUser {
  id: Identity;
  publicKey: string;
  permissions: Permissions;
}

/** A subject as a quoted string of the nats-server configuration syntax (`$` stays literal inside quotes). */
function q(subject: string): string {
  return JSON.stringify(subject);
}

function list(items: readonly string[], indent: string): string {
  return `[\n${items.map((s) => `${indent}  ${q(s)}`).join(",\n")}\n${indent}]`;
}

/** The `authorization` include of a server without accounts: it includes the users file beside it. */
export function renderAuthorization(header: readonly string[]): string {
  return [...header.map((h) => `# ${h}`), "authorization {", `  include ./${USERS_INCLUDE_FILE}`, "}", ""].join("\n");
}

/** The users include (`users = [...]`); `header` lines become comments at the top. */
export function renderUsersInclude(users: readonly ConfUser[], header: readonly string[]): string {
  const blocks = users.map(({ id, publicKey, permissions: p }) =>
    [
      `    # ${identityLabel(id)}: seed ${seedFileName(id)}, inbox prefix ${inboxPrefixOf(id)}`,
      `    {`,
      `      nkey: ${q(publicKey)}`,
      `      permissions: {`,
      `        publish: { allow: ${list(p.publish, "        ")} }`,
      `        subscribe: { allow: ${list(p.subscribe, "        ")} }`,
      ...(p.allowResponses ? [p.allowResponses === true ? `        allow_responses: true` : `        allow_responses: { max: ${p.allowResponses.max} }`] : []),
      `      }`,
      `    }`,
    ].join("\n"),
  );
  return [...header.map((h) => `# ${h}`), "users = [", blocks.join(",\n"), "]", ""].join("\n");
}
