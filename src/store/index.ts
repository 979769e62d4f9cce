export { MetadataStore } from "./metadata_store.js";
export { StoreError, isStoreError } from "./errors.js";
export type { StoreErrorCode } from "./errors.js";
export { LATEST_SCHEMA_VERSION } from "./migrations.js";
export { applyEvents } from "./apply_events.js";
export type { ApplyContext } from "./apply_events.js";
export type * from "./types.js";
export type { AccountState, StatePosition, ItemTuple, FolderTuple, RequestTuple } from "./account_state.js";
export type { LogEntryToApply, EntryCheck, EntryRunOutcome } from "./batch_applier.js";
