// The service layer's public surface: pets/ (the request path), events/ (realtime), social/ (owners, friends, visits).
/** The service layer: the pet adapter over storage, the clock seam and the time model. */
export { assertAccess, createAccessPolicy, hashSecret, OPEN_ACCESS } from './pets/access.js';
export type { AccessNeed, AccessPolicy } from './pets/access.js';
export { createManualClock, systemClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';
export { AWAY_REPORT_MIN_TICKS, documentOf, lifeReportOf } from './pets/document.js';
export { IDEMPOTENCY_TTL_MS, idempotencyRecordName } from './pets/idempotency.js';
export type { IdempotencyRequest, StoredAnswer } from './pets/idempotency.js';
export type { LivePet, PetDefaults } from './pets/live-pet.js';
export {
  catchupOperation,
  claimOperation,
  createOperation,
  forecastOperation,
  interactOperation,
  newPetId,
  peekOperation,
  resetOperation,
  stateOperation,
  updateOperation,
} from './pets/operations.js';
export type { Applied, ClaimResult, ForecastOptions, Operation, PetBirth, PetUpdate } from './pets/operations.js';
export { createEventHub } from './events/event-hub.js';
export type { EventHub, EventHubDeps, EventHubLimits, SubscribeOptions, Subscription } from './events/event-hub.js';
export { createPetService, MAX_BATCH_OPERATIONS } from './pets/pet-service.js';
export { NO_OBSERVER } from './observer.js';
export type { RequestTiming, ServiceObserver } from './observer.js';
export type {
  BatchContext,
  BatchOperation,
  BatchResult,
  EventsOptions,
  PetService,
  PetServiceOptions,
  RequestContext,
  Served,
  ViewOptions,
} from './pets/pet-service.js';
export { runBatch } from './pets/run-batch.js';
export type { BatchItem, BatchOutcome } from './pets/run-batch.js';
export { lifeEventDrafts, MAX_EVENTS_PER_READ, MAX_LIFE_EVENTS_PER_ADVANCE, petEventDraft } from './events/pet-events.js';
export { createPetQueue } from './pets/pet-queue.js';
export type { PetQueue, PetQueueOptions } from './pets/pet-queue.js';
export { checkRateLimits, NO_RATE_LIMITS, rateLimitCounters } from './pets/rate-limits.js';
export type { RateLimitCounters, RateLimitPolicy } from './pets/rate-limits.js';
export { jitteredBackoff, runOnPet } from './pets/run-on-pet.js';
export type { Change, Plan, RunDeps, RunResult } from './pets/run-on-pet.js';
export { bringToNow, fastForward, MS_PER_HOUR, MS_PER_TICK, TICKS_PER_HOUR } from './pets/time-model.js';
export type { TimeMarks } from './pets/time-model.js';
export type {
  Answer,
  CatchupReport,
  Forecast,
  ForecastPoint,
  InteractionReport,
  LifeReport,
  StateDocument,
} from './pets/types.js';
export { formatZoned } from './pets/zoned-time.js';
export { createOwners, INDEX_GRACE_MS, looksLikeOwnerSecret, OWNER_ID_PATTERN } from './social/owners.js';
export type { OwnerIndexEntry, Owners, OwnersOptions } from './social/owners.js';
export { createSocial, INVITE_CODE_PATTERN, INVITE_TTL_MS, MAX_FRIENDS_PER_PET } from './social/social.js';
export type { CallContext, FriendSummary, PetSummary, Social, SocialOptions } from './social/social.js';
export type { VisitResult } from './social/visits.js';
export { clearPlan, deliverOutbox, receivePlan } from './social/outbox.js';
export { createStreamGate, EVENTS_PER_UNIT } from './events/stream-gate.js';
export type { GateCaller, StreamGate, StreamGateDeps } from './events/stream-gate.js';
export { createStreamSlots, DEFAULT_STREAM_SLOT_LIMITS } from './events/stream-slots.js';
export type { StreamSlotLimits, StreamSlots } from './events/stream-slots.js';
