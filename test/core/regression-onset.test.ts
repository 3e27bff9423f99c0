import { describe, expect, it } from 'vitest';
import { elevatedRegime, segment, splitPenalty } from '../../src/core/onset.js';
import type { Counts } from '../../src/core/stats-binomial.js';
import { binomial, rng } from '../support/metric-scenarios.js';

// R1's onset: change points on counts, the regime still running at the end, and its uncertainty.

const series = (seed: number, shares: readonly number[], n = 200): Counts[] => {
  const random = rng(seed);
  return shares.map((p) => ({ k: binomial(random, n, p), n }));
};
const repeat = (p: number, times: number): number[] => Array.from({ length: times }, () => p);

describe('R1 change points on counts', () => {
  it('finds one step where it is', () => {
    const points = series(1, [...repeat(0.01, 40), ...repeat(0.08, 20)]);
    const segments = segment(points);
    expect(segments.map((s) => s.from)).toEqual([0, 40]);
    expect(elevatedRegime(points)).toMatchObject({ start: 40 });
  });

  it('finds nothing in a steady series', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(segment(series(seed, repeat(0.02, 80)))).toHaveLength(1);
      expect(elevatedRegime(series(seed, repeat(0.02, 80)))).toBeUndefined();
    }
  });

  it('a ramp starts where it leaves the floor', () => {
    const shares = [...repeat(0.01, 40), 0.02, 0.03, 0.045, 0.06, 0.075, 0.09, ...repeat(0.1, 10)];
    const regime = elevatedRegime(series(3, shares, 500));
    expect(regime?.start).toBeGreaterThanOrEqual(40);
    expect(regime?.start).toBeLessThanOrEqual(42);
  });

  it('a burst that ended is not the running regime; a later rise is', () => {
    const burstOnly = [...repeat(0.01, 30), ...repeat(0.4, 3), ...repeat(0.01, 20)];
    expect(elevatedRegime(series(4, burstOnly))).toBeUndefined();
    const burstThenRise = [...repeat(0.01, 30), ...repeat(0.4, 3), ...repeat(0.01, 15), ...repeat(0.1, 10)];
    expect(elevatedRegime(series(4, burstThenRise))?.start).toBe(48);
  });

  it('R1 a higher stretch just before the running regime (noise splitting it, or a burst) keeps the regime but widens its confidence set back to where the share left the floor', () => {
    const higherFirst = [...repeat(0.01, 40), ...repeat(0.4, 8), ...repeat(0.15, 12)];
    const regime = elevatedRegime(series(7, higherFirst, 500));
    expect(regime?.start).toBe(48);
    expect(regime?.low).toBe(40);
    const burstThenRise = [...repeat(0.01, 30), ...repeat(0.4, 3), ...repeat(0.01, 15), ...repeat(0.1, 10)];
    expect(elevatedRegime(series(4, burstThenRise))?.low).toBeGreaterThanOrEqual(46);
  });

  it('a drop is not an elevated regime', () => {
    expect(elevatedRegime(series(5, [...repeat(0.1, 30), ...repeat(0.01, 30)]))).toBeUndefined();
  });

  it('the confidence set holds the estimate and is wider when the step is small relative to the noise', () => {
    const sharp = elevatedRegime(series(6, [...repeat(0.01, 40), ...repeat(0.3, 20)]));
    const faint = elevatedRegime(series(6, [...repeat(0.01, 40), ...repeat(0.04, 20)], 150));
    expect(sharp && sharp.low <= sharp.start && sharp.start <= sharp.high).toBe(true);
    expect(sharp?.high).toBe(sharp?.low);
    expect(faint && faint.high - faint.low).toBeGreaterThan(0);
  });

  it('dispersion makes splits harder to claim', () => {
    const points = series(7, [...repeat(0.01, 40), ...repeat(0.025, 20)], 300);
    expect(segment(points, 1).length).toBeGreaterThan(segment(points, 50).length);
  });

  it('the penalty grows with the number of candidate split points', () => {
    expect(splitPenalty(200)).toBeGreaterThan(splitPenalty(50));
    expect(splitPenalty(120)).toBeCloseTo(2 * Math.log(120) + 6, 12);
  });
});
