/**
 * The life box: seven lines of text art — a face and state label with the local time, bars for
 * energy, hunger and mood, and the pulse — every line the same display width.
 *
 * Width is counted in terminal columns: East Asian wide and fullwidth characters (CJK, kana,
 * hangul, fullwidth forms, most emoji) count 2, everything else 1. Box-drawing characters,
 * blocks and ●/○ are "ambiguous" in Unicode and count 1, as in non-East-Asian terminals.
 */
import { en } from './texts/en.js';
import { zh, type Texts } from './texts/zh.js';
import type { CurrentState, Lang, Vitals } from './types.js';

const TEXTS: Readonly<Record<Lang, Texts>> = { zh, en };

/** Columns of the label column; the longest label ("energy", "hunger") fits. */
const LABEL_WIDTH = 6;
/** Cells of a bar: one cell per 10 points. */
const BAR_CELLS = 10;
/** Columns inside the frame: " label bar nnn ". */
export const LIFE_BOX_INNER_WIDTH = 1 + LABEL_WIDTH + 1 + BAR_CELLS + 1 + 3 + 1;

/** A small ASCII face per state (ASCII only, so its width is the same in every terminal). */
const FACES: Readonly<Record<CurrentState, string>> = {
  sleep: '(-.-)zZ',
  sleepy: '(=_=)',
  hungry: '(o~o)',
  play: '(^o^)/',
  idle: '(^_^)',
  bored: '(-_-)',
  grumpy: '(>_<)',
};

/** Display width of a string in terminal columns (wide characters count 2). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += isWide(char.codePointAt(0) ?? 0) ? 2 : 1;
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) || // Hangul Jamo
    (cp >= 0x2e80 && cp <= 0x303e) || // CJK radicals, punctuation
    (cp >= 0x3041 && cp <= 0x33ff) || // kana, CJK symbols
    (cp >= 0x3400 && cp <= 0x4dbf) || // CJK extension A
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK unified ideographs
    (cp >= 0xa000 && cp <= 0xa4cf) || // Yi
    (cp >= 0xac00 && cp <= 0xd7a3) || // Hangul syllables
    (cp >= 0xf900 && cp <= 0xfaff) || // CJK compatibility ideographs
    (cp >= 0xfe30 && cp <= 0xfe4f) || // CJK compatibility forms
    (cp >= 0xff00 && cp <= 0xff60) || // fullwidth forms
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) || // emoji
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd) // CJK extensions B and beyond
  );
}

/** Pads `text` with spaces on the right to `width` columns. */
function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}

function bar(value: number): string {
  const filled = Math.round(clampPercent(value) / (100 / BAR_CELLS));
  return '█'.repeat(filled) + '░'.repeat(BAR_CELLS - filled);
}

/** "HH:MM" of a local minute. */
export function clockOf(localMinute: number): string {
  const minute = ((Math.floor(localMinute) % 1440) + 1440) % 1440;
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** The life box for these vitals and pulse, lines joined by "\n". */
export function lifeBoxOf(vitals: Vitals, pulse: { rate: number; symbol: string }, lang: Lang): string {
  const texts = TEXTS[lang];
  const label = (text: string): string => padEnd(text, LABEL_WIDTH);
  const meter = (name: string, value: number): string =>
    ` ${label(name)} ${bar(value)} ${String(Math.round(clampPercent(value))).padStart(3)} `;

  const head = ` ${FACES[vitals.currentState]} ${texts.stateLabels[vitals.currentState]}`;
  const time = `${clockOf(vitals.localMinute)} `;
  const rows = [
    head + ' '.repeat(Math.max(1, LIFE_BOX_INNER_WIDTH - displayWidth(head) - displayWidth(time))) + time,
    meter(texts.box.energy, vitals.energy),
    meter(texts.box.hunger, vitals.hunger),
    meter(texts.box.mood, vitals.mood),
    ` ${label(texts.box.pulse)} ${pulse.symbol} ${texts.box.bpm(pulse.rate)}`,
  ];
  const rule = '─'.repeat(LIFE_BOX_INNER_WIDTH);
  return [`┌${rule}┐`, ...rows.map((row) => `│${padEnd(row, LIFE_BOX_INNER_WIDTH)}│`), `└${rule}┘`].join('\n');
}
