// The request subjects of mailreplica's JSON-RPC surface (docs/jsonrpc.md), defined once: the
// supervisor, the mailstores, the CLI and tests all address them from here.

/** Admin commands, answered by the supervisor holding the lease (queue mr-admin). */
export const ADMIN_SUBJECT = "mr.rpc.admin";
/** Mailbox methods, answered by any mailstore (queue mr-mailbox) and routed to the account's primary. */
export const MAILBOX_SUBJECT = "mr.rpc.mailbox";
/** Mailbox methods routed to the primary `host` (one mailstore). */
export const nodeMailboxSubject = (host: string): string => `mr.node.${host}.mailbox`;
/** A mailstore's own admin endpoint (status, promote, logHead...), called by the supervisor. */
export const nodeAdminSubject = (host: string): string => `mr.node.${host}.admin`;
/** Directory writes a mailstore asks of the supervisors, on its own host's subject. */
export const DIRECTORY_REQUEST_PREFIX = "mr.directory.";
/** What the supervisors subscribe to (host names hold dots: several tokens). */
export const DIRECTORY_REQUESTS = `${DIRECTORY_REQUEST_PREFIX}>`;
export const directoryRequestSubject = (host: string): string => `${DIRECTORY_REQUEST_PREFIX}${host}`;
