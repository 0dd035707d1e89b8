/** The service layer: the pet adapter over storage, the clock seam and the time model. */
export { assertAccess, createAccessPolicy, hashSecret, OPEN_ACCESS } from './access.js';
export type { AccessNeed, AccessPolicy } from './access.js';
export { createManualClock, systemClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';
export { AWAY_REPORT_MIN_TICKS, documentOf, lifeReportOf } from './document.js';
export { IDEMPOTENCY_TTL_MS, idempotencyRecordName } from './idempotency.js';
export type { IdempotencyRequest, StoredAnswer } from './idempotency.js';
export type { LivePet, PetDefaults } from './live-pet.js';
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
} from './operations.js';
export type { Applied, ClaimResult, ForecastOptions, Operation, PetBirth, PetUpdate } from './operations.js';
export { createEventHub } from './event-hub.js';
export type { EventHub, EventHubDeps, EventHubLimits, SubscribeOptions, Subscription } from './event-hub.js';
export { createPetService, MAX_BATCH_OPERATIONS } from './pet-service.js';
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
} from './pet-service.js';
export { runBatch } from './run-batch.js';
export type { BatchItem, BatchOutcome } from './run-batch.js';
export { lifeEventDrafts, MAX_EVENTS_PER_READ, MAX_LIFE_EVENTS_PER_ADVANCE, petEventDraft } from './pet-events.js';
export { createPetQueue } from './pet-queue.js';
export type { PetQueue, PetQueueOptions } from './pet-queue.js';
export { checkRateLimits, NO_RATE_LIMITS, rateLimitCounters } from './rate-limits.js';
export type { RateLimitCounters, RateLimitPolicy } from './rate-limits.js';
export { jitteredBackoff, runOnPet } from './run-on-pet.js';
export type { Change, Plan, RunDeps, RunResult } from './run-on-pet.js';
export { bringToNow, fastForward, MS_PER_HOUR, MS_PER_TICK, TICKS_PER_HOUR } from './time-model.js';
export type { TimeMarks } from './time-model.js';
export type {
  Answer,
  CatchupReport,
  Forecast,
  ForecastPoint,
  InteractionReport,
  LifeReport,
  StateDocument,
} from './types.js';
export { formatZoned } from './zoned-time.js';
export { createOwners, INDEX_GRACE_MS, looksLikeOwnerSecret, OWNER_ID_PATTERN } from './owners.js';
export type { OwnerIndexEntry, Owners, OwnersOptions } from './owners.js';
export { createSocial, INVITE_CODE_PATTERN, INVITE_TTL_MS, MAX_FRIENDS_PER_PET } from './social.js';
export type { CallContext, FriendSummary, PetSummary, Social, SocialOptions } from './social.js';
export type { VisitResult } from './visits.js';
export { clearPlan, deliverOutbox, receivePlan } from './outbox.js';
export { createStreamGate, EVENTS_PER_UNIT } from './stream-gate.js';
export type { GateCaller, StreamGate, StreamGateDeps } from './stream-gate.js';
export { createStreamSlots, DEFAULT_STREAM_SLOT_LIMITS } from './stream-slots.js';
export type { StreamSlotLimits, StreamSlots } from './stream-slots.js';
