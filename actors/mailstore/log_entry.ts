// Opening one account-log entry for applying it: signature and decryption (open), then the
// shape of the batch (readTxBatch). A changed key file is read once more before giving up
// (an operator who just added a trusted key). Shared by the replica agent and restores.
import { open, type EnvelopeKeyring } from "../../src/envelope/index.js";
import type { LogEntryToApply } from "../../src/store/index.js";
import { readTxBatch } from "./tx_batch.js";

/** Runs a check once more after the key files changed (a key the operator just added); else throws its error. */
export function withKeyReload<T>(check: () => T, reloadKeys?: () => boolean): T {
  try {
    return check();
  } catch (e) {
    if (reloadKeys?.()) return check();
    throw e;
  }
}

/** Throws what open() and readTxBatch() throw. */
export function openLogEntry(keyring: EnvelopeKeyring, accountId: string, seq: number, data: Uint8Array, reloadKeys?: () => boolean): LogEntryToApply {
  return withKeyReload(() => {
    const opened = open(keyring, data);
    return { seq, signer: opened.signer, batch: readTxBatch(opened.payload, accountId, seq) };
  }, reloadKeys);
}
