// Which NATS/JetStream failures are transient states of a cluster (forming, electing a
// leader, a node or the quorum away) rather than mistakes: classified by the server's numeric
// codes (`api_error.err_code`, the 503 status) and nats.js's error codes, never by message
// text alone. The description returned is what a log line says the process waits for.

/** JetStream API error codes (nats-server errors.json) that clear up by themselves. */
const TRANSIENT_ERR_CODES: ReadonlyMap<number, string> = new Map([
  [10004, "JetStream answered with incomplete results"],
  [10005, "no suitable peers for placement"],
  [10007, "JetStream cluster not assigned to this server yet"],
  [10008, "no meta leader yet (JetStream system temporarily unavailable)"],
  [10009, "the JetStream cluster cannot handle the request yet (no leader)"],
]);

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  api_error?: { code?: number; err_code?: number; description?: string };
}

/** A condition found by looking (e.g. a stream without a leader), not by a failed request. */
export class NotReadyYet extends Error {
  readonly code = "NOT_READY_YET";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * What the cluster is doing when `e` is a transient failure (the reason to wait and retry),
 * else undefined (a real error: report it).
 */
export function transientReason(e: unknown): string | undefined {
  if (e instanceof NotReadyYet) return e.reason;
  const err = (e ?? {}) as ErrorShape;
  const api = err.api_error;
  if (api && typeof api.err_code === "number") {
    const known = TRANSIENT_ERR_CODES.get(api.err_code);
    // 10005's description names the cause ("..., peer offline"): worth showing.
    if (known) return api.err_code === 10005 && api.description ? api.description : known;
    if (api.code === 503) return `JetStream temporarily unavailable (${api.description ?? `error ${api.err_code}`})`;
    return undefined;
  }
  switch (err.code) {
    case "503": // no responders: JetStream is not (yet) listening on the server we talk to
      return "JetStream does not answer yet (no responders)";
    case "TIMEOUT":
    case "408":
      return "the JetStream API did not answer in time";
    case "CONNECTION_REFUSED":
    case "CONNECTION_TIMEOUT":
      return "no NATS server accepts connections";
    case "DISCONNECT":
    case "CONNECTION_CLOSED":
      return "the NATS connection was lost";
    default:
      return undefined;
  }
}
