// JSON-RPC 2.0 over NATS request subjects (docs/jsonrpc.md).
export type {
  JsonRpcId,
  JsonRpcParams,
  JsonRpcRequest,
  JsonRpcErrorObject,
  JsonRpcSuccess,
  JsonRpcFailure,
  JsonRpcResponse,
  RpcMethod,
  MethodTable,
} from "./types.js";
export {
  ProtocolErrors,
  AppErrorCodes,
  resolveAppCode,
  appErrorRows,
  type AppErrorCode,
  type AppErrorEntry,
  type AppErrorAlias,
  type ResolvedAppCode,
  type AppErrorRow,
} from "./codes.js";
export { RpcError, AppError, RpcClientError, toErrorObject, internalErrorFields, appCodeOf, type RpcClientErrorCode, type MappedError } from "./errors.js";
export { methodTable } from "./table.js";
export { handleRpcPayload, MAX_BATCH_MEMBERS, type DispatchOptions } from "./dispatch.js";
export {
  defineMethod,
  validateParams,
  str,
  oneOf,
  int,
  bool,
  strList,
  intList,
  strOrList,
  objList,
  type ParamSpec,
  type JsonSchema,
  type ParamSpecs,
  type ParamsOf,
  type DefinedMethod,
  type StrRules,
  type StrOptions,
  type IntRules,
  type IntOptions,
  type ListRules,
  type StrListOptions,
  type IntListOptions,
  type StrOrListOptions,
  type ObjListOptions,
} from "./params.js";
export { serveJsonRpc, DEFAULT_MAX_PAYLOAD_BYTES, type NatsRpcContext, type ServeJsonRpcOptions, type JsonRpcService } from "./server.js";
export { rpcCall, rpcNotify, rpcBatch, DEFAULT_RPC_TIMEOUT_MS, type RpcCallOptions, type RpcBatchCall, type RpcBatchOutcome } from "./client.js";
export {
  openRpcDocument,
  OPENRPC_VERSION,
  DISCOVER_METHOD,
  type OpenRpcDocument,
  type OpenRpcMethod,
  type OpenRpcContentDescriptor,
  type OpenRpcError,
  type DescribedMethod,
} from "./openrpc.js";
export { withDiscover } from "./discover.js";
