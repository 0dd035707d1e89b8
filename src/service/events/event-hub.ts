// Realtime: one storage watch per pet per process, fanned out to SSE and WebSocket subscribers.
/**
 * The process's event hub (docs/design.md §9): subscribers of a pet's events — SSE
 * streams and WebSockets — share one watch of the storage per process (or, when the driver cannot
 * push, one poll of `readEvents` per subscribed pet every second), reference-counted per pet.
 *
 * Delivery to a subscriber has no gap and no duplicate: it is registered first (live events
 * buffered), then the log after its `after` is replayed, then the buffered and later live events
 * with ids above the last one delivered follow. Each fan-out reads the log once for all
 * subscribers of the pet, after the smallest cursor among them.
 *
 * Life events need no request: for every subscribed pet a timer waits for the pet's next life
 * event (PetService.nextLifeEventMs) and brings the pet to now then (PetService.bringToNow), which
 * saves the event once, by compare-and-set; the save's notification delivers it like any other.
 * Timers are unref'd and cleared when a pet's last subscriber leaves.
 */
import { BusyError, ForbiddenError, NotFoundError, UnauthorizedError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { compareEventIds, EVENT_LOG_MAX, type PetEvent, type StorageDriver } from '../../storage/index.js';
import type { Clock } from '../clock.js';
import type { PetService } from '../pets/pet-service.js';

export interface EventHubLimits {
  /** Subscribers in this process, all pets together; one more is BusyError. @default 10000 */
  maxSubscribers: number;
  /** Subscribers of one pet in this process; one more is BusyError. @default 100 */
  maxPerPet: number;
}

export interface EventHubDeps {
  storage: Pick<StorageDriver, 'readEvents' | 'watch'>;
  service: Pick<PetService, 'events' | 'nextLifeEventMs' | 'bringToNow'>;
  clock: Clock;
  log: Logger;
  limits: EventHubLimits;
  /** How often subscribed pets' logs are read when the driver has no `watch`, ms. @default 1000 */
  pollIntervalMs?: number;
  /** Delay before the life-event timer is retried after a failure, ms. @default 30000 */
  retryMs?: number;
  /** Called for each event handed to a subscriber (the HTTP layer's /metrics). */
  onDelivered?: () => void;
}

export interface SubscribeOptions {
  /**
   * Replay every retained event after this id (all retained when null); `'now'`: no replay, only
   * events saved from now on (a client's first connection).
   */
  after: string | null | 'now';
  /** The Bearer secret, for the read access check of the replay. */
  bearer?: string | null;
  /** The owner id that secret was verified as (docs/design.md §8); null or absent when none. */
  owner?: string | null;
  /** Called when the hub ends the subscription itself (shutdown): end the stream. */
  onEnd?: () => void;
  /**
   * The caller's secret opens the pet (docs/design.md §9): not refused by the per-pet limit, so
   * that strangers never take every slot of a pet from its owner (still within maxSubscribers).
   */
  privileged?: boolean;
  /**
   * Called, and the subscription closed, when a change of the pet's access (a claim, an owner
   * added or gone) leaves this subscriber's credentials unable to read it (docs/design.md §9).
   */
  onRevoked?: (error: unknown) => void;
}

export interface Subscription {
  /** Id of the last event delivered (or the `after` given, before any). */
  readonly lastId: string | null;
  /** Stops delivery; idempotent. */
  close(): void;
}

export interface EventHub {
  /**
   * Subscribes to a pet's events: `deliver` gets the replay, then live events, in id order,
   * each once. Throws BusyError over a limit, and the access errors of a read.
   */
  subscribe(petId: string, deliver: (event: PetEvent) => void, options: SubscribeOptions): Promise<Subscription>;
  /** Subscribers and subscribed pets now. */
  stats(): { subscribers: number; pets: number };
  /** Stops the watch, the poll and every timer. */
  close(): Promise<void>;
}

interface Subscriber {
  deliver: (event: PetEvent) => void;
  /** Last id delivered (or `after`); events at or below it are not delivered again. */
  cursor: string | null;
  /** Live events that arrived during the replay, delivered after it. */
  buffer: PetEvent[] | null;
  closed: boolean;
  onEnd: (() => void) | undefined;
  onRevoked: ((error: unknown) => void) | undefined;
  bearer: string | null;
  owner: string | null;
}

interface PetEntry {
  subscribers: Set<Subscriber>;
  /** A fan-out read is running; `again` asks for another after it. */
  reading: boolean;
  again: boolean;
  timer: NodeJS.Timeout | null;
  /** Bumped when the life-event schedule is redone, so that a stale computation is dropped. */
  schedule: number;
}

/** setTimeout's largest delay. */
const MAX_DELAY_MS = 2_147_483_647;
/** After a life-event timer fired, the next one waits at least this long (no busy loop if it finds nothing due). */
const MIN_RESCHEDULE_MS = 1_000;

const isAfter = (id: string, cursor: string | null) => cursor === null || compareEventIds(id, cursor) > 0;

/** Events after which who may read the pet may have changed: every subscriber's access is checked again before delivery. */
const ACCESS_EVENTS: ReadonlySet<string> = new Set(['created', 'claimed', 'owner_added', 'owner_left', 'owner_removed']);

const isAccessError = (error: unknown): boolean =>
  error instanceof UnauthorizedError || error instanceof ForbiddenError || error instanceof NotFoundError;

export function createEventHub(deps: EventHubDeps): EventHub {
  const { storage, service, clock, log, limits } = deps;
  const onDelivered = deps.onDelivered;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const retryMs = deps.retryMs ?? 30_000;
  const pets = new Map<string, PetEntry>();
  let subscribers = 0;
  let watching: Promise<(() => Promise<void>) | null> | null = null;
  let poll: NodeJS.Timeout | null = null;
  let closed = false;

  const send = (subscriber: Subscriber, event: PetEvent): void => {
    if (subscriber.closed || !isAfter(event.id, subscriber.cursor)) return;
    subscriber.cursor = event.id;
    try {
      subscriber.deliver(event);
      onDelivered?.();
    } catch (error) {
      log.warn({ err: error, device: event.device_id }, 'event subscriber failed');
    }
  };

  /** Reads the pet's log after the smallest cursor of its subscribers and hands each its new events. */
  const fanOut = async (petId: string): Promise<void> => {
    const entry = pets.get(petId);
    if (!entry) return;
    if (entry.reading) {
      entry.again = true;
      return;
    }
    entry.reading = true;
    try {
      do {
        entry.again = false;
        let after: string | null | undefined;
        for (const subscriber of entry.subscribers) {
          if (after === undefined || subscriber.cursor === null || (after !== null && compareEventIds(subscriber.cursor, after) < 0)) {
            after = subscriber.cursor;
          }
        }
        if (after === undefined) return;
        let events: PetEvent[];
        try {
          events = await storage.readEvents(petId, { after });
        } catch (error) {
          log.warn({ err: error, device: petId }, 'reading events failed');
          return;
        }
        if (events.length === 0) continue;
        if (events.some((event) => ACCESS_EVENTS.has(event.type))) await recheck(petId, entry, events.at(-1)?.id ?? null);
        for (const subscriber of entry.subscribers) {
          if (subscriber.buffer !== null) subscriber.buffer.push(...events);
          else for (const event of events) send(subscriber, event);
        }
        // A change may move the next life event (a feed moves the hunger crossing).
        scheduleLifeEvent(petId, entry, 0);
      } while (entry.again && pets.get(petId) === entry);
    } finally {
      entry.reading = false;
    }
  };

  /** Sets the pet's timer at its next life event (no sooner than `minDelayMs` from now). */
  const scheduleLifeEvent = (petId: string, entry: PetEntry, minDelayMs: number): void => {
    const ticket = ++entry.schedule;
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.timer = null;
    const arm = (delayMs: number, fire: () => void) => {
      if (pets.get(petId) !== entry || entry.schedule !== ticket) return;
      entry.timer = setTimeout(fire, Math.min(MAX_DELAY_MS, Math.max(minDelayMs, delayMs)));
      entry.timer.unref();
    };
    service.nextLifeEventMs(petId).then(
      (atMs) => {
        if (atMs === null) return;
        arm(atMs - clock.nowMs(), () => {
          entry.timer = null;
          service.bringToNow(petId).then(
            () => scheduleLifeEvent(petId, entry, MIN_RESCHEDULE_MS),
            (error: unknown) => {
              log.warn({ err: error, device: petId }, 'bringing a subscribed pet to its life event failed');
              scheduleLifeEvent(petId, entry, retryMs);
            },
          );
        });
      },
      (error: unknown) => {
        log.warn({ err: error, device: petId }, 'computing the next life event failed');
        arm(retryMs, () => scheduleLifeEvent(petId, entry, 0));
      },
    );
  };

  /** Starts the one watch of the process (or the poll when the driver cannot push); resolves once it listens. */
  const ensureWatching = async (): Promise<void> => {
    if (storage.watch === undefined) {
      if (poll === null) {
        poll = setInterval(() => {
          for (const petId of pets.keys()) void fanOut(petId);
        }, pollIntervalMs);
        poll.unref();
      }
      return;
    }
    watching ??= storage.watch((petId) => {
      if (pets.has(petId)) void fanOut(petId);
    });
    try {
      await watching;
    } catch (error) {
      watching = null; // the next subscriber tries again
      throw error;
    }
  };

  /**
   * Reads the pet again with each subscriber's credentials (one read each, only after an access
   * event); a subscriber refused now is closed before anything more reaches it.
   */
  const recheck = async (petId: string, entry: PetEntry, lastId: string | null): Promise<void> => {
    await Promise.all(
      [...entry.subscribers].map(async (subscriber) => {
        try {
          await service.events(petId, { after: lastId, limit: 1, bearer: subscriber.bearer, owner: subscriber.owner });
        } catch (error) {
          if (!isAccessError(error)) return; // an outage is no revocation
          leave(petId, entry, subscriber);
          try {
            subscriber.onRevoked?.(error);
          } catch (failed) {
            log.warn({ err: failed, device: petId }, 'ending a revoked event subscriber failed');
          }
        }
      }),
    );
  };

  const leave = (petId: string, entry: PetEntry, subscriber: Subscriber): void => {
    if (subscriber.closed) return;
    subscriber.closed = true;
    subscriber.buffer = null;
    if (!entry.subscribers.delete(subscriber)) return;
    subscribers -= 1;
    if (entry.subscribers.size === 0 && pets.get(petId) === entry) {
      pets.delete(petId);
      entry.schedule += 1;
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.timer = null;
      if (pets.size === 0 && poll !== null) {
        clearInterval(poll);
        poll = null;
      }
    }
  };

  return {
    async subscribe(petId, deliver, options) {
      if (closed) throw new BusyError('the server is shutting down; reconnect', 1);
      if (subscribers >= limits.maxSubscribers) {
        throw new BusyError(`too many event subscribers on this server (${limits.maxSubscribers}); retry later`, 5);
      }
      const existing = pets.get(petId);
      if (existing !== undefined && existing.subscribers.size >= limits.maxPerPet && options.privileged !== true) {
        throw new BusyError(`too many event subscribers for this pet on this server (${limits.maxPerPet}); retry later`, 5);
      }
      const entry: PetEntry = existing ?? { subscribers: new Set(), reading: false, again: false, timer: null, schedule: 0 };
      const fromNow = options.after === 'now';
      const after = fromNow ? null : (options.after as string | null);
      const subscriber: Subscriber = {
        deliver,
        cursor: after,
        buffer: [],
        closed: false,
        onEnd: options.onEnd,
        onRevoked: options.onRevoked,
        bearer: options.bearer ?? null,
        owner: options.owner ?? null,
      };
      // Registered first: anything saved from now on reaches its buffer.
      entry.subscribers.add(subscriber);
      subscribers += 1;
      if (existing === undefined) pets.set(petId, entry);
      const subscription: Subscription = {
        get lastId() {
          return subscriber.cursor;
        },
        close: () => leave(petId, entry, subscriber),
      };
      try {
        await ensureWatching();
        // From now: the log is read (access checked) only to learn its last id. Redis trims with
        // MAXLEN ~, so the log may hold somewhat more than EVENT_LOG_MAX: twice is asked for.
        const replay = await service.events(petId, {
          after,
          bearer: options.bearer ?? null,
          owner: options.owner ?? null,
          ...(fromNow ? { limit: 2 * EVENT_LOG_MAX } : {}),
        });
        if (fromNow) subscriber.cursor = replay.at(-1)?.id ?? subscriber.cursor;
        else for (const event of replay) send(subscriber, event);
        const buffered = subscriber.buffer ?? [];
        subscriber.buffer = null;
        for (const event of buffered) send(subscriber, event);
      } catch (error) {
        subscription.close();
        throw error;
      }
      if (existing === undefined && !subscriber.closed) scheduleLifeEvent(petId, entry, 0);
      return subscription;
    },

    stats: () => ({ subscribers, pets: pets.size }),

    async close() {
      closed = true;
      for (const [petId, entry] of [...pets]) {
        for (const subscriber of [...entry.subscribers]) {
          leave(petId, entry, subscriber);
          try {
            subscriber.onEnd?.();
          } catch (error) {
            log.warn({ err: error, device: petId }, 'ending an event subscriber failed');
          }
        }
      }
      if (poll !== null) clearInterval(poll);
      poll = null;
      const stop = await watching?.catch(() => null);
      watching = null;
      await stop?.();
    },
  };
}
