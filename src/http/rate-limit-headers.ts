/**
 * The RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-09): `RateLimit-Policy` names
 * each quota (`"pet";q=120;w=60`: 120 requests per 60 s to this pet) and `RateLimit` says where
 * the request left it (`"pet";r=117;t=42`: 117 left, the window resets in 42 s). Sent on every
 * counted answer, 429s included (which add Retry-After).
 */
import type { RateLimitStatus } from '../errors.js';

/** The header fields for `limits`; none when no limit applies. */
export function rateLimitHeaders(limits: readonly RateLimitStatus[]): Record<string, string> {
  if (limits.length === 0) return {};
  return {
    'RateLimit-Policy': limits.map((limit) => `"${limit.policy}";q=${limit.limit};w=${limit.windowS}`).join(', '),
    RateLimit: limits.map((limit) => `"${limit.policy}";r=${limit.remaining};t=${limit.resetS}`).join(', '),
  };
}
