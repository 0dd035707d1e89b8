// Request path: who may touch a pet (claim secrets, owners, access needs).
/**
 * Who may touch a pet (docs/reliability.md). A pet is open until claimed; claiming it returns a secret once
 * (256 random bits, base64url) and stores only its SHA-256 in `meta.claim_hash`. From then on its
 * changes need `Authorization: Bearer <secret>` (its reads too when reads require auth); the
 * admin token opens every pet. Hashes are compared in constant time, and the check reads the meta
 * of the request's one load: no extra round trip.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '../../errors.js';
import type { PetMeta } from '../../storage/index.js';

/**
 * What an operation needs: `write` for changes, `read` for reads, `create` for a new pet (nothing
 * to protect yet: a taken id is refused by the operation itself, claimed or not).
 */
export type AccessNeed = 'read' | 'write' | 'create';

export interface AccessPolicy {
  /** SHA-256 of the admin token; null when there is none. */
  adminTokenHash: Buffer | null;
  /** Claimed pets need their secret for reads too. */
  readsRequireAuth: boolean;
}

/** No admin token, reads open. */
export const OPEN_ACCESS: AccessPolicy = Object.freeze({ adminTokenHash: null, readsRequireAuth: false });

/** SHA-256 of a secret, as stored in meta.claim_hash (hex). */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** A new claim secret: 32 random bytes, base64url (43 characters). */
export function newClaimSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Builds the policy from the configured admin token (kept only as a hash). */
export function createAccessPolicy(options: { adminToken?: string | null; readsRequireAuth?: boolean }): AccessPolicy {
  const token = options.adminToken ?? null;
  return Object.freeze({
    adminTokenHash: token === null ? null : hashSecret(token),
    readsRequireAuth: options.readsRequireAuth ?? false,
  });
}

function sameHash(hash: Buffer, storedHex: string): boolean {
  const stored = /^[0-9a-f]{64}$/i.test(storedHex) ? Buffer.from(storedHex, 'hex') : null;
  // timingSafeEqual needs equal lengths; a malformed stored hash matches nothing.
  return stored !== null && timingSafeEqual(hash, stored);
}

/**
 * Throws UnauthorizedError (no secret sent) or ForbiddenError (a wrong one) unless `bearer` may
 * `need` the pet with `meta`. Unclaimed pets are open, as in the seed.
 */
export function assertAccess(
  meta: Pick<PetMeta, 'claim_hash' | 'owners'>,
  need: AccessNeed,
  bearer: string | null,
  policy: AccessPolicy,
  owner: string | null = null,
): void {
  if (need === 'create') return;
  const sent = bearer === null ? null : hashSecret(bearer);
  if (sent !== null && policy.adminTokenHash !== null && timingSafeEqual(sent, policy.adminTokenHash)) return;
  const claim = meta.claim_hash;
  // A pet with owners (docs/design.md §8) is protected as a claimed one; each owner's secret opens it.
  if (claim === undefined && !hasOwners(meta)) return;
  if (need === 'read' && !policy.readsRequireAuth) return;
  if (sent === null) {
    throw new UnauthorizedError('this pet is claimed: send Authorization: Bearer <the secret its claim returned, or an owner secret>');
  }
  if (isPetOwner(meta, owner)) return;
  // Once owners hold a pet its claim secret opens it no more (adopting consumes it; docs/design.md §8).
  if (claim === undefined || hasOwners(meta) || !sameHash(sent, claim))
    throw new ForbiddenError('the Bearer secret does not open this pet');
}

/** The pet has at least one owner (docs/design.md §8). */
export function hasOwners(meta: Pick<PetMeta, 'owners'>): boolean {
  return (meta.owners?.length ?? 0) > 0;
}

/** `owner` (an owner id verified from its secret, or null) holds the pet. */
export function isPetOwner(meta: Pick<PetMeta, 'owners'>, owner: string | null): boolean {
  return owner !== null && (meta.owners?.includes(owner) ?? false);
}

/** SHA-256 of `bearer`, once per request (the checks below take it rather than hash again). */
export function bearerHashOf(bearer: string | null): Buffer | null {
  return bearer === null ? null : hashSecret(bearer);
}

/** `sent` (a bearer's hash) is the admin token's, the claim secret's of a claimed pet, or (owner) one of its owners'. */
export function isOwnerOrAdmin(
  meta: Pick<PetMeta, 'claim_hash' | 'owners'>,
  sent: Buffer | null,
  policy: AccessPolicy,
  owner: string | null = null,
): boolean {
  if (sent === null) return false;
  if (isPetOwner(meta, owner)) return true;
  if (policy.adminTokenHash !== null && timingSafeEqual(sent, policy.adminTokenHash)) return true;
  return meta.claim_hash !== undefined && !hasOwners(meta) && sameHash(sent, meta.claim_hash);
}
