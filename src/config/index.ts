export type { Config, ConfigProblem, DeepPartial, EnvVariable, LoadConfigOptions } from "./types.js";
export type { DataConfig, JetStreamConfig, KeysConfig, LicenceConfig, LogConfig, NatsConfig, NodeConfig, SupervisorConfig, WritesConfig } from "./types.js";
export { ConfigError, formatProblem, type ConfigErrorCode } from "./errors.js";
export { loadConfig, defaultLoadConfigOptions, systemConfigFile, configFileInUse, shownConfig } from "./load.js";
export { envVariables } from "./env.js";
export { defaultConfig } from "../../config/defaults.js";
export { validateConfig, configProblems } from "../../config/schema.js";
