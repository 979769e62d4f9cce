// The NATS services ("micro") protocol, version 1, as nats-io's ADR-32 and the nats CLI
// (`nats micro ls|info|stats`) define it: every service instance answers
// `$SRV.<VERB>`, `$SRV.<VERB>.<name>` and `$SRV.<VERB>.<name>.<id>` for the verbs PING, INFO
// and STATS, without a queue group (every instance answers), with the JSON shapes below.

/** The discovery subjects' prefix. */
export const SERVICE_API_PREFIX = "$SRV";

export const SERVICE_VERBS = ["PING", "INFO", "STATS"] as const;
export type ServiceVerb = (typeof SERVICE_VERBS)[number];

/** The `type` of each discovery answer. */
export const ResponseType = {
  PING: "io.nats.micro.v1.ping_response",
  INFO: "io.nats.micro.v1.info_response",
  STATS: "io.nats.micro.v1.stats_response",
} as const;

/** Headers that flag a reply as an error (the micro convention; clients read them without parsing the body). */
export const SERVICE_ERROR_HEADER = "Nats-Service-Error";
export const SERVICE_ERROR_CODE_HEADER = "Nats-Service-Error-Code";

/** What a service instance is. All but `name` and `version` optional. */
export interface ServiceConfig {
  /** the service's name: letters, digits, `-` and `_`; every instance of a service shares it */
  name: string;
  /** semantic version (x.y.z[-pre][+build]) */
  version: string;
  description?: string;
  /** free-form strings shown by INFO, PING and STATS (e.g. host, role) */
  metadata?: Record<string, string>;
}

/** One endpoint: a subject (wildcards allowed) served in a queue group or by every instance. */
export interface EndpointConfig {
  /** letters, digits, `-` and `_`; unique within the service */
  name: string;
  subject: string;
  /** the queue group the subject is served in; none: every instance gets every request */
  queueGroup?: string;
  metadata?: Record<string, string>;
}

interface ServiceIdentity {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
}

export interface PingResponse extends ServiceIdentity {
  type: typeof ResponseType.PING;
}

export interface EndpointInfo {
  name: string;
  subject: string;
  /** absent when the endpoint has no queue group */
  queue_group?: string;
  metadata: Record<string, string>;
}

export interface InfoResponse extends ServiceIdentity {
  type: typeof ResponseType.INFO;
  description: string;
  endpoints: EndpointInfo[];
}

export interface EndpointStats {
  name: string;
  subject: string;
  queue_group?: string;
  num_requests: number;
  num_errors: number;
  /** the last error's text; "" when there was none */
  last_error: string;
  /** nanoseconds, summed over every request */
  processing_time: number;
  /** nanoseconds */
  average_processing_time: number;
}

export interface StatsResponse extends ServiceIdentity {
  type: typeof ResponseType.STATS;
  /** when the instance started (ISO 8601, UTC) */
  started: string;
  endpoints: EndpointStats[];
}

/** What an endpoint's server tells the service about each request it answered. */
export interface EndpointRecorder {
  /** one request handled in `elapsedNs`; `error` is the error's text when the answer was one */
  record(elapsedNs: number, error?: string): void;
}
