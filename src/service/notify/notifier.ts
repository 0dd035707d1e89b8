/**
 * Brings one claimed pet's news to its targets (docs/design.md §13): the pet is brought to now
 * through the normal compare-and-set (its life events are saved once, in the log, whoever gets
 * there first), the events after the pet's cursor become deliveries for every target that chose
 * them, each is delivered once (deliver.ts), and the pet is given its next instant: its next life
 * event, or an owed delivery's next attempt, whichever comes first. A crash anywhere here leaves
 * the cursor where it was: the next claimer makes the same deliveries again, and their delivery
 * records skip what was sent.
 */
import { compareEventIds, type PetEvent, type StorageDriver } from '../../storage/index.js';
import type { Clock } from '../clock.js';
import type { PetService } from '../pet-service.js';
import { deliverOwed } from './deliver.js';
import { MAX_OWED_PER_PET, decodePetState, petStateRef, startPetState, type OwedDelivery, type PetNotifyState } from './pet-state.js';
import type { PushSender } from './push-sender.js';
import type { PushTarget, Targets, WebhookTarget } from './targets.js';

/** Events read per pass; more wait for the next pass (the pet is due again at once). */
const EVENTS_PER_PASS = 200;
/** Deliveries attempted per pass, in parallel. */
const DELIVERIES_PER_PASS = 20;
const MAX_STATE_ATTEMPTS = 5;
const HEARTBEAT_MS = 24 * 3_600_000;

export interface NotifierOptions {
  storage: StorageDriver;
  service: PetService;
  targets: Targets;
  clock: Clock;
  /** NOTIFY_MAX_PER_DAY: deliveries per pet per target per day. */
  maxPerDay: number;
  checkUrl: (url: string) => Promise<void>;
  push: PushSender | null;
  pageUrl: (petId: string) => string;
  fetch?: typeof fetch;
}

export interface PassReport {
  /** Deliveries sent (2xx) in this pass. */
  sent: number;
  /** The pet's next instant; null: it has no targets and nothing owed (taken out of the schedule). */
  nextMs: number | null;
}

type AnyTarget = { kind: 'webhook'; owner: string; target: WebhookTarget } | { kind: 'push'; owner: string; target: PushTarget };

export interface Notifier {
  /** One pass over a claimed pet (see above). */
  process(petId: string): Promise<PassReport>;
  /** Puts the pet on the schedule (due at once) and starts its cursor at now, if it has none. */
  enroll(petId: string): Promise<void>;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const { storage, service, targets, clock } = options;

  const targetsOf = async (owners: readonly string[], petId: string): Promise<Map<string, AnyTarget>> => {
    const byOwner = await targets.ofMany(owners);
    const found = new Map<string, AnyTarget>();
    for (const [owner, list] of byOwner) {
      for (const target of list.webhooks) {
        if (target.disabled === null && (target.pets === null || target.pets.includes(petId)))
          found.set(target.id, { kind: 'webhook', owner, target });
      }
      for (const target of list.push) found.set(target.id, { kind: 'push', owner, target });
    }
    return found;
  };

