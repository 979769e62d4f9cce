import { CodedError } from "../errors/index.js";

/** Why bytes could not be turned into a value (or a value into bytes). */
export type CodecErrorCode =
  /** The data ends in the middle of a value: it was cut in transit or storage. */
  | "CODEC_TRUNCATED"
  /** The data is not msgpack, has bytes after the value, or nests too deeply. */
  | "CODEC_GARBAGE"
  /** The value cannot be written as msgpack (a cycle, for example). */
  | "CODEC_UNENCODABLE";

export class CodecError extends CodedError<CodecErrorCode> {
  constructor(
    code: CodecErrorCode,
    message: string,
    /** Short cause, safe to embed in another message (never contains the data). */
    readonly reason: string,
  ) {
    super(code, message);
  }
}
