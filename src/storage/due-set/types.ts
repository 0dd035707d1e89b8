/**
 * The durable schedule of life events (docs/design.md §13): each pet with a notification target
 * has one instant in a due set, the wall-clock Unix ms at which it next needs looking at. A claim
 * moves the instant of the pets it takes to `now + lease`: the lease is the score itself, so a
 * claimer that dies simply lets its pets fall due again when the lease runs out, and another
 * instance takes them. Each driver family keeps it its own way (Redis: a sorted set; Cluster:
 * fixed hash-tagged buckets; files: an index the process keeps; memory: a map).
 */

/** A pet taken by a claim. */
export interface DueClaim {
  petId: string;
  /** The instant it was due at (before the claim moved it). */
  dueMs: number;
  /** The instant the claim moved it to: the lease's end, and the token `release` compares. */
  leaseUntilMs: number;
}

export interface DueSet {
  /** Sets the pet's instant (adding it when absent). */
  schedule(petId: string, atMs: number): Promise<void>;
  /**
   * Moves a pet that is in the set to `atMs` when its instant is later than `ifLaterThanMs`
   * (default `atMs`; a pet not in the set stays out). A claimed pet's instant is its lease's end,
   * so `ifLaterThanMs = atMs + lease` leaves pets being worked on alone. True when it moved.
   */
  hasten(petId: string, atMs: number, ifLaterThanMs?: number): Promise<boolean>;
  /** Takes the pet out. */
  unschedule(petId: string): Promise<void>;
  /** Claims up to `limit` pets due at `nowMs` (earliest first): their instant becomes `nowMs + leaseMs`. */
  claim(nowMs: number, leaseMs: number, limit: number): Promise<DueClaim[]>;
  /**
   * Ends a claim: when the pet's instant is still `leaseUntilMs` (nobody took it over or hastened
   * it since), sets it to `nextMs`, or takes the pet out for null. False when the instant had moved.
   */
  release(petId: string, leaseUntilMs: number, nextMs: number | null): Promise<boolean>;
  /** The pet's instant, or null when it is not in the set. */
  instantOf(petId: string): Promise<number | null>;
  /** How many pets are in the set. */
  size(): Promise<number>;
}

/** Throws TypeError for arguments no due set accepts (programming errors, not input). */
export function assertInstant(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be an integer ≥ 0, got ${value}`);
}

export function assertClaim(nowMs: number, leaseMs: number, limit: number): void {
  assertInstant('nowMs', nowMs);
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) throw new TypeError('leaseMs must be a positive integer');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new TypeError('limit must be an integer in 1..10000');
}
