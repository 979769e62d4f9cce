// Reading an account record from the directory without trusting its bytes: a record that is
// not JSON or not an AccountRecord (a bug, a hand edit, anyone who may write the bucket) must
// not crash a mailstore's directory watch or turn a lookup into an internal error.
import { isHostName } from "../envelope/types.js";
import { DirectoryError } from "./errors.js";
import { MAX_REPLICA_DELAY_S, type AccountRecord } from "./types.js";

const dec = new TextDecoder();

/** Why `value` is not an account record, or undefined when it is one. */
export function accountRecordProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const r = value as Partial<Record<keyof AccountRecord, unknown>>;
  if (typeof r.id !== "string" || r.id.length === 0) return "id is not a string";
  if (typeof r.name !== "string" || r.name.length === 0) return "name is not a string";
  if (r.type !== "account" && r.type !== "distributionList") return "type is neither account nor distributionList";
  if (!isHostName(r.mailHost)) return "mailHost is not a host name";
  if (!Number.isSafeInteger(r.epoch) || (r.epoch as number) < 1) return "epoch is not a positive integer";
  if (!Array.isArray(r.replicas)) return "replicas is not a list";
  for (const x of r.replicas as unknown[]) {
    const rep = x as Record<string, unknown> | null;
    if (
      typeof rep !== "object" ||
      rep === null ||
      !isHostName(rep.destination) ||
      !Number.isSafeInteger(rep.priority) ||
      (rep.state !== "active" && rep.state !== "paused")
    ) {
      return "a replica is not {destination, priority, state}";
    }
    if (rep.delay !== undefined && (!Number.isSafeInteger(rep.delay) || (rep.delay as number) < 0 || (rep.delay as number) > MAX_REPLICA_DELAY_S)) {
      return `a replica's delay is not an integer from 0 to ${MAX_REPLICA_DELAY_S}`;
    }
  }
  return undefined;
}

/** The account record stored under `key`; DIRECTORY_RECORD_INVALID when the bytes are not one. */
export function parseAccountRecord(bytes: Uint8Array, key: string): AccountRecord {
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(bytes));
  } catch {
    value = undefined;
  }
  const problem = value === undefined ? "not JSON" : accountRecordProblem(value);
  if (problem !== undefined) {
    throw new DirectoryError(
      "DIRECTORY_RECORD_INVALID",
      `directory record ${key} is not an account record (${problem}); it was written by something other than mailreplica: restore it (nats kv history mr_directory ${key}) or delete it with the operator identity`,
      { key },
    );
  }
  return value as AccountRecord;
}
