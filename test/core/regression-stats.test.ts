import { describe, expect, it } from 'vitest';
import { binomialLogLik, dispersion, splitStatistic, testHigherRate } from '../../src/core/stats-binomial.js';
import { chiSquare1UpperTail, erfc, normalUpperTail } from '../../src/core/stats-normal.js';
import { binomial, rng } from '../support/metric-scenarios.js';

// The tail probabilities and count tests behind R5's "significantly above the baseline".

describe('R5 normal and χ² tails are accurate far out', () => {
  it.each([
    // Reference values (R: pnorm(z, lower.tail = FALSE)).
    [0, 0.5],
    [1.959963984540054, 0.025],
    [3.090232306167813, 0.001],
    [4.264890793922602, 1e-5],
    [6, 9.865876450376946e-10],
    [10, 7.619853024160525e-24],
    [-1.644853626951472, 0.95],
  ])('P(Z > %d) = %d', (z, p) => {
    expect(normalUpperTail(z) / p).toBeCloseTo(1, 8);
  });

  it('erfc across the series/continued-fraction boundary is continuous', () => {
    expect(erfc(2 - 1e-12) / erfc(2)).toBeCloseTo(1, 10);
    expect(erfc(2) / 0.004677734981047266).toBeCloseTo(1, 12);
    expect(erfc(1.5) / 0.033894853524689274).toBeCloseTo(1, 12);
    expect(erfc(2.5) / 0.000406952017444959).toBeCloseTo(1, 12);
    expect(erfc(-1) / 1.8427007929497148).toBeCloseTo(1, 12);
  });

  it('χ²(1) tail: 3.841 is the 5% point and 10.828 the 0.1% point', () => {
    expect(chiSquare1UpperTail(3.841458820694124)).toBeCloseTo(0.05, 10);
    expect(chiSquare1UpperTail(10.82756617)).toBeCloseTo(0.001, 9);
    expect(chiSquare1UpperTail(0)).toBe(1);
  });
});

describe('R5 the test is on counts, not on ratios', () => {
  it('the same shares are significant with many requests and not with few', () => {
    const many = testHigherRate({ k: 60, n: 1000 }, { k: 10, n: 1000 });
    const few = testHigherRate({ k: 6, n: 100 }, { k: 1, n: 100 });
    expect(many.pValue).toBeLessThan(1e-8);
    expect(few.pValue).toBeGreaterThan(0.01);
  });

  it('is one-sided: a drop is never significant', () => {
    expect(testHigherRate({ k: 1, n: 1000 }, { k: 50, n: 1000 }).pValue).toBeGreaterThan(0.99);
  });

  it('matches the likelihood-ratio statistic computed by hand', () => {
    const a = { k: 30, n: 500 };
    const b = { k: 10, n: 1000 };
    const g = 2 * (30 * Math.log(30 / 500) + 470 * Math.log(470 / 500) + 10 * Math.log(10 / 1000) + 990 * Math.log(990 / 1000) - (40 * Math.log(40 / 1500) + 1460 * Math.log(1460 / 1500)));
    expect(splitStatistic(a, b)).toBeCloseTo(g, 9);
    expect(testHigherRate(a, b).pValue).toBeCloseTo(chiSquare1UpperTail(g) / 2, 12);
    expect(binomialLogLik({ k: 0, n: 10 })).toBe(0);
  });

  it('dispersion scales the statistic down', () => {
    const plain = testHigherRate({ k: 30, n: 1000 }, { k: 10, n: 1000 });
    const noisy = testHigherRate({ k: 30, n: 1000 }, { k: 10, n: 1000 }, 4);
    expect(noisy.z).toBeCloseTo(plain.z / 2, 9);
  });

  it('has about its nominal false-positive rate on binomial data', () => {
    const random = rng(42);
    let rejections = 0;
    const trials = 4000;
    for (let i = 0; i < trials; i++) {
      const base = { k: binomial(random, 2000, 0.02), n: 2000 };
      const cur = { k: binomial(random, 500, 0.02), n: 500 };
      if (testHigherRate(cur, base).pValue < 0.05) rejections++;
    }
    expect(rejections / trials).toBeGreaterThan(0.03);
    expect(rejections / trials).toBeLessThan(0.07);
  });
});

describe('R5 extra-binomial noise is measured from the baseline', () => {
  it('≈ 1 for binomial intervals, larger when the share wanders, never below 1', () => {
    const random = rng(7);
    const steady = Array.from({ length: 60 }, () => ({ k: binomial(random, 1000, 0.01), n: 1000 }));
    const wandering = Array.from({ length: 60 }, (_, i) => ({ k: binomial(random, 1000, i % 2 === 0 ? 0.005 : 0.03), n: 1000 }));
    expect(dispersion(steady)).toBeLessThan(1.5);
    expect(dispersion(wandering)).toBeGreaterThan(5);
    expect(dispersion([{ k: 1, n: 10 }])).toBe(1);
    expect(dispersion(Array.from({ length: 10 }, () => ({ k: 0, n: 100 })))).toBe(1);
  });
});
