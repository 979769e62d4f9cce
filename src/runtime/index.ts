export * from "./types.js";
export * from "./errors.js";
export * from "./clock.js";
export { BoundedQueue } from "./mailbox.js";
export { ActorSystem, type ActorSystemOptions } from "./system.js";
export { serveActor, remoteRef, type ServeOptions } from "./remote.js";
export { SubjectLog, contentDigest, contentMsgId, type LogEntry, type AppendOptions, type AppendResult } from "./subject_log.js";
export { LogBackedActor, type LogBackedBehavior, type LogBackedOptions, type Decision } from "./log_backed.js";
export { PeriodicTask } from "./periodic.js";
export {
  jsApiFailure,
  jsErrCode,
  isWrongLastSequence,
  isNoResponders,
  isRequestTimeout,
  isConnectionClosed,
  isConnectRefused,
  isRequestLost,
  JS_ERR,
  type JsApiFailure,
} from "./nats_failure.js";
export { runBounded, type BoundedRunOptions } from "./bounded_pool.js";
export { Slots } from "./slots.js";
