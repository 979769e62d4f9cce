// The nats-server configuration include `mailreplica auth init` writes: an `authorization`
// block with one nkey user per identity and its allow lists. Only public keys are in it.
import { identityLabel, inboxPrefixOf, seedFileName, type Identity } from "./identities.js";
import type { Permissions } from "./permissions.js";

/** The include's file name, next to the seeds and then next to nats-server.conf. */
export const AUTH_INCLUDE_FILE = "mailreplica-auth.conf";

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

/** The include's text for `users`; `header` lines become comments at the top. */
export function renderAuthInclude(users: readonly ConfUser[], header: readonly string[]): string {
  const blocks = users.map(({ id, publicKey, permissions: p }) =>
    [
      `    # ${identityLabel(id)}: seed ${seedFileName(id)}, inbox prefix ${inboxPrefixOf(id)}`,
      `    {`,
      `      nkey: ${q(publicKey)}`,
      `      permissions: {`,
      `        publish: { allow: ${list(p.publish, "        ")} }`,
      `        subscribe: { allow: ${list(p.subscribe, "        ")} }`,
      ...(p.allowResponses ? [`        allow_responses: true`] : []),
      `      }`,
      `    }`,
    ].join("\n"),
  );
  return [...header.map((h) => `# ${h}`), "authorization {", "  users = [", blocks.join(",\n"), "  ]", "}", ""].join("\n");
}
