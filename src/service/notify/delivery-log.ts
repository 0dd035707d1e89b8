/**
 * The recent attempts of one webhook endpoint (docs/design.md §13), newest first, at most
 * DELIVERY_LOG_MAX: `life_~delivery-log:<endpoint id>`. Best effort: a log write that keeps
 * conflicting is dropped (the delivery itself is decided by its delivery record, not here).
 */
import type { StorageDriver } from '../../storage/index.js';

export const DELIVERY_LOG_MAX = 50;
const ATTEMPTS = 5;
/** A log outlives its endpoint by this much at most. */
const LOG_TTL_MS = 7 * 24 * 3_600_000;

export interface DeliveryAttempt {
  /** The webhook-id. */
  event_id: string;
  type: string;
  device_id: string | null;
  /** HTTP status, or null when nothing answered (timeout, refused). */
  status: number | null;
  ok: boolean;
  error?: string;
  at: string;
  /** When it is tried again; null: not again (delivered, gone, or given up). */
  next_try: string | null;
}

const refOf = (endpointId: string) => ({ purpose: 'delivery-log', subject: endpointId });

export async function appendDeliveryLog(storage: StorageDriver, endpointId: string, attempt: DeliveryAttempt): Promise<void> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const [stored] = await storage.loadRecords([refOf(endpointId)]);
    let entries: DeliveryAttempt[] = [];
    try {
      entries = stored ? (JSON.parse(stored.value) as DeliveryAttempt[]) : [];
    } catch {
      entries = [];
    }
    const next = [attempt, ...(Array.isArray(entries) ? entries : [])].slice(0, DELIVERY_LOG_MAX);
    const saved = await storage.saveRecord(refOf(endpointId), {
      expectedVersion: stored?.version ?? 0,
      value: JSON.stringify(next),
      ttlMs: LOG_TTL_MS,
    });
    if (saved.ok) return;
  }
}

export async function readDeliveryLog(storage: StorageDriver, endpointId: string): Promise<DeliveryAttempt[]> {
  const [stored] = await storage.loadRecords([refOf(endpointId)]);
  if (!stored) return [];
  try {
    const entries = JSON.parse(stored.value) as DeliveryAttempt[];
    return Array.isArray(entries) ? entries : [];
  } catch {
    return [];
  }
}
