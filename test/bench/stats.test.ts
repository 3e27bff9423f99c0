import { describe, expect, it } from 'vitest';
import { median, quantile } from '../../bench/stats.js';

describe('the benchmarks’ order statistics', () => {
  const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];

  it('takes the p90 of ten values as the 9th, not the largest (nearest rank)', () => {
    expect(quantile(ten, 0.9)).toBe(9);
    expect(quantile(ten, 0.99)).toBe(10);
    expect(quantile(ten, 1)).toBe(10);
    expect(quantile(ten, 0)).toBe(1);
    expect(quantile(ten, 0.1)).toBe(1);
    expect(quantile(ten, 0.11)).toBe(2);
  });

  it('sorts numerically, typed arrays too', () => {
    expect(quantile([100, 20, 3], 0.5)).toBe(20);
    expect(quantile(Float64Array.from([100, 20, 3]), 1)).toBe(100);
  });

  it('gives the mean of the two middles for an even count, the middle for an odd one', () => {
    expect(median(ten)).toBe(5.5);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('is NaN for no values', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(median([])).toBeNaN();
  });
});
