// Admin commands shared by the CLI and the REPL: definitions, output, operations, the NATS edge.
export type { AdminCommandDef, RpcParams } from "./types.js";
export { ADMIN_COMMANDS, findAdminCommand, adminDetails } from "./definitions.js";
export { MAILBOX_METHODS, findMailboxMethod } from "./mailbox_specs.js";
export { parseCallParams, callUsage, callDetails, methodSpecOfAdmin, type MethodSpec, type CallParamSpec, type CallParamType } from "./call_params.js";
export { formatValue, formatAccountStatus, formatMonitor, formatServices, formatVerify, progressLine, operationIdOf, operationSummary } from "./format.js";
export { waitForOperation, OPERATION_EXIT_CODES, type WaitOptions, type WaitOutcome } from "./operation.js";
export { CallError, codeOfRpcError } from "./errors.js";
export { connectNats, callMethod, closeQuietly, RPC_SUBJECTS, DEFAULT_CALL_TIMEOUT_MS, type RpcTarget, type CallOptions } from "./connection.js";
export { executeAdmin, runAdminCli, runCallCli, printCallError, type AdminRunIo, type Caller } from "./run.js";
