/**
 * Interactions (docs/life-model.md §Interactions): instant changes at
 * the state's tick. They never run the sleep/wake test (the next tick end does), they all reset
 * the neglect clock, and bond counts care at most once an hour through q = min(1, Δt/60 min).
 */
import { UnknownActionError } from './errors.js';
import { satietyAfter } from './needs.js';
import { constantsOf, DEFAULT_PARAMS, type LifeParams } from './params.js';
import { type Action, type InteractionResult, type LifeEvent, type LifeState, isAction } from './types.js';
import { energyOf } from './vitals.js';

/** Satiety at or above which a meal counts as feeding a full pet (event `fed_full`). */
export const FULL_SATIETY = 0.9;
/** Energy (0–100) below which an awake pet is too tired to play. */
export const PLAY_MIN_ENERGY = 20;
/** Energy (0–100) from which play wakes a sleeping pet (about the last 2 h of the night). */
export const WAKE_BY_PLAY_MIN_ENERGY = 80;

/**
 * Applies `action` to `state` at its tick (effects table of docs/life-model.md), counts it in
 * `stats` and records the event. Throws UnknownActionError for anything but feed, play, greet.
 */
export function interact(state: LifeState, action: Action, params: LifeParams = DEFAULT_PARAMS): InteractionResult {
  if (!isAction(action)) throw new UnknownActionError(action);
  const constants = constantsOf(params);
  const k = state.tick;
  // Care factor: bond counts care at most once an hour.
  const care = Math.min(1, Math.max(0, (k - state.lastInteractionTick) / 60));
  let { sleepPressure, asleep, satiety, bond, mood, wokenByPlayTick } = state;
  let kind: LifeEvent['kind'];

  switch (action) {
    case 'feed':
      if (asleep) {
        kind = 'fed_asleep';
        bond += 0.0025 * care * (1 - bond);
      } else {
        kind = satiety >= FULL_SATIETY ? 'fed_full' : 'fed';
        mood += 0.3 * (1 - satiety) * (100 - mood);
        satiety += 0.5 * (1 - satiety);
        bond += 0.005 * care * (1 - bond);
      }
      break;
    case 'play': {
      const energy = energyOf(state, constants);
      if (asleep) {
        if (energy >= WAKE_BY_PLAY_MIN_ENERGY) {
          kind = 'woken_by_play';
          asleep = false;
          mood *= 0.8;
          wokenByPlayTick = k;
        } else {
          kind = 'played_asleep';
          mood *= 0.93;
        }
      } else if (energy >= PLAY_MIN_ENERGY) {
        kind = 'played';
        // One extra hour awake: S and satiety move as over an hour of waking.
        sleepPressure = 1 - (1 - sleepPressure) * Math.exp(-1 / params.tauWakeHours);
        satiety = satietyAfter(satiety, false, 1, constants);
        mood += 0.25 * (100 - mood);
        bond += 0.015 * care * (1 - bond);
      } else {
        kind = 'played_tired';
        mood *= 0.95;
      }
      break;
    }
    case 'greet':
      if (asleep) {
        kind = 'greeted_asleep';
        bond += 0.005 * care * (1 - bond);
      } else {
        kind = 'greeted';
        mood += 0.1 * (100 - mood);
        bond += 0.01 * care * (1 - bond);
      }
      break;
  }

  const event: LifeEvent = { kind, tick: k };
  return {
    state: {
      ...state,
      sleepPressure,
      asleep,
      satiety,
      bond,
      mood: Math.min(100, Math.max(0, mood)),
      lastInteractionTick: k,
      wokenByPlayTick,
      lastEvent: event,
      stats: { ...state.stats, [action]: state.stats[action] + 1 },
    },
    action,
    event,
  };
}
