import { describe, expect, it } from 'vitest';
import { nextPassAt, scrapeLandingMs } from '../../src/agent/evaluation-schedule.js';

// The agent's passes start just after each metric step boundary, so a breach that persists to a
// step's end is seen at the start of the next pass, not up to a step (and a pass) later.

const S = 1000;
const T0 = 1_780_000_020_000; // a boundary of 1 s, 30 s and 60 s steps

describe('R5 the agent evaluates each metric step once, just after its scrapes have landed', () => {
  it('waits a tenth of the step after the boundary, at most 1 s', () => {
    expect(scrapeLandingMs(1000)).toBe(100);
    expect(scrapeLandingMs(30_000)).toBe(1000);
  });

  it('starts the next pass just after the next boundary, whatever the phase the agent started at', () => {
    for (const phase of [0, 130, 499, 501, 870, 999]) {
      const start = T0 + phase;
      const first = nextPassAt(start, start, S, S);
      expect(first % S).toBe(100);
      expect(first).toBeGreaterThan(start);
      expect(first - start).toBeLessThanOrEqual(1.5 * S + 100);
      // From then on, one pass per step, each 100 ms after its boundary.
      expect(nextPassAt(first, first + 300, S, S)).toBe(first + S);
    }
  });

  it('keeps its step when the timer fired late, and waits for the next boundary after a pass that overran', () => {
    const pass = T0 + 100;
    expect(nextPassAt(pass + 40, pass + 400, S, S)).toBe(pass + S);
    expect(nextPassAt(pass, pass + 2300, S, S)).toBe(pass + 3 * S);
  });

  it('rounds a longer interval to whole steps, and keeps an interval shorter than the step unaligned', () => {
    const step = 30_000;
    const pass = T0 + 1000;
    expect(nextPassAt(pass, pass + 5000, 60_000, step)).toBe(pass + 60_000);
    expect(nextPassAt(pass, pass + 5000, 45_000, step)).toBe(pass + 60_000);
    expect(nextPassAt(T0 + 123, T0 + 500, 10_000, step)).toBe(T0 + 10_123);
  });
});
