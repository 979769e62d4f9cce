// One service instance's discovery: it answers PING, INFO and STATS for itself on the
// `$SRV` subjects. The endpoints themselves are served by whoever owns their subscriptions
// (here the JSON-RPC server), which reports each request to the endpoint's recorder.
import { nuid, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { EndpointCounters } from "./endpoint_stats.js";
import { CodedError } from "../errors/index.js";
import {
  ResponseType,
  SERVICE_API_PREFIX,
  SERVICE_VERBS,
  type EndpointConfig,
  type EndpointRecorder,
  type InfoResponse,
  type PingResponse,
  type ServiceConfig,
  type ServiceVerb,
  type StatsResponse,
} from "./types.js";

const NAME = /^[A-Za-z0-9_-]+$/;
// semver 2.0.0, as the protocol requires of `version`
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export class MicroConfigError extends CodedError<"MICRO_CONFIG_INVALID"> {
  constructor(message: string) {
    super("MICRO_CONFIG_INVALID", message);
  }
}

/** The subjects one instance answers for `verb`: all services, its name, its name and id. */
export function discoverySubjects(verb: ServiceVerb, name: string, id: string): string[] {
  return [`${SERVICE_API_PREFIX}.${verb}`, `${SERVICE_API_PREFIX}.${verb}.${name}`, `${SERVICE_API_PREFIX}.${verb}.${name}.${id}`];
}

export class MicroService {
  /** this instance's id (a nuid), unique among the service's instances */
  readonly id = nuid.next();
  private readonly endpoints: EndpointCounters[] = [];
  private readonly subs: Subscription[] = [];
  private started = "";
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly config: Readonly<ServiceConfig>,
  ) {
    if (!NAME.test(config.name)) throw new MicroConfigError(`service name ${JSON.stringify(config.name)} may hold only letters, digits, - and _`);
    if (!SEMVER.test(config.version)) throw new MicroConfigError(`service version ${JSON.stringify(config.version)} is not a semantic version (x.y.z)`);
  }

  /** Adds an endpoint (before or after start); the returned recorder counts its requests. */
  addEndpoint(ep: EndpointConfig): EndpointRecorder {
    if (!NAME.test(ep.name)) throw new MicroConfigError(`endpoint name ${JSON.stringify(ep.name)} may hold only letters, digits, - and _`);
    if (this.endpoints.some((e) => e.config.name === ep.name)) throw new MicroConfigError(`endpoint ${ep.name} is already in service ${this.config.name}`);
    const counters = new EndpointCounters({ ...ep });
    this.endpoints.push(counters);
    return counters;
  }

  /** Starts answering discovery. Resolves once the server has the subscriptions. */
  async start(): Promise<void> {
    if (this.subs.length) return;
    this.started = new Date().toISOString();
    for (const verb of SERVICE_VERBS) {
      for (const subject of discoverySubjects(verb, this.config.name, this.id)) {
        this.subs.push(
          this.nc.subscribe(subject, {
            callback: (err, msg) => {
              if (err || !msg.reply) return; // a subscription error has nothing to answer
              try {
                msg.respond(JSON.stringify(this.answer(verb)));
              } catch {
                /* the connection is closing: the asker gets no answer from this instance */
              }
            },
          }),
        );
      }
    }
    // A connection that is reconnecting sends the subscriptions when it is back; not a failure.
    await this.nc.flush().catch(() => {});
  }

  /** Stops answering discovery (the instance disappears from `nats micro ls`). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled(this.subs.map((s) => s.drain()));
    })();
    return this.stopping;
  }

  private answer(verb: ServiceVerb): PingResponse | InfoResponse | StatsResponse {
    switch (verb) {
      case "PING":
        return this.ping();
      case "INFO":
        return this.info();
      case "STATS":
        return this.stats();
    }
  }

  private identity(): { name: string; id: string; version: string; metadata: Record<string, string> } {
    return { name: this.config.name, id: this.id, version: this.config.version, metadata: { ...(this.config.metadata ?? {}) } };
  }

  ping(): PingResponse {
    return { type: ResponseType.PING, ...this.identity() };
  }

  info(): InfoResponse {
    return { type: ResponseType.INFO, ...this.identity(), description: this.config.description ?? "", endpoints: this.endpoints.map((e) => e.info()) };
  }

  stats(): StatsResponse {
    return { type: ResponseType.STATS, ...this.identity(), started: this.started, endpoints: this.endpoints.map((e) => e.stats()) };
  }
}
