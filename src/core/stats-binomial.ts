import { normalUpperTail } from './stats-normal.js';

// Likelihood-ratio machinery on counts: k events (5xx responses, slow responses) out of n requests.
// Everything the detector tests is a comparison of two such counts, so it lives here once.

/** A count of events out of a number of trials. */
export interface Counts {
  k: number;
  n: number;
}

export const ZERO_COUNTS: Counts = { k: 0, n: 0 };

export function addCounts(a: Counts, b: Counts): Counts {
  return { k: a.k + b.k, n: a.n + b.n };
}

export function share(c: Counts): number {
  return c.n > 0 ? c.k / c.n : 0;
}

const xlogy = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(y));

/** Maximised binomial log-likelihood of k in n (without the constant binomial coefficient). */
export function binomialLogLik(c: Counts): number {
  if (c.n <= 0) return 0;
  const p = c.k / c.n;
  return xlogy(c.k, p) + xlogy(c.n - c.k, 1 - p);
}

/** Likelihood-ratio statistic 2·(ℓ(a) + ℓ(b) − ℓ(a∪b)) for "a and b have different rates". */
export function splitStatistic(a: Counts, b: Counts): number {
  const g = 2 * (binomialLogLik(a) + binomialLogLik(b) - binomialLogLik(addCounts(a, b)));
  return g > 0 ? g : 0;
}

export interface OneSidedTest {
  /** Signed root of the (dispersion-scaled) likelihood-ratio statistic: > 0 when `current` is higher. */
  z: number;
  /** P-value of "current's rate is no higher than baseline's". */
  pValue: number;
}

/**
 * One-sided likelihood-ratio test that `current` has a higher event rate than `baseline`, on the
 * counts themselves (not on the ratios). `dispersion` ≥ 1 scales the statistic down for
 * extra-binomial noise (quasi-likelihood); the signed root is referred to the standard normal.
 */
export function testHigherRate(current: Counts, baseline: Counts, dispersion = 1): OneSidedTest {
  if (current.n <= 0 || baseline.n <= 0) return { z: 0, pValue: 1 };
  const g = splitStatistic(current, baseline) / Math.max(1, dispersion);
  const sign = share(current) > share(baseline) ? 1 : -1;
  const z = sign * Math.sqrt(g);
  return { z, pValue: normalUpperTail(z) };
}

/**
 * Pearson dispersion estimate of a sequence of counts around their pooled rate: ≈ 1 for binomial
 * noise, larger when the rate itself wanders from interval to interval. Never below 1; 1 when
 * there are too few intervals (fewer than 5) or no events to tell.
 */
export function dispersion(intervals: readonly Counts[]): number {
  const used = intervals.filter((c) => c.n > 0);
  if (used.length < 5) return 1;
  const pooled = used.reduce(addCounts, ZERO_COUNTS);
  const p = share(pooled);
  if (p <= 0 || p >= 1) return 1;
  let x2 = 0;
  for (const c of used) x2 += (c.k - c.n * p) ** 2 / (c.n * p * (1 - p));
  return Math.max(1, x2 / (used.length - 1));
}

/**
 * One-sided likelihood-ratio test that the event rate of `c` is below the fixed `rate`: the
 * p-value of "its rate is `rate` or more". Used to show a rate is under a limit, not just not
 * shown to be above it.
 */
export function testBelowRate(c: Counts, rate: number, dispersion = 1): OneSidedTest {
  if (c.n <= 0 || rate <= 0) return { z: 0, pValue: 1 };
  if (rate >= 1) return { z: Infinity, pValue: 0 };
  const atRate = xlogy(c.k, rate) + xlogy(c.n - c.k, 1 - rate);
  const g = Math.max(0, 2 * (binomialLogLik(c) - atRate)) / Math.max(1, dispersion);
  const z = (share(c) < rate ? 1 : -1) * Math.sqrt(g);
  return { z, pValue: normalUpperTail(z) };
}
