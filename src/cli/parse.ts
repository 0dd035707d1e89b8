/** Value parsers for the CLI's arguments and options (commander calls them; a throw is a usage error, exit 2). */
import { InvalidArgumentError } from 'commander';
import { LANGS, type Lang } from '../engine/index.js';
import { LANG_MESSAGE } from '../rules.js';

/** An integer from 1 to `max`. */
export function positiveInt(max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidArgumentError(`must be an integer from 1 to ${max}`);
    return value;
  };
}

/** Any finite number (the service checks its range and answers a coded error). */
export function finiteNumber(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new InvalidArgumentError('must be a number');
  return value;
}

/** A language of the texts. */
export function lang(raw: string): Lang {
  if (!(LANGS as readonly string[]).includes(raw)) throw new InvalidArgumentError(LANG_MESSAGE);
  return raw as Lang;
}
