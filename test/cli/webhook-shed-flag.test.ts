import { describe, expect, it } from 'vitest';
import { parseShedAbove } from '../../src/cli/webhook-options.js';

// F2: `rollguard webhook --shed-above` is an event-loop utilization: under 0.5 the webhook would
// admit reviews unstamped at loads it can carry; 1 turns shedding off.

describe('F2 --shed-above', () => {
  it.each([
    ['0.95', 0.95],
    ['0.5', 0.5],
    ['1', 1],
  ])('reads %s', (value, expected) => {
    expect(parseShedAbove(value)).toBe(expected);
  });

  it.each(['0.3', '1.2', '95%', 'off', '', ' '])('refuses %j with what it expects', (value) => {
    expect(() => parseShedAbove(value)).toThrow(/from 0\.5 to 1 \(1 never sheds\)/);
  });
});
