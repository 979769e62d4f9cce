export { initKeys, loadKeyring, listPublicKeys, KeyFilesError, SECRETBOX_FILE, SIGNING_FILE_SUFFIX } from "./key_files.js";
export type { InitKeysOptions, InitKeysResult, LoadKeyringOptions, KeyFilesErrorCode } from "./key_files.js";
