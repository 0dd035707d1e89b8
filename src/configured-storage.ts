/**
 * The storage driver the config selects, with the start-up line. Its own module, so the Vercel
 * entry (src/server.ts) builds storage without importing the Node server (src/main.ts).
 */
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { createStorage, describeStorage, type StorageDriver } from './storage/index.js';

/** Builds (and loads the module of) the storage driver the config selects; logs the start-up line. */
export async function createConfiguredStorage(config: Config, log: Logger): Promise<StorageDriver> {
  const storage = await createStorage(config.storage, {
    ttlMs: config.petTtlDays === null ? undefined : config.petTtlDays * 86_400_000,
    onVercel: config.onVercel,
    snapshotBytes: config.snapshotBytes,
    waitReplicas: config.redisWaitReplicas,
    log,
  });
  log.info(
    { backend: storage.name, target: storage.target, ...(config.snapshotBytes > 0 ? { snapshotBytes: config.snapshotBytes } : {}) },
    describeStorage(storage),
  );
  return storage;
}
