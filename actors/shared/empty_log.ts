// The reason both processes give when an existing account's log is empty: the replica agent
// marks its replica unavailable with it, the supervisor refuses a new replica with it.
import { txSubject } from "../../src/jetstream/assets.js";

/** Why a replica of an existing account whose log is empty cannot be seeded, and what to do. */
export function emptyLogReason(accountId: string, destination: string): string {
  return `the account log ${txSubject(accountId)} is empty although the account exists: its first entry (account.created) and everything after it were removed (retention or by hand), so ${destination} has nothing to seed from; restore the log (JetStream backup of the stream) or recreate the account, then restartReplicas`;
}
