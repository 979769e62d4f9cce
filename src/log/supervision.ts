// Supervision events of an actor system as log events: a failure, a restart, a give-up are
// worth an operator's eye (warn, error); an actor starting or stopping is routine (debug).
import type { SupervisionEvent } from "../runtime/types.js";
import type { Logger } from "./types.js";

const LEVEL: Record<SupervisionEvent["kind"], "debug" | "info" | "warn" | "error"> = {
  started: "debug",
  stopping: "debug",
  stopped: "debug",
  resumed: "info",
  failed: "warn",
  restarted: "warn",
  escalated: "error",
};

/** A listener for ActorSystem.onEvent that logs each event with its actor, directive and restarts. */
export function supervisionLogger(log: Logger): (e: SupervisionEvent) => void {
  return (e) => {
    const level = LEVEL[e.kind];
    if (!log.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = { actor: e.actor, event: e.kind };
    if (e.directive !== undefined) fields.directive = e.directive;
    if (e.restarts !== undefined) fields.restarts = e.restarts;
    if (e.error !== undefined) fields.error = e.error instanceof Error ? e.error.message : String(e.error);
    if (e.error && typeof (e.error as { code?: unknown }).code === "string") fields.code = (e.error as { code: string }).code;
    log[level](fields, e.kind === "escalated" ? "actor gave up after too many failures (escalated)" : `actor ${e.kind}`);
  };
}
