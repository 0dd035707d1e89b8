/**
 * The zod schemas that validate requests and, through @hono/zod-openapi, generate
 * /openapi.json: one source for both. Response schemas document the answers. Their OpenAPI
 * fields are zod's own metadata (`.meta()`: `id` names the component), so that serving requests
 * needs plain zod only; the document is built on first request (openapi.ts).
 */
import { z } from 'zod';
import { ACTIONS, CURRENT_STATES, LANGS } from '../engine/index.js';
import {
  ACTION_MESSAGE,
  CATCHUP_HOURS_MESSAGE,
  DEVICE_ID_MESSAGE,
  DEVICE_ID_PATTERN,
  LANG_MESSAGE,
  FORECAST_HOURS_MESSAGE,
  hasControlCharacters,
  MAX_CATCHUP_HOURS,
  MAX_FORECAST_HOURS,
  MAX_FORECAST_STEP_MINUTES,
  PET_NAME_MAX_LENGTH,
  PET_NAME_MESSAGE,
  STEP_MINUTES_MESSAGE,
  TIMEZONE_MAX_LENGTH,
  TIMEZONE_MESSAGE,
  UPDATE_MESSAGE,
} from '../rules.js';

export const DeviceId = z
  .string({ message: DEVICE_ID_MESSAGE })
  .regex(DEVICE_ID_PATTERN, { message: DEVICE_ID_MESSAGE })
  .meta({ example: 'device_123', description: DEVICE_ID_MESSAGE });

export const Action = z.enum(ACTIONS, { message: ACTION_MESSAGE }).meta({ example: 'feed' });

export const Hours = z
  .number({ message: CATCHUP_HOURS_MESSAGE })
  .gt(0, { message: CATCHUP_HOURS_MESSAGE })
  .max(MAX_CATCHUP_HOURS, { message: CATCHUP_HOURS_MESSAGE })
  .meta({ example: 24, description: 'Simulated hours, fractions allowed' });

/** A decimal number as the original server's float() read it, minus its leniencies (hex, inf, nan, `_`). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `?hours=` of the compatibility catch-up: a decimal query string, 24 when absent. */
export const HoursQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return 24;
    const value = DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value) || value <= 0 || value > MAX_CATCHUP_HOURS) {
      ctx.addIssue({ code: 'custom', message: CATCHUP_HOURS_MESSAGE });
      return z.NEVER;
    }
    return value;
  })
  .meta({ type: 'number', example: 24, description: 'Simulated hours (default 24)' });

export const LangQuery = z
  .enum(LANGS, { message: LANG_MESSAGE })
  .optional()
  .meta({ description: 'Language of the texts; else Accept-Language; else zh', example: 'en' });

export const PetParams = z.object({
  device_id: DeviceId.meta({ param: { name: 'device_id', in: 'path' } }),
});

export const LangOnlyQuery = z.object({ lang: LangQuery });

/**
 * The Idempotency-Key header as documented in /openapi.json (checked in request-guard.ts, so
 * that a bad key gets its own code and no header validator runs on every request).
 */
export const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    '1–255 visible ASCII characters. A repeat with the same key and body answers the first answer again (with `Idempotent-Replayed: true`) and applies nothing; the same key with another body or route is a 422 `idempotency_conflict`. Kept 24 h.',
  schema: { type: 'string', minLength: 1, maxLength: 255, example: '8e03978e-40d5-43e8-bc93-6894a57f9324' },
} as const;

export const InteractBody = z.object({ action: Action }).meta({ id: 'InteractRequest' });

export const CatchupBody = z.object({ hours: Hours }).meta({ id: 'CatchupRequest' });

/** Trimmed, 1–64 characters without control characters (the service checks the same, rules.ts). */
export const PetName = z
  .string({ message: PET_NAME_MESSAGE })
  .trim()
  .min(1, { message: PET_NAME_MESSAGE })
  .max(PET_NAME_MAX_LENGTH, { message: PET_NAME_MESSAGE })
  .refine((name) => !hasControlCharacters(name), { message: PET_NAME_MESSAGE });

/** An IANA name; whether this runtime knows it is checked by the service (invalid_timezone). */
export const Timezone = z.string({ message: TIMEZONE_MESSAGE }).max(TIMEZONE_MAX_LENGTH, { message: TIMEZONE_MESSAGE });

