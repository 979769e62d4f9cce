// The NATS services (micro) protocol's discovery side: `nats micro ls|info|stats` finds what
// runs. Our own small implementation over nats-core; see types.ts for the protocol.
export { MicroService, MicroConfigError, discoverySubjects } from "./service.js";
export {
  SERVICE_API_PREFIX,
  SERVICE_VERBS,
  ResponseType,
  SERVICE_ERROR_HEADER,
  SERVICE_ERROR_CODE_HEADER,
  type ServiceVerb,
  type ServiceConfig,
  type EndpointConfig,
  type EndpointInfo,
  type EndpointStats,
  type EndpointRecorder,
  type PingResponse,
  type InfoResponse,
  type StatsResponse,
} from "./types.js";
