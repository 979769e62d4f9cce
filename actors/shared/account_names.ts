// Account names as operators type them: addresses, never patterns (Carbonio refuses
// wildcards and distribution lists in replica commands).
import { AppError, ProtocolErrors, RpcError } from "../../src/jsonrpc/index.js";

const ADDRESS = /^[A-Za-z0-9!#$%&'+/=^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Refuses `*`/`?` patterns with UNSUPPORTED_ACCOUNT_PATTERN. */
export function refusePattern(name: string): void {
  if (/[*?]/.test(name)) {
    throw new AppError(
      "UNSUPPORTED_ACCOUNT_PATTERN",
      `'${name}' is a pattern; wildcards (* and ?) are not supported in account names: name each account (comma separated) or use input_file`,
      { account: name },
    );
  }
}

/** A new account's address, lower-cased; refuses patterns and malformed addresses. */
export function validateNewAccountName(name: string): string {
  refusePattern(name);
  if (name.length > 254 || !ADDRESS.test(name)) {
    throw new RpcError(
      ProtocolErrors.INVALID_PARAMS.code,
      `param 'name': '${name}' is not a valid account address; use local@domain such as john.doe@example.com`,
      { param: "name" },
    );
  }
  return name.toLowerCase();
}