export const PetPatchBody = z
  .object({
    pet_name: PetName.optional().meta({ example: '小糖' }),
    timezone: Timezone.optional().meta({ example: 'Asia/Shanghai' }),
  })
  .refine((body) => body.pet_name !== undefined || body.timezone !== undefined, {
    message: UPDATE_MESSAGE,
  })
  .meta({ id: 'PetPatchRequest' });

export const PetCreateBody = z
  .object({
    device_id: DeviceId.optional().meta({ description: `${DEVICE_ID_MESSAGE}; generated (pet_ + 128 random bits) when absent` }),
    pet_name: PetName.optional().meta({ example: '小糖', description: "Default: the server's (PET_NAME)" }),
    timezone: Timezone.optional().meta({ example: 'Asia/Tokyo', description: "IANA name; default: the server's (PET_TZ)" }),
  })
  .meta({ id: 'PetCreateRequest' });

/** `?timezone=` of a GET state: the zone a pet never seen is created in (ignored afterwards). */
export const StateQuery = z.object({
  lang: LangQuery,
  timezone: Timezone.optional().meta({
    example: 'Asia/Tokyo',
    description: 'Only when this request creates the pet (first sight): its timezone. Ignored for a pet that exists.',
  }),
});

export const ForecastQuery = z.object({
  hours: z.coerce
    .number({ message: FORECAST_HOURS_MESSAGE })
    .min(1, { message: FORECAST_HOURS_MESSAGE })
    .max(MAX_FORECAST_HOURS, { message: FORECAST_HOURS_MESSAGE })
    .default(24)
    .meta({ type: 'number', example: 24 }),
  step_minutes: z.coerce
    .number({ message: STEP_MINUTES_MESSAGE })
    .int({ message: STEP_MINUTES_MESSAGE })
    .min(1, { message: STEP_MINUTES_MESSAGE })
    .max(MAX_FORECAST_STEP_MINUTES, { message: STEP_MINUTES_MESSAGE })
    .default(10)
    .meta({ type: 'integer', example: 10 }),
});

// ── compatibility routes (the original server's inputs) ──

export const CompatDeviceQuery = z.object({ device_id: DeviceId, lang: LangQuery });

export const CompatCatchupQuery = z.object({ device_id: DeviceId, hours: HoursQuery, lang: LangQuery });

export const CompatInteractBody = z
  .object({
    device_id: DeviceId,
    action: Action,
    user_id: z.string().max(256).optional(),
  })
  .meta({ id: 'CompatInteractRequest' });

export const CompatFeedBody = z
  .object({
    device_id: DeviceId,
    food_type: z.string().max(64).optional().meta({ description: 'Accepted and ignored, as by the original server' }),
    user_id: z.string().max(256).optional(),
  })
  .meta({ id: 'CompatFeedRequest' });

// ── responses ──

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'invalid_action' }),
      message: z.string().meta({ example: ACTION_MESSAGE }),
      request_id: z.string().optional().meta({ description: 'On 5xx answers: the id of the log line that has the details' }),
    }),
  })
  .meta({ id: 'Error' });

export const CompatErrorBody = z
  .object({
    success: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), request_id: z.string().optional() }),
    timestamp: z.string(),
  })
  .meta({ id: 'CompatError' });

const Triple = z.object({ energy: z.number(), hunger: z.number(), mood: z.number() });

export const LifeReportSchema = z
  .object({
    ticks: z.number().int(),
    hours: z.number(),
    sleeps: z.number().int(),
    wakes: z.number().int(),
    minutes_asleep: z.number(),
    lowest_energy: z.number(),
    highest_hunger: z.number(),
    lowest_mood: z.number(),
    start: Triple,
    end: Triple,
    summary: z.string().meta({ example: 'While you were away (26 h) 小糖 slept twice…' }),
  })
  .meta({ id: 'LifeReport' });

