// The names under which mailreplica's JSON-RPC endpoints are registered as NATS services
// (`nats micro ls`), and which process runs which. The permissions of `auth init`
// (src/natsauth/permissions.ts) let each role answer discovery for its own names only.

export const ServiceNames = {
  /** mr.rpc.admin (queue mr-admin): only the supervisor holding the lease */
  admin: "mailreplica-admin",
  /** mr.directory.> (queue mr-directory): every supervisor */
  directory: "mailreplica-directory",
  /** mr.rpc.mailbox (queue mr-mailbox): every mailstore */
  mailbox: "mailreplica-mailbox",
  /** mr.node.<host>.mailbox and .admin: one instance per mailstore (metadata host) */
  node: "mailreplica-node",
} as const;

export type ServiceName = (typeof ServiceNames)[keyof typeof ServiceNames];

/** The services each process kind may register. */
export const SERVICES_OF_ROLE = {
  mailstore: [ServiceNames.mailbox, ServiceNames.node],
  supervisor: [ServiceNames.admin, ServiceNames.directory],
} as const satisfies Record<"mailstore" | "supervisor", readonly ServiceName[]>;
