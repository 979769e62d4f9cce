// The supervisor learns an account's primary from the log through a mailstore (logHead on
// mr.node.<host>.admin; the mailstore side is actors/mailstore/log_head.ts): only mailstores
// hold the key that decrypts log entries and the signer keys that prove who wrote them.
import type { NatsConnection } from "@nats-io/transport-node";
import { rpcCall } from "../../src/jsonrpc/index.js";
import type { LogHead } from "../../src/protocol/node_api.js";
import { nodeAdminSubject } from "../../src/protocol/subjects.js";

/** Asks `hosts` in order (logHead on mr.node.<host>.admin); undefined when none answers. */
export async function askLogHead(nc: NatsConnection, accountId: string, hosts: Iterable<string>, timeoutMs = 5_000): Promise<LogHead | undefined> {
  for (const host of hosts) {
    try {
      return await rpcCall<LogHead>(nc, nodeAdminSubject(host), "logHead", { account: accountId }, { timeoutMs });
    } catch {
      /* the next one */
    }
  }
  return undefined;
}
