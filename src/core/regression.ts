import { describePersistence, MAX_PERSISTENCE_EVALUATIONS, persistenceEvaluations } from './persistence.js';
import type { Policy } from './policy.js';
import { alignSeries } from './regression-series.js';
import type { AlignedSeries, Grid, RawServiceSeries } from './regression-series.js';
import { evaluateErrors, evaluateLatency } from './regression-evaluate.js';
import type { Evaluation } from './regression-evaluate.js';
import type { DataStatus, Regression, Signal } from './regression-types.js';
import { share } from './stats-binomial.js';
import { locateOnsetInStep, onsetNeedsScrapes } from './onset-in-step.js';

// Regression detection (R1, R5 input): turns one service's metric series into the `Regression`
// the decision judges. Pure: the evaluation time is a parameter and nothing after it is read, so
// replay can ask "what was detectable at time t" without hindsight.

export const DEFAULT_STEP_MS = 30_000;
export const DEFAULT_BASELINE_MS = 30 * 60_000;
/** Evaluations looked back when counting how long a breach has persisted. */
export const MAX_PERSISTENCE_LOOKBACK = MAX_PERSISTENCE_EVALUATIONS;

/** R5: the consecutive breaching evaluations the policy's persistence asks for at its step. */
export function requiredPersistence(policy: Policy): number {
  return persistenceEvaluations(policy.thresholds.persistence, policy.metrics.stepMs ?? DEFAULT_STEP_MS);
}

/** The policy's persistence as a person reads it, at its step: "1m30s (3 evaluations at a 30s step)". */
export function describeRequiredPersistence(policy: Policy): string {
  return describePersistence(policy.thresholds.persistence, policy.metrics.stepMs ?? DEFAULT_STEP_MS);
}

export interface DetectionInput {
  series: RawServiceSeries;
  /** When the deploy's pod template change was admitted (epoch ms). */
  deployStart: number;
  /** Evaluation time (epoch ms); samples after it are ignored. */
  now: number;
  policy: Policy;
  /**
   * The service's counters at their own scrape timestamps around the deploy start (see
   * `scrapesRead`), when the source has them: an error-rate onset in the deploy's own step is
   * then placed against the deploy start from them (onset-in-step.ts).
   */
  scraped?: RawServiceSeries;
}

/** The range and step a metric source must cover for `detectRegression` at `now`. */
export function detectionGrid(deployStart: number, now: number, policy: Policy): Grid {
  const stepMs = policy.metrics.stepMs ?? DEFAULT_STEP_MS;
  const baselineMs = policy.metrics.baselineMs ?? DEFAULT_BASELINE_MS;
  const start = Math.floor((deployStart - baselineMs) / stepMs) * stepMs;
  const end = start + Math.max(0, Math.floor((now - start) / stepMs)) * stepMs;
  return { start, end, stepMs };
}

/** Whether `detectRegression` reads scrapes around the deploy start (when given) for this regression's onset. */
export function needsScrapes(regression: Regression, deployStart: number, now: number, policy: Policy): boolean {
  return (
    (regression.signal === 'error-rate' || regression.signal === 'both') &&
    onsetNeedsScrapes(regression, deployStart, now, policy.metrics.stepMs ?? DEFAULT_STEP_MS, policy.thresholds.significance)
  );
}

/** Consecutive breaching evaluations ending at the last interval (each sees only its own past). */
function persistence(evaluate: (upTo: number) => Evaluation | undefined, length: number, first: number): number {
  let count = 0;
  for (let upTo = length; upTo > first && count < MAX_PERSISTENCE_LOOKBACK; upTo--) {
    if (!evaluate(upTo)?.breach) break;
    count++;
  }
  return count;
}

function onsetOf(aligned: AlignedSeries, e: Evaluation): { onset: number; uncertainty: number } | undefined {
  const index = e.onsetIndex;
  if (index === undefined) return undefined;
  const at = (i: number): number => (aligned.intervals[i]?.end ?? 0) - aligned.stepMs;
  const onset = at(index);
  // The change is located to an interval at best, so half a step is the floor of the uncertainty.
  const uncertainty = Math.max(onset - at(e.onsetLow ?? index), at(e.onsetHigh ?? index) - onset) + aligned.stepMs / 2;
  return { onset, uncertainty };
}

/** Detects an error-rate and/or latency regression of one service as of `input.now`. */
export function detectRegression(input: DetectionInput): Regression {
  const { series, deployStart, policy } = input;
  const match = series.match !== undefined && series.match.kind !== 'exact' ? { match: series.match } : {};
  const base = { service: series.service, namespace: series.namespace, ...match };
  const aligned = alignSeries(series, detectionGrid(deployStart, input.now, policy));
  const intervals = aligned.intervals;
  if (intervals.length === 0 || series.requests.length === 0) {
    return { ...base, signal: undefined, data: 'no-data', onset: undefined };
  }
  const afterDeploy = intervals.findIndex((iv) => iv.end > deployStart);
  const first = afterDeploy < 0 ? intervals.length : afterDeploy;
  const t = policy.thresholds;

  const errorsAt = (upTo: number) => evaluateErrors(intervals.slice(0, upTo), deployStart, policy);
  const latencyAt = (upTo: number) => evaluateLatency(intervals.slice(0, upTo), aligned.bounds, deployStart, policy);
  const errors = errorsAt(intervals.length);
  const latency = latencyAt(intervals.length);
  const errorsPersisted = errors.breach ? persistence(errorsAt, intervals.length, first) : 0;
  const latencyPersisted = latency?.breach ? persistence(latencyAt, intervals.length, first) : 0;

  const data: DataStatus = errors.current.n + errors.baseline.n === 0 || errors.current.n < t.minRequests ? 'low-traffic' : 'ok';
  const needed = requiredPersistence(policy);
  const errorRegressed = data === 'ok' && errorsPersisted >= needed;
  const latencyRegressed = data === 'ok' && latencyPersisted >= needed;
  const signal: Signal | undefined =
    errorRegressed && latencyRegressed ? 'both' : errorRegressed ? 'error-rate' : latencyRegressed ? 'latency' : undefined;

  const errorOnset = errorRegressed ? onsetOf(aligned, errors) : undefined;
  const onsets = [errorOnset, latencyRegressed && latency ? onsetOf(aligned, latency) : undefined]
    .filter((o) => o !== undefined)
    .sort((a, b) => a.onset - b.onset);
  const onset = onsets[0];

  const regression: Regression = {
    ...base,
    signal,
    data,
    onset: onset?.onset,
    ...(onset ? { onsetUncertaintyMs: onset.uncertainty } : {}),
    errorRate: {
      baseline: share(errors.baseline),
      current: share(errors.current),
      baselineRequests: errors.baseline.n,
      currentRequests: errors.current.n,
      pValue: errors.pValue,
      persisted: errorsPersisted,
    },
    ...(latency
      ? {
          latency: {
            baselineP99: latency.baselineP99,
            currentP99: latency.currentP99,
            pValue: latency.pValue,
            persisted: latencyPersisted,
          },
        }
      : {}),
  };
  if (input.scraped === undefined || onset === undefined || onset !== errorOnset || !needsScrapes(regression, deployStart, input.now, policy)) return regression;
  return { ...regression, onsetInStep: locateOnsetInStep({ series: input.scraped, deployStart, now: input.now, significance: t.significance }) };
}