export const StateDocumentSchema = z
  .object({
    device_id: z.string(),
    pet_name: z.string(),
    internal_state: z.object({
      rhythm: z.record(z.string(), z.unknown()),
      energy: z.record(z.string(), z.unknown()),
      satiety: z.record(z.string(), z.unknown()),
      mood: z.record(z.string(), z.unknown()),
    }),
    expression: z.object({
      pulse_rate: z.number(),
      pulse_symbol: z.string(),
      pulse_intensity: z.string(),
      color_hex: z.string(),
      color_name: z.string(),
      feeling: z.string(),
      life_box: z.string(),
    }),
    simplified_state: z.object({
      energy: z.number(),
      hunger: z.number(),
      mood: z.number(),
      current_state: z.enum(CURRENT_STATES),
    }),
    stats: z.object({
      feed: z.number().int(),
      play: z.number().int(),
      greet: z.number().int(),
      visits: z.number().int().optional().meta({ description: 'Visits the pet took part in, made or received (present after the first)' }),
    }),
    pet_time: z.string().meta({ example: '2026-03-01T08:00:00.000+08:00' }),
    timezone: z.string().meta({ example: 'Asia/Shanghai' }),
    last_updated: z.string().meta({ example: '2026-03-01T00:00:00.000Z' }),
    created_at: z.string(),
    version: z.number().int(),
    away: LifeReportSchema.optional(),
    interaction: z.object({ action: Action, event: z.string() }).optional(),
    // The report and two more fields (documented as allOf: the LifeReport component and the rest).
    catchup: z.intersection(LifeReportSchema, z.object({ requested_hours: z.number(), took_ms: z.number() })).optional(),
  })
  .meta({ id: 'PetState' });

export const ForecastSchema = z
  .object({
    device_id: z.string(),
    timezone: z.string(),
    from: z.string(),
    hours: z.number(),
    step_minutes: z.number().int(),
    points: z.array(
      z.object({
        time: z.string(),
        tick: z.number().int(),
        energy: z.number(),
        hunger: z.number(),
        mood: z.number(),
        asleep: z.boolean(),
        circadian_value: z.number(),
        current_state: z.enum(CURRENT_STATES),
      }),
    ),
  })
  .meta({ id: 'Forecast' });

export const CompatEnvelope = z
  .object({
    success: z.literal(true),
    action: z.string().optional(),
    hours: z.number().optional(),
    message: z.string().optional(),
    data: StateDocumentSchema,
    timestamp: z.string(),
  })
  .meta({ id: 'CompatResponse' });

export const ClaimSchema = z
  .object({
    device_id: z.string(),
    secret: z.string().meta({
      description: 'Shown once: send it as `Authorization: Bearer <secret>` to change the pet from now on.',
      example: 'q8c1Xo3m4Yt0f5lqj3eZ0sQy8a3uVhE2n9KJdP6wLbM',
    }),
  })
  .meta({ id: 'Claim' });

export const HealthSchema = z.object({ status: z.literal('ok'), uptime_s: z.number(), timestamp: z.string() }).meta({ id: 'Health' });

export const ReadySchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    storage: z.object({ backend: z.string(), ok: z.boolean(), latency_ms: z.number().optional() }),
    message: z.string().optional(),
    request_id: z.string().optional(),
    timestamp: z.string(),
  })
  .meta({ id: 'Ready' });

/** A `<ms>-<seq>` event id (docs/design.md §9). */
const EventId = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})$/, { message: 'an event id is <ms>-<seq>, e.g. 1767225600000-0' });

/** One event of a pet's log (docs/design.md §9). */
export const PetEventSchema = z
  .object({
    id: EventId.meta({ example: '1767225600000-0', description: '`<ms>-<seq>`: strictly increasing per pet' }),
    type: z.string().meta({
      example: 'interacted',
      description:
        "'interacted' | 'fell_asleep' | 'woke_up' | 'got_hungry' | 'reset' | 'updated' | 'claimed' | 'created' | 'visited' | 'befriended' | 'unfriended' | 'owner_added' | 'owner_left' | 'owner_removed'",
    }),
    device_id: z.string(),
    pet_time: z.string().meta({ description: "The pet's world clock when it happened, ISO 8601 in its timezone" }),
    at: z.string().meta({ description: 'Wall clock when it was recorded, ISO 8601 UTC' }),
    data: z.record(z.string(), z.unknown()).meta({ example: { action: 'feed', event: 'fed' } }),
  })
  .meta({ id: 'PetEvent' });

export const EventsQuery = z.object({
  after: EventId.optional().meta({
    description: 'Replay the retained events after this id (the `Last-Event-ID` header wins when both are sent)',
  }),
  format: z.enum(['sse', 'json']).optional().meta({ description: '`json`: answer the events after `after` as JSON and end' }),
  token: z
    .string()
    .regex(/^[\x21-\x7e]{1,512}$/)
    .optional()
    .meta({ description: 'The Bearer secret, for clients that cannot send headers (EventSource); this route and the WebSocket only' }),
});

export const EventsJsonSchema = z.object({ events: z.array(PetEventSchema) }).meta({ id: 'PetEvents' });
