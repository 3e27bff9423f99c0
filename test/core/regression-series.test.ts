import { describe, expect, it } from 'vitest';
import { alignSeries, histogramQuantile, querySpan, slowerThan } from '../../src/core/regression-series.js';
import type { CounterSeries, Grid, RawServiceSeries } from '../../src/core/regression-series.js';

// Raw counters to per-interval counts: the part every source shares (R5 input).

const S = 30_000;
const T = Date.UTC(2026, 2, 2, 10, 0, 0);
const grid: Grid = { start: T, end: T + 4 * S, stepMs: S };
const counter = (code: string, points: [number, number][]): CounterSeries => ({
  labels: { code },
  samples: points.map(([i, v]) => [T + i * S, v] as const),
});
const raw = (requests: CounterSeries[], errors: CounterSeries[] = []): RawServiceSeries => ({ namespace: 'shop', service: 'checkout', requests, errors, latency: [] });
const counts = (r: RawServiceSeries) => alignSeries(r, grid).intervals.map((iv) => [(iv.end - T) / S, iv.requests, iv.errors]);

describe('R5 counters become per-interval counts', () => {
  it('differences consecutive samples, the sample at the grid start being the reference', () => {
    const ok = counter('200', [[-1, 50], [0, 100], [1, 130], [2, 170], [3, 200], [4, 260]]);
    const bad = counter('500', [[0, 5], [1, 5], [2, 9], [3, 9], [4, 10]]);
    expect(counts(raw([ok, bad], [bad]))).toEqual([[1, 30, 0], [2, 44, 4], [3, 30, 0], [4, 61, 1]]);
  });

  it('a counter reset counts the value after the reset as the increase', () => {
    const ok = counter('200', [[0, 1000], [1, 1040], [2, 15], [3, 45]]);
    expect(counts(raw([ok]))).toEqual([[1, 40, 0], [2, 15, 0], [3, 30, 0]]);
  });

  it('a series born inside the grid (a new pod, a first 5xx) counts from zero', () => {
    const ok = counter('200', [[0, 100], [1, 110], [2, 120], [3, 130]]);
    const bad = counter('500', [[2, 3], [3, 7]]);
    expect(counts(raw([ok, bad], [bad]))).toEqual([[1, 10, 0], [2, 13, 3], [3, 14, 4]]);
  });

  it('an interval without any request sample is a gap, left out, and the next one carries the catch-up', () => {
    const ok = counter('200', [[0, 100], [1, 110], [3, 150], [4, 160]]);
    expect(counts(raw([ok]))).toEqual([[1, 10, 0], [3, 40, 0], [4, 10, 0]]);
  });

  it('samples after the grid end are not read', () => {
    const ok = counter('200', [[0, 0], [1, 10], [2, 20], [3, 30], [4, 40], [5, 1e9]]);
    expect(counts(raw([ok])).at(-1)).toEqual([4, 10, 0]);
  });

  it('sources are asked to start five minutes early so every counter has a reference', () => {
    expect(querySpan(grid)).toEqual({ start: T - 300_000, end: grid.end, stepMs: S });
    expect(querySpan({ ...grid, stepMs: 70_000 }).start).toBe(T - 350_000);
  });
});

describe('R5 latency histograms', () => {
  const bounds = [0.1, 0.25, 0.5, 1, Infinity];

  it('p99 is interpolated inside its bucket like histogram_quantile', () => {
    // 1000 observations: 900 ≤ 0.1, 80 in (0.1, 0.25], 20 in (0.25, 0.5].
    expect(histogramQuantile(0.99, bounds, [900, 980, 1000, 1000, 1000])).toBeCloseTo(0.25 + 0.25 * (10 / 20), 12);
    expect(histogramQuantile(0.5, bounds, [900, 980, 1000, 1000, 1000])).toBeCloseTo(0.1 * (500 / 900), 12);
    expect(histogramQuantile(0.99, bounds, [0, 0, 0, 0, 0])).toBeUndefined();
    expect(histogramQuantile(0.99, bounds, [10, 10, 10, 10, 100])).toBe(1);
  });

  it('buckets are summed across series by le and kept cumulative', () => {
    const bucket = (le: number, pod: string, values: number[]) => ({
      le,
      labels: { le: String(le), pod },
      samples: values.map((v, i) => [T + i * S, v] as const),
    });
    const r: RawServiceSeries = {
      ...raw([counter('200', [[0, 0], [1, 20]])]),
      latency: [bucket(0.1, 'a', [0, 8]), bucket(Infinity, 'a', [0, 10]), bucket(0.1, 'b', [0, 5]), bucket(Infinity, 'b', [0, 10])],
    };
    const aligned = alignSeries(r, grid);
    expect(aligned.bounds).toEqual([0.1, Infinity]);
    expect(aligned.intervals[0]?.latency).toEqual([13, 20]);
    const first = aligned.intervals[0];
    if (first) expect(slowerThan(first, 0)).toEqual({ k: 7, n: 20 });
  });
});
