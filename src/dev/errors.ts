// Why `mailreplica dev` could not bring the local cluster up. Each message says what to do.
import { CodedError } from "../errors/index.js";

export type DevErrorCode =
  /** the NATS port is held by something that is not a nats-server */
  | "DEV_PORT_TAKEN"
  /** a nats-server answers on the port, but without JetStream */
  | "DEV_NATS_NO_JETSTREAM"
  /** the configured NATS URL is not local and nothing answers there */
  | "DEV_NATS_UNREACHABLE"
  /** the configured NATS addresses do not fit the number of nodes asked for */
  | "DEV_NATS_ADDRESSES"
  /** the nats-server nodes run, but the JetStream cluster did not accept replicated assets in time */
  | "DEV_CLUSTER_NOT_READY"
  /** a process dev started exited or did not get ready in time */
  | "DEV_START_FAILED";

export class DevError extends CodedError<DevErrorCode> {}
