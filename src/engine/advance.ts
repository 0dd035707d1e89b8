/**
 * Advancing a pet over the tick grid (docs/life-model.md §Advance). During tick [k, k+1) the mode
 * is the one at k (light, asleep, neglected, UTC offset); at k+1 the sleep/wake test runs once.
 * [from, to) is cut into segments of constant mode, each one closed-form step, ending at the next
 * dawn or dusk, UTC-offset change, neglect onset or the first tick where the test holds. Hence
 * advance(n) equals n calls of tick(1) to rounding, and cost grows with events, not ticks.
 */
import { bondAfter, hungerOf, moodAfter, satietyAfter, ticksToHunger } from './needs.js';
import { constantsOf, DEFAULT_PARAMS, type LifeParams } from './params.js';
import { isLight, ticksToLightChange } from './rhythm.js';
import { circadianDrive, createSleepWakeFlow, findFlip, probe } from './sleep.js';
import { modulo, nextOffsetChange, TICKS_PER_DAY, TICKS_PER_HOUR, utcOffsetMinutes } from './time.js';
import type { AdvanceEvent, AdvanceReport, AdvanceResult, LifeEvent, LifeState } from './types.js';
import { energyFrom, energyOf, HUNGRY_AT } from './vitals.js';

/** Sleep onsets, wakings and hunger crossings kept in a report. */
export const MAX_REPORTED_EVENTS = 64;

/** Work done by one advance, for benchmarks: segments stepped and sleep/wake probes evaluated. */
export interface AdvanceCost {
  segments: number;
  probes: number;
}

/**
 * Brings `state` to `toTick` (an integer ≥ state.tick) and reports what happened on the way.
 * Throws RangeError for a tick in the past or not an integer.
 */
export function advance(state: LifeState, toTick: number, params: LifeParams = DEFAULT_PARAMS): AdvanceResult {
  return advanceMeasured(state, toTick, params, null);
}

/** advance(state, state.tick + dt): dt ticks (minutes), default 1. */
export function tick(state: LifeState, dt = 1, params: LifeParams = DEFAULT_PARAMS): AdvanceResult {
  if (!Number.isSafeInteger(dt) || dt < 0) throw new RangeError('dt must be a non-negative integer number of ticks');
  return advanceMeasured(state, state.tick + dt, params, null);
}

