import { elevatedRegime } from './onset.js';
import { histogramQuantile, slowerThan, sumBuckets } from './regression-series.js';
import type { IntervalCounts } from './regression-series.js';
import { addCounts, dispersion, share, testHigherRate, ZERO_COUNTS } from './stats-binomial.js';
import type { Counts } from './stats-binomial.js';
import type { Policy } from './policy.js';

// One evaluation of one signal at one instant: the intervals seen so far (nothing after the
// evaluation time), split into the pre-deploy baseline and the elevated regime found by change-point
// detection, then tested on counts. `detectRegression` repeats it over consecutive evaluations.

export interface Evaluation {
  breach: boolean;
  /** Index (into the intervals) of the onset interval; undefined when no elevated regime was found. */
  onsetIndex: number | undefined;
  /** Confidence set of the onset, as interval indices. */
  onsetLow: number | undefined;
  onsetHigh: number | undefined;
  baseline: Counts;
  current: Counts;
  /** Selection-adjusted p-value of "current is no higher than baseline". */
  pValue: number;
}

export interface LatencyEvaluation extends Evaluation {
  baselineP99: number;
  currentP99: number;
}

/** Family-wise significance at which the regime's recent tail counts as "back down" (see `stillElevated`). */
const RECOVERY_SIGNIFICANCE = 0.05;

/**
 * False when a recent tail of the regime (its last j intervals, up to half of it) is significantly
 * below the part before it: the rise was a transient (a cold-start burst) that has ended, even if
 * the regime's pooled share is still high. Without this, a short burst at low traffic keeps the
 * pooled share up for many evaluations and passes persistence. Tails stop at half the regime
 * because the change point is placed where the counts jumped, so its first interval is often
 * extreme by selection and would alone look like "higher than what followed". Bonferroni over the
 * tails tried.
 */
function stillElevated(points: readonly Counts[], split: number, phi: number): boolean {
  const tails = Math.floor((points.length - split) / 2);
  let tail = ZERO_COUNTS;
  let head = points.slice(split).reduce(addCounts, ZERO_COUNTS);
  for (let j = 1; j <= tails; j++) {
    const p = points[points.length - j] ?? ZERO_COUNTS;
    tail = addCounts(tail, p);
    head = { k: head.k - p.k, n: head.n - p.n };
    if (testHigherRate(head, tail, phi).pValue * tails < RECOVERY_SIGNIFICANCE) return false;
  }
  return true;
}

/**
 * Tests the regime since `onsetIndex` (or since the deploy, when no change point was found) against
 * the pre-deploy intervals before it. The onset is chosen from the same data, so the p-value is
 * Bonferroni-adjusted for the number of places it could have been put; without a change point the
 * split is the deploy itself, fixed in advance, and needs no adjustment.
 */
function compare(points: readonly Counts[], beforeDeploy: number, phi: number): Omit<Evaluation, 'breach'> & { elevated: boolean } {
  const regime = elevatedRegime(points, phi);
  const split = regime ? regime.start : beforeDeploy;
  const baselineEnd = Math.min(split, beforeDeploy);
  const baseline = points.slice(0, baselineEnd).reduce(addCounts, ZERO_COUNTS);
  const current = points.slice(split).reduce(addCounts, ZERO_COUNTS);
  const test = testHigherRate(current, baseline, phi);
  const candidates = regime ? Math.max(1, points.length - 1) : 1;
  return {
    onsetIndex: regime?.start,
    onsetLow: regime?.low,
    onsetHigh: regime?.high,
    baseline,
    current,
    pValue: Math.min(1, test.pValue * candidates),
    // The onset interval is only partly inside the regime, so a breach needs at least one full
    // interval after it: persistence then counts whole intervals, and a burst spanning three
    // scrapes (one partial at each end) cannot pass a persistence of three.
    elevated: regime !== undefined && points.length - split >= 2 && stillElevated(points, split, phi),
  };
}

/** Number of intervals that ended at or before the deploy started (the baseline candidates). */
export function countBefore(intervals: readonly IntervalCounts[], deployStart: number): number {
  let i = 0;
  while (i < intervals.length && (intervals[i]?.end ?? Infinity) <= deployStart) i++;
  return i;
}

/** Error-rate evaluation: 5xx counts out of request counts. */
export function evaluateErrors(intervals: readonly IntervalCounts[], deployStart: number, policy: Policy): Evaluation {
  const points = intervals.map((iv) => ({ k: iv.errors, n: iv.requests }));
  const before = countBefore(intervals, deployStart);
  const phi = dispersion(points.slice(0, before));
  const { elevated, ...result } = compare(points, before, phi);
  const t = policy.thresholds;
  const breach =
    elevated &&
    share(result.current) > t.errorRate &&
    result.pValue < t.significance &&
    result.current.n >= t.minRequests;
  return { ...result, breach };
}

/**
 * Latency evaluation. p99 exceeds latencyRatio × the baseline p99 exactly when more than 1% of
 * requests are slower than that latency, so the test is again on counts: requests slower than the
 * largest bucket bound at or below the target latency, against the baseline's share above it.
 * Undefined when there is no histogram or no baseline to compare with.
 */
export function evaluateLatency(
  intervals: readonly IntervalCounts[],
  bounds: readonly number[],
  deployStart: number,
  policy: Policy,
): LatencyEvaluation | undefined {
  const before = countBefore(intervals, deployStart);
  const baselineP99 = histogramQuantile(0.99, bounds, sumBuckets(intervals.slice(0, before), bounds.length));
  if (baselineP99 === undefined || baselineP99 <= 0) return undefined;
  const target = baselineP99 * policy.thresholds.latencyRatio;
  let index = -1;
  bounds.forEach((b, i) => {
    if (b <= target && b !== Infinity) index = i;
  });
  if (index < 0) return undefined;
  const points = intervals.map((iv) => slowerThan(iv, index) ?? ZERO_COUNTS);
  const phi = dispersion(points.slice(0, before));
  const { elevated, ...result } = compare(points, before, phi);
  const since = result.onsetIndex ?? before;
  const currentP99 = histogramQuantile(0.99, bounds, sumBuckets(intervals.slice(since), bounds.length)) ?? 0;
  const t = policy.thresholds;
  const breach =
    elevated &&
    currentP99 >= target &&
    result.pValue < t.significance &&
    result.current.n >= t.minRequests;
  return { ...result, breach, baselineP99, currentP99 };
}
