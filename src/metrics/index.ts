export { LISTEN_ALLOWED, formatListen, listenProblem, parseListen, type ListenAddress } from "./listen.js";
export { MetricsError, type MetricsErrorCode } from "./errors.js";
export { startMetricsServer, type MetricsServer } from "./server.js";
export { ProcessMetrics, answerCode, bindMetrics, type BoundMetrics, type StatusSource } from "./process_metrics.js";
export { followingCounter } from "./following_counter.js";
