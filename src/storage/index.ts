/**
 * The storage layer's public surface; other layers import from here only.
 */
export type {
  DriverName,
  ExtraRecord,
  FriendLink,
  OutboxEntry,
  HitRequest,
  HitResult,
  JsonObject,
  LoadManyItem,
  LoadManyResult,
  LoadOptions,
  PetEvent,
  PetEventDraft,
  PetMeta,
  PetRecord,
  ReadEventsOptions,
  RecordRef,
  RecordSaveRequest,
  RecordSaveResult,
  StoredRecord,
  ReplaceRequest,
  ScriptStatus,
  StorageInspector,
  StoredKey,
  SaveRequest,
  SaveManyItem,
  SaveManyResult,
  SaveResult,
  StorageDriver,
} from './types.js';
export {
  CLUSTER_LAYOUT,
  KEY_PREFIX,
  type KeyLayout,
  MAX_EXTRAS_PER_PET,
  PLAIN_LAYOUT,
  PET_ID_PATTERN,
  assertPetId,
  extraKey,
  isExtraRecordKey,
  globalKey,
  petKeys,
  type PetKeys,
} from './keys.js';
export { EVENT_LOG_MAX, EVENTS_CHANNEL, MAX_EVENTS_PER_SAVE, compareEventIds, isEventId, nextEventId } from './events.js';
export { CAS_SCRIPT, HIT_SCRIPT, LOAD_COUNTED_SCRIPT } from './scripts/index.js';
export { createKeyedQueue, type KeyedQueue, type KeyedQueueOptions } from './keyed-queue.js';
export { createMemoryStorage, type MemoryStorage, type MemoryStorageOptions, type MemoryStore } from './memory.js';
// The drivers (file.js, redis.js, upstash.js) are not re-exported: importing this surface must not
// load @redis/client or @upstash/redis (docs/deploy.md, "Cold start"). createStorage loads the chosen one;
// import a driver's own module to build it directly.
export type { FileStorageOptions } from './file.js';
export type { RedisStorageOptions, StorageLog } from './redis.js';
export type { UpstashStorageOptions } from './upstash.js';
export {
  chooseStorage,
  createStorage,
  describeStorage,
  type CreateStorageOptions,
  type StorageChoice,
  type StorageInput,
  type StorageKind,
} from './choose.js';
export { StateManager, type FlushReport, type StateManagerOptions } from './state-manager.js';
export { DEFAULT_SNAPSHOT_BYTES } from './snapshots.js';
// The manager's conflict error lives with the others (src/errors.ts); exported here for its callers.
export { isVersionConflictError, VersionConflictError } from '../errors.js';
export {
  measureStorage,
  STORAGE_OPERATIONS,
  type StorageCallObserver,
  type StorageObserver,
  type StorageOperation,
} from './measured.js';
