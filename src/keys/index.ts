export {
  initKeys,
  loadKeyring,
  loadSigningKey,
  listPublicKeys,
  readTrustList,
  writeTrustList,
  addTrustedSigner,
  trustKeyFile,
  KeyFilesError,
  SECRETBOX_FILE,
  SIGNING_FILE_SUFFIX,
  SUPERVISOR_FILE_SUFFIX,
  TRUST_FILE,
  signingFileName,
} from "./key_files.js";
export type { InitKeysOptions, InitKeysResult, KeyFilesErrorCode, LoadKeyringOptions } from "./key_files.js";
export { KeyringReloader } from "./keyring_reload.js";
export type { KeyringReloadResult } from "./keyring_reload.js";
export { stageSigningKey, activateSigningKey, stageClusterKey, activateClusterKey, retireKey, STAGED_SUFFIX } from "./key_rotation.js";
export type { RotateSigningResult, RotateClusterResult, RetireResult } from "./key_rotation.js";
