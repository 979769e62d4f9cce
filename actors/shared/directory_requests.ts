// Directory writes a mailstore needs, asked of the supervisor (which alone writes mr_directory,
// enforced by nats-server: src/natsauth/permissions.ts). A mailstore publishes only on its own
// subject mr.directory.<host>, so the host in the subject is one nats-server authenticated: the
// supervisor writes records for that host and no other (directory_request_methods.ts).
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, RpcClientError, rpcCall } from "../../src/jsonrpc/index.js";
import type { AccountRecord } from "../../src/directory/types.js";

import { DIRECTORY_REQUEST_PREFIX, DIRECTORY_REQUESTS, directoryRequestSubject } from "../../src/protocol/subjects.js";
export { DIRECTORY_REQUEST_PREFIX, DIRECTORY_REQUESTS, directoryRequestSubject };

/** The requesting mailstore's host, from the subject it published on. */
export function hostOfDirectoryRequest(subject: string): string {
  return subject.startsWith(DIRECTORY_REQUEST_PREFIX) ? subject.slice(DIRECTORY_REQUEST_PREFIX.length) : "";
}

/** A directory write for this host, asked of whichever supervisor answers first. */
export class DirectoryRequests {
  constructor(
    private readonly nc: NatsConnection,
    readonly host: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    try {
      return await rpcCall<T>(this.nc, directoryRequestSubject(this.host), method, params, { timeoutMs: this.timeoutMs });
    } catch (e) {
      if (e instanceof RpcClientError && e.code === "NO_RESPONDER") {
        throw new AppError(
          "NO_RESPONDER",
          `no supervisor answers ${directoryRequestSubject(this.host)}: account records are written by the supervisor only; start one (mailreplica supervisor) and retry`,
          { subject: directoryRequestSubject(this.host) },
        );
      }
      throw e;
    }
  }

  /** Registers this mailstore (its public signing key is shown by getServices; trust comes from trusted-signers.json). */
  register(publicKey: string): Promise<{ host: string }> {
    return this.call("registerMailstore", { publicKey });
  }

  /** Creates the record of a new account primary here (epoch 1); ACCOUNT_EXISTS when the name is taken. */
  createAccount(a: { id: string; name: string; type: AccountRecord["type"] }): Promise<AccountRecord> {
    return this.call("createAccount", a);
  }

  /** Gives back an account created here whose log holds nothing (a creation that failed before its first entry). */
  releaseAccount(id: string): Promise<{ released: boolean }> {
    return this.call("releaseAccount", { account: id });
  }

  /** Moves the record here: the account was promoted here at `epoch` under `grant` (a supervisor's). */
  recordPromotion(id: string, epoch: number, grant: string): Promise<{ changed: boolean; host: string; epoch: number }> {
    return this.call("recordPromotion", { account: id, epoch, grant });
  }
}
