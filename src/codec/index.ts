export { encode, decode } from "./msgpack.js";
export { CodecError } from "./errors.js";
export type { CodecErrorCode } from "./errors.js";
