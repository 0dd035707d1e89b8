/** Builds the notification service from the app's config (docs/design.md §13; docs/configuration.md). */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Clock, Owners, PetService } from '../service/index.js';
import { createNotifyService, type NotifyService } from '../service/notify/notify-service.js';
import type { StorageDriver } from '../storage/index.js';

export function createNotifyFor(
  config: Partial<Pick<Config, 'notify'>>,
  deps: { storage: StorageDriver; service: PetService; owners: Pick<Owners, 'index'>; clock: Clock; log: Logger },
): NotifyService {
  const notify = config.notify;
  return createNotifyService({
    storage: deps.storage,
    service: deps.service,
    owners: deps.owners,
    clock: deps.clock,
    allowPrivate: notify?.allowPrivate ?? false,
    maxPerDay: notify?.maxPerDay ?? 6,
    vapid: notify?.vapid ?? {},
    publicUrl: notify?.publicUrl ?? null,
    log: deps.log,
    ...(notify === undefined ? {} : { leaseMs: notify.leaseMs }),
  });
}
