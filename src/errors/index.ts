export { CodedError, CallerFacingError, type CodedErrorOptions } from "./coded_error.js";
