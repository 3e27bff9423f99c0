import { formatInstant } from './duration.js';
import type { Band, RecoveryStatus, Window } from './handoff-types.js';
import { segment } from './onset.js';
import type { IntervalCounts } from './regression-series.js';
import { addCounts, share, ZERO_COUNTS } from './stats-binomial.js';

// R9: is the error rate back to normal since the rollback? Levels are judged against a band
// between the pre-deploy baseline and the threshold; where the level changed is located with the
// same change-point segmentation the detector uses for the onset, so one noisy step neither
// declares a recovery nor hides one.

/** Steps pooled for "the error rate now", and how long a return to the band must hold to count as recovered. */
export const RECENT_STEPS = 5;

export const pct = (x: number): string => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;

/**
 * Healthy: at most halfway from the baseline to the threshold; elevated: above the threshold.
 * A baseline already at or above the threshold (the rollback was triggered by a rise well above
 * it) puts the band a quarter and half of the way up from the baseline to the triggering level.
 */
export function bandOf(baseline: number, triggering: number, threshold: number): Band {
  if (threshold > baseline) return { healthy: (baseline + threshold) / 2, elevated: threshold };
  const rise = Math.max(0, triggering - baseline);
  return { healthy: baseline + rise / 4, elevated: baseline + rise / 2 };
}

export function describeBand(band: Band, baseline: number, threshold: number): string {
  return threshold > baseline
    ? `≤ ${pct(band.healthy)}, halfway between the ${pct(baseline)} baseline and the ${pct(threshold)} threshold`
    : `≤ ${pct(band.healthy)}, a quarter of the way from the ${pct(baseline)} baseline to the triggering level`;
}

export interface Trace {
  /** Start of the trailing segments at or below the healthy band; undefined when the last one is above it. */
  lowSince: number | undefined;
  /** The last segment: where it starts and its pooled 5xx share. */
  last: { from: number; share: number } | undefined;
  /** Pooled share of the segment before the last. */
  previousShare: number | undefined;
}

const startOf = (iv: IntervalCounts | undefined, stepMs: number): number => (iv?.end ?? 0) - stepMs;

/** Segments the steps that start at or after `from` and reads the levels at the end. */
export function traceRecovery(intervals: readonly IntervalCounts[], from: number, band: Band, dispersion: number, stepMs: number): Trace {
  const tail = intervals.filter((iv) => startOf(iv, stepMs) >= from);
  const segments = segment(tail.map((iv) => ({ k: iv.errors, n: iv.requests })), dispersion);
  let first = segments.length;
  while (first > 0 && share(segments[first - 1]?.counts ?? ZERO_COUNTS) <= band.healthy) first--;
  const low = segments[first];
  const last = segments[segments.length - 1];
  const previous = segments[segments.length - 2];
  return {
    lowSince: low === undefined ? undefined : startOf(tail[low.from], stepMs),
    last: last === undefined ? undefined : { from: startOf(tail[last.from], stepMs), share: share(last.counts) },
    previousShare: previous === undefined ? undefined : share(previous.counts),
  };
}

export function pooled(intervals: readonly IntervalCounts[]): Window {
  const c = intervals.reduce((acc, iv) => addCounts(acc, { k: iv.errors, n: iv.requests }), ZERO_COUNTS);
  return { share: share(c), requests: c.n, steps: intervals.length };
}

export interface StatusInput {
  /** Steps that started at or after the rollback. */
  since: readonly IntervalCounts[];
  trace: Trace;
  band: Band;
  bandText: string;
  rollbackAt: number;
  stepMs: number;
  minRequests: number;
  /** End of the last step with data. */
  lastEnd: number;
}

export interface StatusResult {
  status: RecoveryStatus;
  sinceRollback: Window | undefined;
  recent: Window | undefined;
  evidence: string[];
}

/**
 * recovered: back in the healthy band for RECENT_STEPS steps, and the last RECENT_STEPS steps
 * pooled agree; recovering: back in the band for less, or below the threshold, or a new lower
 * level since the rollback; not-recovering: still above the threshold; unknown: no data or fewer
 * requests than the policy's minimum in the recent steps (F1).
 */
export function recoveryStatus(s: StatusInput): StatusResult {
  const since = pooled(s.since);
  if (s.since.length === 0 || since.requests === 0) {
    return { status: 'unknown', sinceRollback: undefined, recent: undefined, evidence: ['no requests recorded in a complete step since the rollback yet'] };
  }
  const recent = pooled(s.since.slice(-RECENT_STEPS));
  const over = `${pct(recent.share)} over the last ${recent.steps} step${recent.steps === 1 ? '' : 's'} (${Math.round(recent.requests)} requests)`;
  if (recent.requests < s.minRequests) {
    return { status: 'unknown', sinceRollback: since, recent, evidence: [`too little traffic since the rollback to tell: ${Math.round(recent.requests)} requests in the last ${recent.steps} steps, the policy needs ${s.minRequests}`] };
  }
  const { lowSince, last, previousShare } = s.trace;
  const base = { sinceRollback: since, recent };
  if (lowSince !== undefined && s.lastEnd - lowSince >= RECENT_STEPS * s.stepMs && recent.share <= s.band.healthy) {
    return { ...base, status: 'recovered', evidence: [`5xx share back in the healthy band (${s.bandText}) since ${formatInstant(lowSince)}: ${over}`] };
  }
  if (lowSince !== undefined) {
    return { ...base, status: 'recovering', evidence: [`5xx share back in the healthy band (${s.bandText}) since ${formatInstant(lowSince)}, for fewer than ${RECENT_STEPS} steps so far: ${over}`] };
  }
  const level = last?.share ?? recent.share;
  if (level <= s.band.elevated) {
    return { ...base, status: 'recovering', evidence: [`5xx share below ${pct(s.band.elevated)} but not yet back in the healthy band (${s.bandText}): ${over}`] };
  }
  if (last !== undefined && previousShare !== undefined && last.from >= s.rollbackAt - s.stepMs && last.share < previousShare) {
    return { ...base, status: 'recovering', evidence: [`5xx share falling since ${formatInstant(last.from)}: ${pct(previousShare)} → ${pct(last.share)}, still above ${pct(s.band.elevated)}; ${over}`] };
  }
  return { ...base, status: 'not-recovering', evidence: [`5xx share still above ${pct(s.band.elevated)} since the rollback at ${formatInstant(s.rollbackAt)}: ${over}`] };
}