  const process = async (petId: string): Promise<PassReport> => {
    await service.bringToNow(petId);
    const record = await storage.load(petId);
    const owners = record?.meta?.owners ?? [];
    const found = await targetsOf(owners, petId);
    const petName = record?.meta?.pet_name ?? petId;
    const petTimezone = record?.meta?.timezone ?? 'UTC';

    const [stored] = await storage.loadRecords([petStateRef(petId)]);
    let state: PetNotifyState = decodePetState(petId, stored) ?? { cursor: `${clock.nowMs()}-0`, owed: [] };
    let version = stored?.version ?? 0;
    if (found.size === 0 && state.owed.length === 0) return { sent: 0, nextMs: null };

    const events = await storage.readEvents(petId, { after: state.cursor, limit: EVENTS_PER_PASS });
    const fresh: OwedDelivery[] = [];
    const nowMs = clock.nowMs();
    for (const event of events) {
      for (const [id, entry] of found) {
        if (entry.target.events.includes(event.type)) {
          fresh.push({ target: id, owner: entry.owner, kind: entry.kind, event, failures: 0, next_ms: nowMs });
        }
      }
    }
    const cursor = events.at(-1)?.id ?? state.cursor;
    let owed = [...state.owed, ...fresh];

    const laterEvents = async (after: string): Promise<PetEvent[]> => {
      const inPass = events.filter((e) => compareEventIds(e.id, after) > 0);
      return inPass.length > 0 ? inPass : storage.readEvents(petId, { after, limit: EVENTS_PER_PASS });
    };
    const due = owed.filter((o) => o.next_ms <= nowMs).slice(0, DELIVERIES_PER_PASS);
    const results = await Promise.all(
      due.map((o) =>
        deliverOwed(o, found.get(o.target)?.target, {
          storage,
          targets,
          petId,
          petName,
          petTimezone,
          nowMs,
          maxPerDay: options.maxPerDay,
          checkUrl: options.checkUrl,
          push: options.push,
          pageUrl: options.pageUrl,
          laterEvents,
          ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
        }).catch(() => ({ done: false as const, nextMs: nowMs + 5_000, failures: o.failures, counted: o.counted === true })),
      ),
    );
    const keyOf = (o: OwedDelivery): string => `${o.target}|${o.event.id}`;
    const outcome = new Map(due.map((o, i) => [keyOf(o), results[i]]));
    const settle = (list: OwedDelivery[]): OwedDelivery[] =>
      list.flatMap((o) => {
        const result = outcome.get(keyOf(o));
        if (result === undefined) return [o];
        if (result.done) return [];
        return [{ ...o, failures: result.failures, next_ms: result.nextMs, counted: result.counted }];
      });
    owed = settle(owed).slice(-MAX_OWED_PER_PET);
    const sent = results.filter((r) => r.done && r.sent).length;

    // Save the cursor and what is still owed; on a conflict (a takeover), merge into the fresh state.
    for (let attempt = 0; attempt < MAX_STATE_ATTEMPTS; attempt++) {
      const next: PetNotifyState = { cursor, owed };
      const saved = await storage.saveRecord(petStateRef(petId), { expectedVersion: version, value: JSON.stringify(next) });
      if (saved.ok) break;
      const [again] = await storage.loadRecords([petStateRef(petId)]);
      state = decodePetState(petId, again) ?? { cursor: null, owed: [] };
      version = again?.version ?? 0;
      const known = new Set(state.owed.map(keyOf));
      owed = settle([...state.owed, ...fresh.filter((o) => !known.has(keyOf(o)))]).slice(-MAX_OWED_PER_PET);
    }

    // Something saved while this pass ran (a visit): due again at once, not at the next life event.
    const newer = cursor === null ? [] : await storage.readEvents(petId, { after: cursor, limit: 1 });
    const lifeMs = await service.nextLifeEventMs(petId);
    const candidates = [
      ...owed.map((o) => o.next_ms),
      ...(lifeMs === null ? [] : [lifeMs]),
      ...(newer.length > 0 || events.length === EVENTS_PER_PASS ? [nowMs] : []),
    ];
    if (found.size === 0 && owed.length === 0) return { sent, nextMs: null };
    // Nothing ahead (TIME_SCALE 0, a pet whose life has no event in 7 days): looked at again in a day.
    return { sent, nextMs: candidates.length === 0 ? nowMs + HEARTBEAT_MS : Math.min(...candidates) };
  };

  return {
    process,
    async enroll(petId) {
      const nowMs = clock.nowMs();
      await startPetState(storage, petId, nowMs);
      const due = storage.dueSet;
      if (due === undefined) return;
      const at = await due.instantOf(petId);
      if (at === null) await due.schedule(petId, nowMs);
    },
  };
}
