import { share, splitStatistic, testHigherRate } from './stats-binomial.js';
import type { Counts } from './stats-binomial.js';

// Change points in a count series (k events out of n requests per interval): binary segmentation
// on the binomial likelihood, then the onset of the elevated regime that is still running at the
// end of the series, with a likelihood-based confidence set for where it began.

/** A run of intervals [from, to) (indices into the series) with its pooled counts. */
export interface Segment {
  from: number;
  to: number;
  counts: Counts;
}

/** 95% point of χ²(1): the profile-likelihood drop that bounds the change point's confidence set. */
const CHI2_1_95 = 3.841;
const MAX_SEGMENTS = 8;
/** How clearly an earlier step must stand above the floor to count as the start of a ramp. */
const RAMP_STEP_SIGNIFICANCE = 0.001;

/**
 * Penalty a split's likelihood-ratio statistic must exceed. It grows with the log of the series
 * length because the best of m candidate split points is being picked (a modified-BIC penalty);
 * at m = 120 it is ≈ 15.6, roughly the χ²(1) point for p = 1e-4.
 */
export function splitPenalty(length: number): number {
  return 2 * Math.log(Math.max(length, 2)) + 6;
}

class Prefix {
  private readonly k: Float64Array;
  private readonly n: Float64Array;
  constructor(points: readonly Counts[]) {
    this.k = new Float64Array(points.length + 1);
    this.n = new Float64Array(points.length + 1);
    points.forEach((p, i) => {
      this.k[i + 1] = (this.k[i] ?? 0) + p.k;
      this.n[i + 1] = (this.n[i] ?? 0) + p.n;
    });
  }
  sum(from: number, to: number): Counts {
    return { k: (this.k[to] ?? 0) - (this.k[from] ?? 0), n: (this.n[to] ?? 0) - (this.n[from] ?? 0) };
  }
}

/** The split of [from, to) with the largest likelihood-ratio statistic, and the statistic per split point. */
function profile(prefix: Prefix, from: number, to: number): { best: number; stat: number; stats: Float64Array } {
  const stats = new Float64Array(to - from);
  let best = -1;
  let stat = 0;
  for (let tau = from + 1; tau < to; tau++) {
    const g = splitStatistic(prefix.sum(from, tau), prefix.sum(tau, to));
    stats[tau - from] = g;
    if (g > stat) {
      stat = g;
      best = tau;
    }
  }
  return { best, stat, stats };
}

/** Binary segmentation: splits while the best split's statistic (scaled by `dispersion`) beats the penalty. */
export function segment(points: readonly Counts[], dispersion = 1): Segment[] {
  const prefix = new Prefix(points);
  const penalty = splitPenalty(points.length);
  const cuts: number[] = [];
  const queue: [number, number][] = [[0, points.length]];
  while (queue.length > 0 && cuts.length < MAX_SEGMENTS - 1) {
    const [from, to] = queue.shift() ?? [0, 0];
    if (to - from < 2) continue;
    const { best, stat } = profile(prefix, from, to);
    if (best < 0 || stat / dispersion <= penalty) continue;
    cuts.push(best);
    queue.push([from, best], [best, to]);
  }
  const edges = [0, ...cuts.sort((a, b) => a - b), points.length];
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const from = edges[i] ?? 0;
    const to = edges[i + 1] ?? 0;
    if (to > from) segments.push({ from, to, counts: prefix.sum(from, to) });
  }
  return segments;
}

export interface ElevatedRegime {
  /** Index of the first interval of the elevated regime that runs to the end of the series. */
  start: number;
  /** Confidence set of `start` (indices, inclusive) from the profile likelihood. */
  low: number;
  high: number;
}

/**
 * The elevated regime still running at the end of the series, if the last segment's rate is above
 * the lowest earlier rate (the floor). It extends back over the contiguous earlier segments that
 * stand significantly above the floor without being far above the current rate, so a ramp (several
 * rising steps) starts where it left the floor, and a spike that ended does not count.
 */
export function elevatedRegime(points: readonly Counts[], dispersion = 1): ElevatedRegime | undefined {
  const segments = segment(points, dispersion);
  const last = segments[segments.length - 1];
  if (!last || segments.length < 2) return undefined;
  const current = share(last.counts);
  const floor = Math.min(...segments.slice(0, -1).map((s) => share(s.counts)));
  if (current <= floor) return undefined;
  // Earlier segments belong to the regime when they are significantly above the floor but not far
  // above the current rate: a ramp's rising steps are, a burst well above the current rate (a cold
  // start that ended) is not, and neither is the floor itself.
  const floorSegment = segments.slice(0, -1).reduce((a, b) => (share(b.counts) < share(a.counts) ? b : a));
  const ceiling = current + (current - floor) / 2;
  const aboveFloor = (s: Segment) => s !== floorSegment && testHigherRate(s.counts, floorSegment.counts, dispersion).pValue < RAMP_STEP_SIGNIFICANCE;
  const partOfRegime = (s: Segment) => share(s.counts) < ceiling && aboveFloor(s);
  let first = segments.length - 1;
  while (first > 0 && partOfRegime(segments[first - 1] ?? last)) first--;
  if (first === 0) return undefined;
  // A higher stretch just before the regime may be a burst that ended, or the same regime's noise
  // (scrape-to-scrape noise splits a long regime into pieces): the onset's confidence set reaches
  // back to where the share first left the floor, so R1 never takes a later piece for the start.
  let earliest = first;
  while (earliest > 1 && aboveFloor(segments[earliest - 1] ?? last)) earliest--;

  // Refine the change point between the floor-side segment and the regime with the profile likelihood
  // over both, and bound it by the points whose statistic is within the χ² drop of the best.
  const before = segments[first - 1] ?? last;
  const prefix = new Prefix(points);
  const from = before.from;
  const to = (segments[first] ?? last).to;
  const { best, stat, stats } = profile(prefix, from, to);
  const start = best > 0 && share(prefix.sum(best, to)) > share(prefix.sum(from, best)) ? best : (segments[first] ?? last).from;
  let low = Math.min(start, (segments[earliest] ?? last).from);
  let high = start;
  for (let tau = from + 1; tau < to; tau++) {
    if ((stat - (stats[tau - from] ?? 0)) / dispersion <= CHI2_1_95) {
      low = Math.min(low, tau);
      high = Math.max(high, tau);
    }
  }
  return { start, low, high };
}
