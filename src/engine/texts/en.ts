/**
 * English texts of the expression layer. The feeling is in the first person, like the seed's
 * widget quotes ("Evening is drawing near, but I've still got plenty of energy"); no final
 * full stop, as in the Chinese. Every list holds at least three variants.
 */
import type { Texts } from './zh.js';

const TIMES = ['once', 'twice'];

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const en: Texts = {
  times: {
    lateNight: ["It's the dead of night", 'The small hours have come', "It's well past midnight"],
    dawn: ['Dawn is breaking', 'The sky is just getting light', 'First light is creeping in'],
    morning: ["It's a bright morning", 'A new day has begun', 'The morning air is fresh'],
    noon: ["It's high noon", 'Midday has come', 'The sun is at its highest'],
    afternoon: ["It's a lazy afternoon", 'The afternoon drifts by', 'The afternoon sun is slanting in'],
    eveningApproaching: ['Evening is drawing near', 'The sun is sinking lower', 'The day is winding down'],
    evening: ['Night has fallen', 'The lights are coming on', "It's evening now"],
    night: ['The night grows late', "It's getting late", 'The house has gone quiet'],
  },
  energy: {
    high: ["and I'm full of energy", "and I've got energy to spare", 'and I feel lively and strong'],
    highAbove: ["but I've still got plenty of energy", "yet I'm still bright-eyed", "but I'm not the least bit tired"],
    mid: ["and I've got energy enough", 'and my energy is holding up', "and I'm pacing myself"],
    midAbove: ["yet I'm not sleepy at all", "but I'm in no mood for bed", "and I'm still wide awake"],
    midBelow: ["but I'm not quite awake yet", 'yet I feel a little sluggish', 'but my energy is only so-so'],
    low: ["and I'm getting sleepy", 'and my eyelids are getting heavy', "and I can't stop yawning"],
    lowBelow: ["but I'm already running out of steam", "yet I'm already worn out", 'but my battery is nearly flat'],
    asleep: ["and I'm sleeping soundly", "and I'm fast asleep", "and I'm deep in a dream"],
    asleepOdd: ["but I'm sneaking a nap", "yet I'm sound asleep", "but I'm dozing away"],
  },
  events: {
    fed: ['that meal hit the spot', 'my tummy is happily full', "I'm still savouring that meal"],
    fed_full: ["I couldn't eat another bite", 'I was already full', 'the food can wait'],
    fed_asleep: ['I slept right through feeding time', 'I dreamt of something tasty', "I didn't notice the food"],
    played: ['that game was so much fun', "I'm still buzzing from playtime", 'playing made me so happy'],
    played_tired: ['I was too tired to play', 'I wanted to play but had nothing left', 'I just want to lie down for a bit'],
    woken_by_play: ["I'm cranky about being woken", 'a good dream got cut short', "I wasn't done sleeping!"],
    played_asleep: ['I stirred, then drifted off again', 'I mumbled something in my sleep', 'I rolled over and kept sleeping'],
    greeted: ["it's so nice to see you", 'your hello warmed my heart', "I'm glad you stopped by"],
    greeted_asleep: ['I heard your voice in a dream', 'I smiled in my sleep', 'a friendly voice crept into my dream'],
    woke_up: ["I've only just woken up", "I'm stretching after a long sleep", "I'm still rubbing my eyes"],
    fell_asleep: ["I've only just dozed off", 'I drifted off a little while ago', 'my breathing is slowing down'],
  },
  colours: {
    hungry: ['my tummy is rumbling', 'I keep thinking about food', 'I could really use a snack'],
    grumpy: ["I'm in a bit of a mood", 'I feel rather glum', "I'm a little irritable"],
    neglected: ['nobody has come by in ages', 'I miss you a little', "I've been waiting for you"],
    bored: ["I'm a little bored", "there's nothing much to do", 'I wish something would happen'],
    playful: ["I'm itching to play", "I'm ready for a game", "I can't sit still"],
  },
  clauseSeparator: ', ',
  extraSeparator: ' — ',
  pulseIntensity: ['faint', 'weak', 'medium', 'strong', 'very strong'],
  colorNames: {
    sleep: 'indigo',
    sleepy: 'purple',
    hungry: 'orange',
    play: 'green',
    idle: 'blue',
    bored: 'gray',
    grumpy: 'red',
    warm: 'warm yellow',
  },
  stateLabels: {
    sleep: 'asleep',
    sleepy: 'sleepy',
    hungry: 'hungry',
    play: 'playful',
    idle: 'idle',
    bored: 'bored',
    grumpy: 'grumpy',
  },
  box: { energy: 'energy', hunger: 'hunger', mood: 'mood', pulse: 'pulse', bpm: (rate) => `${rate} bpm` },
  away: {
    duration(days, hours, minutes) {
      if (days > 0) return hours > 0 ? `${plural(days, 'day', 'days')} ${hours} h` : plural(days, 'day', 'days');
      if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
      return `${minutes} min`;
    },
    sentence: (duration, clauses) => `While you were away (${duration}): ${clauses}.`,
    list(clauses) {
      if (clauses.length <= 1) return clauses.join('');
      return `${clauses.slice(0, -1).join(', ')} and ${clauses[clauses.length - 1] ?? ''}`;
    },
    stayedAwake: 'stayed awake',
    sleptThrough: 'slept the whole time',
    wokeUp: 'woke up',
    slept: (n) => `slept ${TIMES[n - 1] ?? `${n} times`}`,
    energyFell: (lowest) => `energy fell to ${lowest} at its lowest`,
    energyRose: (end) => `energy rose to ${end}`,
    energyHeld: (end) => `energy held at about ${end}`,
    energyNow: (end) => `energy is now ${end}`,
    gotHungry: (highest) => `got hungry (hunger ${highest})`,
    stayedHungry: (highest) => `stayed hungry (hunger up to ${highest})`,
    hungerRose: (highest) => `hunger rose to ${highest}`,
    moodDipped: (lowest) => `mood dipped to ${lowest}`,
    moodRose: (end) => `mood rose to ${end}`,
  },
};
