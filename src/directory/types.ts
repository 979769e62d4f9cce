// The directory (KV `mr_directory`): who is primary of each account, at which epoch, and
// where its replicas are. Changed only by compare-and-set, so two supervisors or a supervisor
// and a mailstore can never overwrite each other's change unseen.

/** Account (and operation) ids: UUIDs in lower case, as randomUUID() writes them. */
export const ACCOUNT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type ReplicaState = "active" | "paused";

/**
 * Longest delay of a lagged replica, seconds (14 days): long enough to notice a mass delete
 * after a holiday, short enough that the entries it holds back stay within a log retention
 * an operator would keep.
 */
export const MAX_REPLICA_DELAY_S = 14 * 24 * 3600;

export interface ReplicaRecord {
  /** FQDN of the destination mailstore */
  destination: string;
  /** lower number = promoted first */
  priority: number;
  /** "paused": the destination stops applying until restartReplicas */
  state: ReplicaState;
  /** bumped by restartReplicas: the destination drops its copy and re-seeds from the log */
  generation: number;
  addedAt: number;
  /**
   * Lagged replica: seconds an entry must have been in the log before the destination applies
   * it (setAccountDestination ... delay). Absent or 0: applied at once. Promotion by priority
   * skips a lagged replica.
   */
  delay?: number;
}

/** The replica's delay in seconds; 0 when it is not lagged. */
export function replicaDelay(r: Pick<ReplicaRecord, "delay">): number {
  return r.delay ?? 0;
}

export interface AccountRecord {
  /** UUID; also the account log subject token */
  id: string;
  /** lower-case address, e.g. john.doe@example.com */
  name: string;
  type: "account" | "distributionList";
  /** the one mailstore allowed to write the account now */
  mailHost: string;
  /** +1 at each promotion; every log entry carries its writer's epoch */
  epoch: number;
  replicas: ReplicaRecord[];
  createdAt: number;
}

/** A mailstore known to the system: registered once, with its signing public key. */
export interface MailstoreRecord {
  host: string;
  /** ed25519 public key (base64) that verifies the log entries this mailstore writes */
  publicKey: string;
  registeredAt: number;
}

/** A record with the KV revision it was read at (needed for compare-and-set). */
export interface Versioned<T> {
  value: T;
  revision: number;
}
