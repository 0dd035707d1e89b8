/**
 * Chinese texts of the expression layer (the default language, as in the seed), and the shape
 * every language's table follows (`Texts`). Sentences follow the seed's style: short clauses,
 * no subject, no final full stop ("傍晚渐近，但仍有充足的能量"). Every list holds at least three
 * variants; feeling.ts picks one deterministically from the tick.
 */
import type { CurrentState, LifeEventKind } from '../types.js';

/** Time-of-day buckets of the pet's local day (boundaries in feeling.ts). */
export type TimeOfDay = 'lateNight' | 'dawn' | 'morning' | 'noon' | 'afternoon' | 'eveningApproaching' | 'evening' | 'night';

/**
 * Energy clause: the energy bucket (high, mid, low, asleep) and how it compares with what is
 * usual at that time of day (`Above`: livelier than usual, `Below`: more tired, `asleepOdd`:
 * asleep at a time the pet is usually awake).
 */
export type EnergyTone = 'high' | 'highAbove' | 'mid' | 'midAbove' | 'midBelow' | 'low' | 'lowBelow' | 'asleep' | 'asleepOdd';

/** Lasting conditions that colour the sentence when no recent event does. */
export type MoodColour = 'hungry' | 'grumpy' | 'neglected' | 'bored' | 'playful';

/** Palette entries (expression.ts maps states to them). */
export type ColorKey = CurrentState | 'warm';

/** Grammar and words of the "while you were away" sentence (away-report.ts). */
export interface AwayTexts {
  /** Duration of the interval; minutes are dropped once it is a day or more. */
  duration(days: number, hours: number, minutes: number): string;
  /** The whole sentence around the duration and the already-joined clauses. */
  sentence(duration: string, clauses: string): string;
  /** Joins clauses: "a, b and c" / "a，b，c". */
  list(clauses: readonly string[]): string;
  stayedAwake: string;
  sleptThrough: string;
  wokeUp: string;
  /** n ≥ 1 sleep onsets. */
  slept(n: number): string;
  energyFell(lowest: number): string;
  energyRose(end: number): string;
  energyHeld(end: number): string;
  /** After sleeping, the energy it has now (its lowest, at sleep onset, is always 0). */
  energyNow(end: number): string;
  gotHungry(highest: number): string;
  stayedHungry(highest: number): string;
  hungerRose(highest: number): string;
  moodDipped(lowest: number): string;
  moodRose(end: number): string;
}

/** Everything a language provides to the expression layer. */
export interface Texts {
  /** Opening clause per time of day. */
  times: Record<TimeOfDay, readonly string[]>;
  /** Energy clause, written to follow a time clause after `clauseSeparator`. */
  energy: Record<EnergyTone, readonly string[]>;
  /** Clause for a recent event (last ~60 min). */
  events: Record<LifeEventKind, readonly string[]>;
  /** Clause for a lasting condition when no event is recent. */
  colours: Record<MoodColour, readonly string[]>;
  /** Between the time and the energy clause. */
  clauseSeparator: string;
  /** Before the event or condition clause. */
  extraSeparator: string;
  /** Pulse intensity, level 1 (faint) to 5 (very strong). */
  pulseIntensity: readonly [string, string, string, string, string];
  colorNames: Record<ColorKey, string>;
  /** Short state label for the life box. */
  stateLabels: Record<CurrentState, string>;
  /** Life box row labels. */
  box: { energy: string; hunger: string; mood: string; pulse: string; bpm(rate: number): string };
  away: AwayTexts;
}

const SMALL_NUMERALS = ['零', '一', '两', '三', '四', '五', '六', '七', '八', '九', '十'];

/** 两 for 2, Chinese numerals up to 10, digits above (睡了两觉, 睡了12觉). */
function countWord(n: number): string {
  return SMALL_NUMERALS[n] ?? String(n);
}

