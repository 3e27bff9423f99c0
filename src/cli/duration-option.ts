import { InvalidArgumentError, Option } from 'commander';
import { formatDuration, parseDuration } from '../core/duration.js';

// A flag that takes a duration ("30s", "1m"): parsed to milliseconds, and its default printed by
// --help in the same form ("default: 15s"), never as the milliseconds the code holds.

function parseAtLeastOneSecond(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000) throw new InvalidArgumentError(`expected a duration of at least 1s such as "30s" or "1m", got "${value}"`);
  return ms;
}

export function durationOption(flags: string, description: string, defaultMs?: number, parse: (value: string) => number = parseAtLeastOneSecond): Option {
  const option = new Option(flags, description).argParser(parse);
  return defaultMs === undefined ? option : option.default(defaultMs, formatDuration(defaultMs));
}
