// Request path: the pet's next hours, from a state that is never saved.
/**
 * The pet's next hours, sampled every few minutes by running the engine forward from a state
 * that is never saved (the web page's chart). Cost grows with the events in the interval.
 */
import { advance, vitalsOf } from '../../engine/index.js';
import type { LivePet } from './live-pet.js';
import { MS_PER_TICK, TICKS_PER_HOUR } from './time-model.js';
import type { Forecast, ForecastPoint } from './types.js';
import { formatZoned } from './zoned-time.js';

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Samples `pet` from its tick over `hours`, every `stepMinutes`, the first point being now. */
export function forecastOf(pet: LivePet, hours: number, stepMinutes: number): Forecast {
  const timezone = pet.meta.timezone;
  const points: ForecastPoint[] = [];
  let state = pet.state;
  const lastTick = state.tick + Math.floor(hours * TICKS_PER_HOUR);
  for (let tick = state.tick; tick <= lastTick; tick += stepMinutes) {
    if (tick > state.tick) state = advance(state, tick).state;
    const vitals = vitalsOf(state);
    points.push({
      time: formatZoned(tick * MS_PER_TICK, timezone),
      tick,
      energy: round(vitals.energy, 2),
      hunger: round(vitals.hunger, 2),
      mood: round(vitals.mood, 2),
      asleep: vitals.asleep,
      circadian_value: round(vitals.circadianValue, 4),
      current_state: vitals.currentState,
    });
  }
  return {
    device_id: pet.petId,
    timezone,
    from: formatZoned(pet.meta.world_ms, timezone),
    hours,
    step_minutes: stepMinutes,
    points,
  };
}
