// Request path: the engine state in the storage contract's stored form.
/** The engine's stored form of a pet, as the storage contract wants it (one JSON object per system). */
import { SYSTEM_NAMES, toSystems, type LifeState, type SystemName } from '../../engine/index.js';
import type { JsonObject } from '../../storage/index.js';

/** Every system of `state`, ready for StorageDriver.save. */
export function systemsForSave(state: LifeState): Record<SystemName, JsonObject> {
  const systems = toSystems(state);
  const out = {} as Record<SystemName, JsonObject>;
  for (const name of SYSTEM_NAMES) out[name] = { ...systems[name] };
  return out;
}