/** advance() that also adds its segments and probes to `cost` (when given). */
export function advanceMeasured(state: LifeState, toTick: number, params: LifeParams, cost: AdvanceCost | null): AdvanceResult {
  if (!Number.isSafeInteger(toTick)) throw new RangeError('toTick must be an integer tick');
  if (toTick < state.tick) throw new RangeError(`toTick ${toTick} is before the state's tick ${state.tick}`);
  const constants = constantsOf(params);
  const p = params;
  const start = {
    energy: energyOf(state, constants),
    hunger: hungerOf(state.satiety),
    mood: state.mood,
  };
  const timezone = state.timezone;
  const neglectTick = state.lastInteractionTick + p.neglectAfterTicks;

  let k = state.tick;
  let internalPhase = state.internalPhase;
  let pressure = state.sleepPressure;
  let asleep = state.asleep;
  let satiety = state.satiety;
  let bond = state.bond;
  let mood = state.mood;
  let lastCalibrationTick = state.lastCalibrationTick;
  let lastEvent = state.lastEvent;

  let lowestEnergy = start.energy;
  let highestHunger = start.hunger;
  let lowestMood = start.mood;
  let endEnergy = start.energy;
  const events: AdvanceEvent[] = [];
  const report = (event: AdvanceEvent) => {
    events.push(event);
    if (events.length > MAX_REPORTED_EVENTS) events.shift();
  };
  let sleeps = 0;
  let wakes = 0;
  let hungers = 0;
  let minutesAsleep = 0;
  let segments = 0;
  let probes = 0;

  let offset = k < toTick ? utcOffsetMinutes(timezone, k) : 0;
  while (k < toTick) {
    const minute = modulo(k + offset, TICKS_PER_DAY);
    const light = isLight(minute, p.dawnMinute, p.duskMinute);
    const neglected = k >= neglectTick;
    let end = Math.min(toTick, k + ticksToLightChange(minute, p.dawnMinute, p.duskMinute));
    if (!neglected && neglectTick < end) end = neglectTick;
    const offsetChange = nextOffsetChange(timezone, k, end);
    if (offsetChange !== null) end = offsetChange;

    const flow = createSleepWakeFlow(constants, k, offset, internalPhase, pressure, asleep, light);
    const flip = findFlip(flow, end - k);
    if (flip > 0) end = k + flip;
    const ticks = end - k;
    const hours = ticks / TICKS_PER_HOUR;
    // The end state comes from the same closed-form call as the test at that tick.
    probe(flow, ticks);
    // Hunger only rises between interactions; its crossing lies inside the segment, never ends it.
    const hungry = ticksToHunger(satiety, asleep, ticks, HUNGRY_AT, constants);
    if (hungry > 0) {
      hungers++;
      report({ kind: 'got_hungry', tick: k + hungry });
    }
    mood = moodAfter(mood, pressure, satiety, bond, asleep, neglected, hours, constants);
    satiety = satietyAfter(satiety, asleep, hours, constants);
    bond = bondAfter(bond, neglected, hours, constants);
    internalPhase = flow.internalPhase;
    pressure = flow.pressure;
    if (asleep) minutesAsleep += ticks;
    segments++;
    probes += flow.probes;
    k = end;

    if (flip > 0) {
      asleep = !asleep;
      const event: LifeEvent = { kind: asleep ? 'fell_asleep' : 'woke_up', tick: k };
      if (asleep) sleeps++;
      else wakes++;
      report({ kind: asleep ? 'fell_asleep' : 'woke_up', tick: k });
      lastEvent = event;
    }
    offset = utcOffsetMinutes(timezone, k);
    // Dawn: light at k after a dark tick k − 1 (which belonged to this segment).
    if (!light && isLight(modulo(k + offset, TICKS_PER_DAY), p.dawnMinute, p.duskMinute)) lastCalibrationTick = k;

    endEnergy = energyFrom(pressure, circadianDrive(internalPhase, p.circadianPeakPhase), constants);
    if (endEnergy < lowestEnergy) lowestEnergy = endEnergy;
    const hunger = hungerOf(satiety);
    if (hunger > highestHunger) highestHunger = hunger;
    if (mood < lowestMood) lowestMood = mood;
  }
  if (cost) {
    cost.segments += segments;
    cost.probes += probes;
  }

  const next: LifeState =
    toTick === state.tick
      ? state
      : {
          ...state,
          tick: toTick,
          internalPhase,
          sleepPressure: pressure,
          asleep,
          satiety,
          bond,
          mood,
          lastCalibrationTick,
          lastEvent,
        };
  const summary: AdvanceReport = {
    fromTick: state.tick,
    toTick,
    ticks: toTick - state.tick,
    sleeps,
    wakes,
    hungers,
    minutesAsleep,
    lowestEnergy,
    highestHunger,
    lowestMood,
    start,
    end: { energy: endEnergy, hunger: hungerOf(satiety), mood },
    events,
    segments,
  };
  return { state: next, report: summary };
}

/** A life event: when it happens and what it is. */
export interface NextLifeEvent {
  tick: number;
  kind: AdvanceEvent['kind'];
}

/** Default horizon of nextLifeEvent: 7 simulated days. */
export const NEXT_EVENT_HORIZON_TICKS = 7 * TICKS_PER_DAY;

/**
 * The next sleep onset, waking or hunger crossing after `state.tick`, exactly as advance() would
 * report it (it advances a copy), or null when none falls within `horizonTicks`.
 */
export function nextLifeEvent(
  state: LifeState,
  params: LifeParams = DEFAULT_PARAMS,
  horizonTicks: number = NEXT_EVENT_HORIZON_TICKS,
): NextLifeEvent | null {
  if (!Number.isSafeInteger(horizonTicks) || horizonTicks < 0) throw new RangeError('horizonTicks must be a non-negative integer');
  return firstEvent(state, state.tick + horizonTicks, params);
}

/** The first event in (state.tick, toTick]; halves the interval when a report dropped its first events. */
function firstEvent(state: LifeState, toTick: number, params: LifeParams): NextLifeEvent | null {
  if (toTick <= state.tick) return null;
  const { report } = advance(state, toTick, params);
  const total = report.sleeps + report.wakes + report.hungers;
  if (total === 0) return null;
  const first = report.events[0];
  if (total === report.events.length && first !== undefined) return { tick: first.tick, kind: first.kind };
  const middle = state.tick + Math.floor((toTick - state.tick) / 2);
  return firstEvent(state, middle, params) ?? firstEvent(advance(state, middle, params).state, toTick, params);
}