export const zh: Texts = {
  times: {
    lateNight: ['夜已经很深了', '深夜时分', '万籁俱寂的深夜'],
    dawn: ['天刚蒙蒙亮', '黎明将至', '东方微微泛白'],
    morning: ['早上的阳光正好', '新的一天开始了', '早晨的空气很清新'],
    noon: ['正午时分', '到中午了', '日头正高'],
    afternoon: ['午后时光', '下午的阳光懒洋洋的', '午后的时光慢慢流淌'],
    eveningApproaching: ['傍晚渐近', '太阳渐渐西斜', '天色慢慢暗了下来'],
    evening: ['夜幕降临', '华灯初上', '天黑了'],
    night: ['夜色渐深', '入夜了', '夜晚静悄悄的'],
  },
  energy: {
    high: ['精力充沛', '浑身是劲', '精神饱满'],
    highAbove: ['但仍有充足的能量', '却依然精神抖擞', '可一点儿也不困'],
    mid: ['精神还不错', '体力尚可', '不紧不慢地打发着时光'],
    midAbove: ['却还没什么睡意', '但还不想睡', '精神却还不错'],
    midBelow: ['但还没完全打起精神', '却有点提不起劲', '精神却有些恹恹的'],
    low: ['困意渐浓', '眼皮越来越沉', '打了个大大的哈欠'],
    lowBelow: ['却已经没什么力气了', '却已累得不想动', '但电量快要见底了'],
    asleep: ['睡得正香', '沉沉地睡着', '在梦里轻轻翻了个身'],
    asleepOdd: ['却在呼呼大睡', '正偷偷打个盹', '却睡得正香'],
  },
  events: {
    fed: ['刚饱餐了一顿', '嘴边还留着饭香', '肚子暖暖的，很满足'],
    fed_full: ['实在吃不下了', '肚子早就饱饱的', '暂时不想吃东西'],
    fed_asleep: ['睡梦中错过了一顿饭', '梦里闻到了饭香', '完全没察觉有人来喂食'],
    played: ['刚玩得很开心', '还沉浸在游戏的快乐里', '刚才的游戏真好玩'],
    played_tired: ['实在玩不动了', '想玩却没力气', '只想趴着歇一会儿'],
    woken_by_play: ['被吵醒了，有点起床气', '好梦被打断了，气呼呼的', '还没睡够就被叫醒了'],
    played_asleep: ['迷迷糊糊翻了个身', '在梦里嘟囔了一声', '被轻轻碰了一下，又睡过去了'],
    greeted: ['见到你真开心', '你的问候让心里暖暖的', '很高兴你来看我'],
    greeted_asleep: ['梦里听见了你的声音', '在梦里笑了一下', '嘴角微微上扬'],
    woke_up: ['刚刚睡醒', '伸了个大大的懒腰', '还在揉惺忪的睡眼'],
    fell_asleep: ['刚刚进入梦乡', '才睡着不久', '呼吸渐渐平稳下来'],
  },
  colours: {
    hungry: ['肚子咕咕叫', '满脑子都是好吃的', '好想吃点东西'],
    grumpy: ['心情有点糟', '闷闷不乐', '有点小脾气'],
    neglected: ['好久没人来看我了', '有点想你了', '一直在等你回来'],
    bored: ['有点无聊', '没什么事可做', '百无聊赖'],
    playful: ['好想找人玩', '跃跃欲试', '一刻也坐不住'],
  },
  clauseSeparator: '，',
  extraSeparator: '，',
  pulseIntensity: ['微弱', '弱', '中', '强', '极强'],
  colorNames: {
    sleep: '靛蓝',
    sleepy: '紫',
    hungry: '橙',
    play: '绿',
    idle: '蓝',
    bored: '灰',
    grumpy: '红',
    warm: '暖黄',
  },
  stateLabels: {
    sleep: '睡觉中',
    sleepy: '犯困',
    hungry: '饿了',
    play: '想玩',
    idle: '悠闲',
    bored: '无聊',
    grumpy: '闹脾气',
  },
  box: { energy: '能量', hunger: '饥饿', mood: '心情', pulse: '脉搏', bpm: (rate) => `${rate}次/分` },
  away: {
    duration(days, hours, minutes) {
      if (days > 0) return hours > 0 ? `${days}天${hours}小时` : `${days}天`;
      if (hours > 0) return minutes > 0 ? `${hours}小时${minutes}分钟` : `${hours}小时`;
      return `${minutes}分钟`;
    },
    sentence: (duration, clauses) => `你不在的这段时间（${duration}）：${clauses}。`,
    list: (clauses) => clauses.join('，'),
    stayedAwake: '一直醒着',
    sleptThrough: '一直在睡',
    wokeUp: '睡醒了',
    slept: (n) => `睡了${countWord(n)}觉`,
    energyFell: (lowest) => `能量最低降到${lowest}`,
    energyRose: (end) => `能量回升到${end}`,
    energyHeld: (end) => `能量保持在${end}左右`,
    energyNow: (end) => `现在能量${end}`,
    gotHungry: (highest) => `饿了（饥饿值${highest}）`,
    stayedHungry: (highest) => `一直饿着（饥饿值最高${highest}）`,
    hungerRose: (highest) => `饥饿值升到${highest}`,
    moodDipped: (lowest) => `心情一度跌到${lowest}`,
    moodRose: (end) => `心情好转到${end}`,
  },
};
